import type { Kysely, Transaction } from "kysely";
import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import type { Database } from "../../db/schema";
import { isUuidText } from "../../db/uuid-text";
import { appendAudit, verifyAuditChain, type ChainVerification } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { likeEscape } from "../held/cursor";
import type { AuditQuery } from "../../../shared/schemas/admin";

/** An audit row as read for listing and export. */
export interface AuditRecord {
  seq: number;
  createdAt: Date;
  actorId: string | null;
  actorLabel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  hash: string;
}

type Db = Kysely<Database> | Transaction<Database>;
type Filters = Omit<AuditQuery, "cursor" | "limit" | "format">;

/** Encodes the position after which the next page starts (events are listed newest first, by seq). */
function encodeCursor(seq: number): string {
  return Buffer.from(`a:${seq}`).toString("base64url");
}

function decodeCursor(text: string): number {
  const match = /^a:([0-9]{1,18})$/.exec(Buffer.from(text, "base64url").toString("utf8"));
  if (!match?.[1]) throw new ApiError("invalid_request", "The cursor is not valid.");
  return Number(match[1]);
}

function filtered(db: Db, tenantId: string, filters: Filters) {
  let query = db.selectFrom("audit_events").selectAll().where("tenant_id", "=", tenantId);
  if (filters.actor) {
    const actor = filters.actor;
    query = isUuidText(actor)
      ? query.where("actor_id", "=", actor.toLowerCase())
      : query.where((eb) => eb(eb.fn("lower", ["actor_label"]), "=", actor.toLowerCase()));
  }
  if (filters.action) {
    query = filters.action.endsWith("*")
      ? query.where("action", "like", `${likeEscape(filters.action.slice(0, -1))}%`)
      : query.where("action", "=", filters.action);
  }
  if (filters.target) query = query.where("target_id", "=", filters.target);
  if (filters.from) query = query.where("created_at", ">=", new Date(filters.from));
  if (filters.to) query = query.where("created_at", "<", new Date(filters.to));
  return query;
}

function toRecord(row: {
  seq: number;
  created_at: Date;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  hash: string;
}): AuditRecord {
  return {
    seq: Number(row.seq),
    createdAt: new Date(row.created_at),
    actorId: row.actor_id,
    actorLabel: row.actor_label,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: row.details,
    ip: row.ip,
    hash: row.hash,
  };
}

/** A page of a tenant's audit events, newest first, filtered by actor, action, target and time. */
export async function listAuditEvents(
  db: Db,
  tenantId: string,
  query: AuditQuery,
): Promise<{ items: AuditRecord[]; nextCursor: string | null }> {
  let select = filtered(db, tenantId, query);
  if (query.cursor) select = select.where("seq", "<", decodeCursor(query.cursor));
  const rows = await select
    .orderBy("seq", "desc")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit).map(toRecord);
  const last = page[page.length - 1];
  return { items: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null };
}

/** The most rows one CSV export holds; narrow the filters for more. */
export const AUDIT_EXPORT_MAX_ROWS = 100_000;

/** One CSV cell: quoted, and defused against spreadsheet formula injection. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

const CSV_HEADER = [
  "seq",
  "at",
  "actor_id",
  "actor",
  "action",
  "target_type",
  "target_id",
  "ip",
  "details",
  "hash",
];

function csvLine(record: AuditRecord): string {
  return [
    String(record.seq),
    record.createdAt.toISOString(),
    record.actorId ?? "",
    record.actorLabel,
    record.action,
    record.targetType ?? "",
    record.targetId ?? "",
    record.ip ?? "",
    JSON.stringify(record.details),
    record.hash,
  ]
    .map(csvCell)
    .join(",");
}

/**
 * Exports the filtered audit events as CSV (oldest first). The export is
 * itself audited, in the same transaction that reads the rows, so the record
 * shows who took a copy of what.
 */
export async function exportAuditCsv(
  services: Services,
  actor: Actor,
  ip: string | null,
  query: AuditQuery,
): Promise<{ csv: string; rows: number }> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const rows = await filtered(trx, actor.tenantId, query)
      .orderBy("seq", "asc")
      .limit(AUDIT_EXPORT_MAX_ROWS)
      .execute();
    const filters = Object.fromEntries(
      Object.entries({
        actor: query.actor,
        action: query.action,
        target: query.target,
        from: query.from,
        to: query.to,
      }).filter(([, v]) => v !== undefined),
    );
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "audit.exported",
      targetType: "audit",
      targetId: null,
      details: { filters, rows: rows.length, format: "csv" },
      ip,
      at: now,
    });
    const lines = [CSV_HEADER.join(","), ...rows.map((row) => csvLine(toRecord(row)))];
    return { csv: `${lines.join("\r\n")}\r\n`, rows: rows.length };
  });
}

/** Recomputes the actor's tenant chain (GET /api/admin/audit/verify). */
export function verifyTenantAudit(db: Kysely<Database>, tenantId: string): Promise<ChainVerification> {
  return verifyAuditChain(db, tenantId);
}
