import { runCommand, type Actor, type Services } from "../../context";
import { searchArchive, type SearchPage } from "../../archive/search";
import { reachesOthers, resolveScope } from "../../archive/scope";
import type { ArchiveSearchQuery } from "../../../shared/schemas/archive";
import { auditArchive } from "./audit";

/**
 * Searches the archive as the actor: their own mailboxes, or (scope=all, `archive.read_any`) the
 * mail their grants reach — that wider search is audited with the query, never the results.
 */
export async function searchArchiveAs(
  services: Services,
  actor: Actor,
  ip: string | null,
  query: ArchiveSearchQuery,
): Promise<SearchPage> {
  const scope = await resolveScope(services.db, actor, query.scope);
  const page = await searchArchive(services.db, scope, {
    q: query.q,
    limit: query.limit,
    sort: query.sort,
    cursor: query.cursor,
  });
  if (reachesOthers(scope, actor)) {
    await runCommand(services, actor, ip, ({ trx, now }) =>
      auditArchive(
        trx,
        actor,
        ip,
        "archive.searched_others",
        { type: "archive", id: null },
        { q: query.q, scope: scope.kind, paged: query.cursor !== undefined },
        now,
      ),
    );
  }
  return page;
}
