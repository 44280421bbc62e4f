import type { Kysely } from "kysely";
import type { Actor } from "../context";
import type { Database } from "../db/schema";
import { ApiError } from "../http/errors";
import { readAnyReachOf } from "../policies/mail";
import { inTeamsOfOwnGroup } from "../db/team-members";

/** Whose mail a search or export reads: one tenant, all of it or some users' mailbox links. */
export type ArchiveScope =
  { tenantId: string; kind: "tenant" } | { tenantId: string; kind: "users"; userIds: string[] };

/** What the caller asked for: only their own mailboxes, or everything their `archive.read_any` reaches. */
export type ScopeRequest = "own" | "all";

/**
 * The mailboxes `archive.read_any` reaches for this actor (readAnyReachOf, the same as for held messages): the whole
 * tenant, or the members of the teams (of the team's own partner group: inTeamsOfOwnGroup) and partner groups it
 * covers (plus their own).
 */
export async function readAnyReach(db: Kysely<Database>, actor: Actor): Promise<ArchiveScope> {
  const reach = readAnyReachOf(actor);
  if (reach.kind === "tenant") return { tenantId: actor.tenantId, kind: "tenant" };
  const { teamIds: teams, partnerIds: partners } = reach;
  const userIds = new Set<string>([actor.userId]);
  const rows = await db
    .selectFrom("users")
    .select("id")
    .where("tenant_id", "=", actor.tenantId)
    .where((eb) =>
      eb.or([
        ...(teams.length ? [inTeamsOfOwnGroup(eb, teams)] : []),
        ...(partners.length ? [eb("partner_id", "in", partners)] : []),
      ]),
    )
    .execute();
  for (const row of rows) userIds.add(row.id);
  return { tenantId: actor.tenantId, kind: "users", userIds: [...userIds] };
}

/** Resolves the scope of a search/export; `all` without `archive.read_any` is a 403. */
export async function resolveScope(
  db: Kysely<Database>,
  actor: Actor,
  requested: ScopeRequest,
): Promise<ArchiveScope> {
  if (requested === "own") {
    if (!actor.permissions.has("archive.read_own")) throw new ApiError("forbidden");
    return { tenantId: actor.tenantId, kind: "users", userIds: [actor.userId] };
  }
  if (!actor.permissions.has("archive.read_any"))
    throw new ApiError("forbidden", "Searching other people's mail needs the archive.read_any permission.");
  return readAnyReach(db, actor);
}

/** True when a scope reaches beyond the actor's own mailbox (such reads are audited). */
export function reachesOthers(scope: ArchiveScope, actor: Actor): boolean {
  return scope.kind === "tenant" || scope.userIds.some((id) => id !== actor.userId);
}
