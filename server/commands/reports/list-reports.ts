import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";
import type { Actor } from "../../context";
import { decodeCursor, encodeCursor, olderThan } from "../held/cursor";
import type { ReportRow } from "./create-report";

/** A report row with the keyset key it pages by. */
type Keyed = ReportRow & { sort_key: string };

function page<T extends { id: string; sort_key: string }>(
  rows: T[],
  limit: number,
  sort: string,
): { rows: T[]; nextCursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    rows: kept,
    nextCursor:
      rows.length > limit && last ? encodeCursor({ sort, value: last.sort_key, id: last.id }) : null,
  };
}

/** The caller's own reports, newest first, with their triage outcome. */
export async function listOwnReports(
  db: Kysely<Database>,
  actor: Actor,
  query: { cursor?: string | undefined; limit: number },
): Promise<{ rows: ReportRow[]; nextCursor: string | null }> {
  let q = db
    .selectFrom("reports")
    .selectAll()
    .select(sql<string>`created_at::text`.as("sort_key"))
    .where("tenant_id", "=", actor.tenantId)
    .where("reporter_id", "=", actor.userId);
  if (query.cursor) {
    const at = decodeCursor(query.cursor, "own-reports");
    q = q.where(olderThan(at, "created_at", "id"));
  }
  const rows: Keyed[] = await q
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(query.limit + 1)
    .execute();
  return page(rows, query.limit, "own-reports");
}

/** One triage queue entry: the leading report, the message, and everyone in its group. */
export interface TriageGroup {
  leader: ReportRow;
  members: Array<{ reporter: string; note: string | null }>;
  message: {
    id: string;
    from_address: string;
    subject: string;
    date: Date;
    message_id: string | null;
  } | null;
}

/** The security team's queue: one entry per reported message (duplicates merged), newest first. */
export async function listTriageQueue(
  db: Kysely<Database>,
  actor: Actor,
  query: {
    status: "open" | "confirmed" | "dismissed";
    kind?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  },
): Promise<{ groups: TriageGroup[]; nextCursor: string | null }> {
  let q = db
    .selectFrom("reports")
    .selectAll()
    .select(sql<string>`created_at::text`.as("sort_key"))
    .where("tenant_id", "=", actor.tenantId)
    .where("merged_into", "is", null)
    .where("status", "=", query.status);
  if (query.kind) q = q.where("kind", "=", query.kind as ReportRow["kind"]);
  if (query.cursor) {
    const at = decodeCursor(query.cursor, "triage");
    q = q.where(olderThan(at, "created_at", "id"));
  }
  const leaders: Keyed[] = await q
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(query.limit + 1)
    .execute();
  const { rows, nextCursor } = page(leaders, query.limit, "triage");
  return { groups: await groupsOf(db, rows), nextCursor };
}

/** One report group by its leader's id (after a triage decision), or null. */
export async function loadTriageGroup(
  db: Kysely<Database>,
  tenantId: string,
  leaderId: string,
): Promise<TriageGroup | null> {
  const leader = await db
    .selectFrom("reports")
    .selectAll()
    .where("id", "=", leaderId)
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  if (!leader) return null;
  const [group] = await groupsOf(db, [leader]);
  return group ?? null;
}

/** Attaches each leader's group members (reporters, notes) and message. */
async function groupsOf(db: Kysely<Database>, rows: ReportRow[]): Promise<TriageGroup[]> {
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) return [];
  const members = await db
    .selectFrom("reports as r")
    .innerJoin("users as u", "u.id", "r.reporter_id")
    .select(["r.id", "r.merged_into", "r.note", "u.email"])
    .where((eb) => eb.or([eb("r.id", "in", ids), eb("r.merged_into", "in", ids)]))
    .where("r.status", "!=", "undone")
    .orderBy("r.created_at")
    .execute();
  const messageIds = rows.map((r) => r.message_id).filter((id): id is string => id !== null);
  const messages =
    messageIds.length === 0
      ? []
      : await db
          .selectFrom("messages")
          .select(["id", "from_address", "subject", "date", "message_id"])
          .where("id", "in", messageIds)
          .execute();
  const byId = new Map(messages.map((m) => [m.id, m]));
  return rows.map((leader) => ({
    leader,
    members: members
      .filter((m) => (m.merged_into ?? m.id) === leader.id)
      .map((m) => ({ reporter: m.email, note: m.note })),
    message: leader.message_id ? (byId.get(leader.message_id) ?? null) : null,
  }));
}
