import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";
import type { Actor } from "../../context";
import { decodeCursor, encodeCursor, olderThan } from "./cursor";
import { cappedCount, findHeldItems, type HeldRow } from "./queries";

/** One release request with its held item. */
export interface ReleaseRequestRow {
  id: string;
  status: "pending" | "approved" | "denied" | "expired";
  note: string | null;
  created_at: Date;
  requester: string;
  held: HeldRow;
}

/**
 * How many release requests of a status the security admin's queue holds, counted up to `cap` (the Review tab's
 * badge), with the list's own conditions, and without reading each request's held message as the list does.
 */
export async function countReleaseRequests(
  db: Kysely<Database>,
  actor: Actor,
  status: ReleaseRequestRow["status"],
  cap: number,
): Promise<{ count: number; more: boolean }> {
  const firstRows = requestsOf(db, actor, status)
    .select("r.id")
    .limit(cap + 1)
    .as("c");
  return cappedCount(db, firstRows, cap);
}

/** The tenant's release requests of a status with their requester: what both the list and its count read. */
function requestsOf(db: Kysely<Database>, actor: Actor, status: ReleaseRequestRow["status"]) {
  return db
    .selectFrom("release_requests as r")
    .innerJoin("users as u", "u.id", "r.requester_id")
    .where("r.tenant_id", "=", actor.tenantId)
    .where("r.status", "=", status);
}

/** The security admin's queue of release requests in their tenant, newest first, keyset-paged. */
export async function listReleaseRequests(
  db: Kysely<Database>,
  actor: Actor,
  query: { status: ReleaseRequestRow["status"]; cursor?: string | undefined; limit: number },
): Promise<{ rows: ReleaseRequestRow[]; nextCursor: string | null }> {
  let q = requestsOf(db, actor, query.status).select([
    "r.id",
    "r.status",
    "r.note",
    "r.created_at",
    "r.held_item_id",
    "u.email",
    sql<string>`r.created_at::text`.as("sort_key"),
  ]);
  if (query.cursor) {
    const at = decodeCursor(query.cursor, "requests");
    q = q.where(olderThan(at, "r.created_at", "r.id"));
  }
  const rows = await q
    .orderBy("r.created_at", "desc")
    .orderBy("r.id", "desc")
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const heldById = await findHeldItems(
    db,
    page.map((r) => r.held_item_id),
  );
  const out: ReleaseRequestRow[] = [];
  for (const r of page) {
    const held = heldById.get(r.held_item_id);
    if (held)
      out.push({
        id: r.id,
        status: r.status,
        note: r.note,
        created_at: r.created_at,
        requester: r.email,
        held,
      });
  }
  const last = page[page.length - 1];
  return {
    rows: out,
    nextCursor:
      rows.length > query.limit && last
        ? encodeCursor({ sort: "requests", value: last.sort_key, id: last.id })
        : null,
  };
}
