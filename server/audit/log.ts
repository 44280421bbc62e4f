import { createHash } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema";
import { jsonbSafe } from "../db/jsonb-safe";

/** The hash the first event of each tenant chains from. */
export const GENESIS_HASH = "0".repeat(64);

/** One security-relevant action to record. */
export interface AuditInput {
  tenantId: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
  at?: Date;
}

/** The fields a hash covers, in a fixed order. */
interface HashedFields {
  tenantId: string;
  seq: number;
  actorId: string | null;
  actorLabel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  createdAt: string;
  prevHash: string;
}

/** Canonical JSON (sorted keys), so the hash is the same on every engine and after a round trip. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** SHA-256 over the previous hash and this event's canonical fields. */
export function hashAuditEvent(fields: HashedFields): string {
  return createHash("sha256").update(canonicalJson(fields)).digest("hex");
}

/**
 * Locks several organisations' audit logs (their head rows, made if missing) in one order, for a transaction that
 * writes to more than one of them: two such transactions taking them in the order they write could each hold a log
 * the other waits for, and PostgreSQL would abort one of them as a deadlock.
 */
export async function lockAuditLogs(trx: Transaction<Database>, tenantIds: string[]): Promise<void> {
  for (const tenantId of [...new Set(tenantIds)].sort()) {
    await trx
      .insertInto("audit_heads")
      .values({ tenant_id: tenantId, last_seq: 0, last_hash: GENESIS_HASH })
      .onConflict((oc) => oc.column("tenant_id").doNothing())
      .execute();
    await trx
      .selectFrom("audit_heads")
      .select("tenant_id")
      .where("tenant_id", "=", tenantId)
      .forUpdate()
      .execute();
  }
}

/**
 * Appends an audit event inside the caller's transaction. The tenant's chain
 * head row is locked, so concurrent appends serialise and the chain never forks.
 */
export async function appendAudit(
  trx: Transaction<Database> | Kysely<Database>,
  input: AuditInput,
): Promise<number> {
  await trx
    .insertInto("audit_heads")
    .values({ tenant_id: input.tenantId, last_seq: 0, last_hash: GENESIS_HASH })
    .onConflict((oc) => oc.column("tenant_id").doNothing())
    .execute();
  const head = await trx
    .selectFrom("audit_heads")
    .select(["last_seq", "last_hash"])
    .where("tenant_id", "=", input.tenantId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const seq = Number(head.last_seq) + 1;
  // Millisecond precision survives the timestamptz round trip on both engines.
  const createdAt = new Date(Math.floor((input.at ?? new Date()).getTime()));
  const fields: HashedFields = {
    tenantId: input.tenantId,
    seq,
    actorId: input.actorId,
    actorLabel: input.actorLabel,
    action: input.action,
    targetType: input.targetType ?? null,
    targetId: input.targetId ?? null,
    // What a request or a message put in the details must never fail the append (jsonb takes no U+0000).
    details: jsonbSafe(input.details ?? {}),
    ip: input.ip ?? null,
    createdAt: createdAt.toISOString(),
    prevHash: head.last_hash,
  };
  const hash = hashAuditEvent(fields);
  await trx
    .insertInto("audit_events")
    .values({
      tenant_id: fields.tenantId,
      seq,
      actor_id: fields.actorId,
      actor_label: fields.actorLabel,
      action: fields.action,
      target_type: fields.targetType,
      target_id: fields.targetId,
      details: JSON.stringify(fields.details),
      ip: fields.ip,
      created_at: createdAt,
      prev_hash: fields.prevHash,
      hash,
    })
    .execute();
  await trx
    .updateTable("audit_heads")
    .set({ last_seq: seq, last_hash: hash })
    .where("tenant_id", "=", input.tenantId)
    .execute();
  return seq;
}

/** Result of walking the chain: ok, or the first event whose link is broken. */
export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBroken: { seq: number; reason: string } | null;
}

function headOf(db: Kysely<Database>, tenantId: string) {
  return db
    .selectFrom("audit_heads")
    .select(["last_seq", "last_hash"])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
}

type Walk = { broken: ChainVerification } | { checked: number; lastHash: string };

/** Walks a tenant's events from the first, up to `end` (all of them when null), checking every link. */
async function walkChain(db: Kysely<Database>, tenantId: string, end: number | null): Promise<Walk> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  const pageSize = 1000;
  for (;;) {
    let page = db
      .selectFrom("audit_events")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("seq", ">=", expectedSeq);
    if (end !== null) page = page.where("seq", "<=", end);
    const rows = await page.orderBy("seq").limit(pageSize).execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq)
        return { broken: broken(checked, expectedSeq, `event ${expectedSeq} is missing`) };
      if (row.prev_hash !== prevHash)
        return { broken: broken(checked, seq, "prev_hash does not match the previous event") };
      const recomputed = hashAuditEvent({
        tenantId: row.tenant_id,
        seq,
        actorId: row.actor_id,
        actorLabel: row.actor_label,
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        details: row.details,
        ip: row.ip,
        createdAt: new Date(row.created_at).toISOString(),
        prevHash: row.prev_hash,
      });
      if (recomputed !== row.hash)
        return { broken: broken(checked, seq, "the event's content does not match its hash") };
      prevHash = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < pageSize) break;
  }
  return { checked, lastHash: prevHash };
}

/**
 * Recomputes a tenant's chain from the start and reports the first broken link. The head is read first and the
 * events up to it are checked: an append moves the head with its event in one transaction, so events appended while
 * this runs lie past that head and wait for the next check instead of raising a false alarm of tampering.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  tenantId: string,
  again = false,
): Promise<ChainVerification> {
  const head = await headOf(db, tenantId);
  const end = head ? Number(head.last_seq) : null;
  const walk = await walkChain(db, tenantId, end);
  if ("broken" in walk) return walk.broken;
  const { checked, lastHash } = walk;
  if (!head || end === null) {
    if (checked === 0) return { ok: true, checked, firstBroken: null };
    // The tenant's first event may have come, with its head, while this ran: look once more.
    if (!again && (await headOf(db, tenantId))) return verifyAuditChain(db, tenantId, true);
    // Events without a head: the row that shows where the chain ends is gone, so a cut-off end would go unseen.
    return broken(checked, checked + 1, `the chain's head is missing after ${checked} events`);
  }
  if (checked !== end)
    return broken(checked, checked + 1, `the chain ends at ${checked} but its head says ${end}`);
  if (checked > 0 && head.last_hash !== lastHash)
    return broken(checked, checked, "the chain head does not match the last event");
  // An event past the head that no append made (an append moves the head with its event), while the head stays put.
  const past = await db
    .selectFrom("audit_events")
    .select("seq")
    .where("tenant_id", "=", tenantId)
    .where("seq", ">", end)
    .executeTakeFirst();
  const moved = past ? Number((await headOf(db, tenantId))?.last_seq ?? end) !== end : true;
  if (!moved) return broken(checked, end + 1, `event ${end + 1} lies past the chain's head`);
  return { ok: true, checked, firstBroken: null };
}

function broken(checked: number, seq: number, reason: string): ChainVerification {
  return { ok: false, checked, firstBroken: { seq, reason } };
}
