import type { Writable } from "node:stream";
import { runCommand, type Actor, type Services } from "../../context";
import { inScope } from "../../archive/access";
import {
  EXPORT_LIMIT,
  exportEntries,
  writeMboxExport,
  writeZipExport,
  type ExportEntry,
} from "../../archive/export";
import { reachesOthers, resolveScope } from "../../archive/scope";
import { parseOrReject } from "../../archive/search";
import { ApiError } from "../../http/errors";
import type { ArchiveExportBody } from "../../../shared/schemas/archive";
import { auditArchive } from "./audit";

/** A prepared export: what it holds, and how to stream it. */
export interface PreparedExport {
  entries: ExportEntry[];
  format: "zip" | "mbox";
  write(out: Writable): Promise<void>;
}

/**
 * Exports what a query (or a list of ids) selects within the caller's scope; needs `archive.export`
 * (checked by the route), and `archive.read_any` for scope=all. Audited before the first byte goes out;
 * ids outside the scope are refused as not found, and more matches than one export holds (`limit`) are refused
 * rather than cut short: an export for a case or a request must hold everything it says it does.
 */
export async function prepareExport(
  services: Services,
  actor: Actor,
  ip: string | null,
  body: ArchiveExportBody,
  limit = EXPORT_LIMIT,
): Promise<PreparedExport> {
  const ast = parseOrReject(body.q ?? "");
  const scope = await resolveScope(services.db, actor, body.scope);
  const entries = await exportEntries(services.db, scope, ast, body.ids ?? null, limit);
  if (entries.length > limit)
    throw new ApiError(
      "export_too_large",
      `More than ${limit.toLocaleString("en")} messages match, and one export holds at most that many. Narrow the query, for example with after: and before: dates, and export in parts.`,
    );
  if (body.ids && entries.length < new Set(body.ids).size && !body.q) {
    const links = await services.db
      .selectFrom("mailbox_links")
      .select(["message_id", "user_id"])
      .where("message_id", "in", body.ids)
      .execute();
    const missing = body.ids.find(
      (id) =>
        !entries.some((e) => e.id === id) &&
        !inScope(
          scope,
          links.filter((l) => l.message_id === id).map((l) => l.user_id),
        ),
    );
    if (missing) throw new ApiError("not_found", "A message in the list was not found.");
  }
  const meta = {
    exportedBy: actor.email,
    exportedAt: services.now().toISOString(),
    query: body.q ?? null,
    scope: scope.kind,
    format: body.format,
  };
  await runCommand(services, actor, ip, ({ trx, now }) =>
    auditArchive(
      trx,
      actor,
      ip,
      "archive.exported",
      { type: "archive", id: null },
      {
        q: body.q ?? null,
        ids: body.ids?.length ?? 0,
        format: body.format,
        count: entries.length,
        scope: scope.kind,
        others: reachesOthers(scope, actor),
      },
      now,
    ),
  );
  return {
    entries,
    format: body.format,
    write: (out) =>
      body.format === "zip"
        ? writeZipExport(services.db, actor.tenantId, entries, meta, out)
        : writeMboxExport(services.db, actor.tenantId, entries, meta, out),
  };
}
