import { createHash } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema";

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
    details: input.details ?? {},
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

/** Recomputes a tenant's chain from the start and reports the first broken link. */
export async function verifyAuditChain(db: Kysely<Database>, tenantId: string): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  const pageSize = 1000;
  for (;;) {
    const rows = await db
      .selectFrom("audit_events")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where("seq", ">=", expectedSeq)
      .orderBy("seq")
      .limit(pageSize)
      .execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return broken(checked, expectedSeq, `event ${expectedSeq} is missing`);
      if (row.prev_hash !== prevHash)
        return broken(checked, seq, "prev_hash does not match the previous event");
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
      if (recomputed !== row.hash) return broken(checked, seq, "the event's content does not match its hash");
      prevHash = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < pageSize) break;
  }
  const head = await db
    .selectFrom("audit_heads")
    .select(["last_seq", "last_hash"])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  // Events without a head: the row that shows where the chain ends is gone, so a cut-off end would go unseen.
  if (!head && checked > 0)
    return broken(checked, checked + 1, `the chain's head is missing after ${checked} events`);
  if (head && Number(head.last_seq) !== checked) {
    return broken(
      checked,
      checked + 1,
      `the chain ends at ${checked} but its head says ${Number(head.last_seq)}`,
    );
  }
  if (head && checked > 0 && head.last_hash !== prevHash)
    return broken(checked, checked, "the chain head does not match the last event");
  return { ok: true, checked, firstBroken: null };
}

function broken(checked: number, seq: number, reason: string): ChainVerification {
  return { ok: false, checked, firstBroken: { seq, reason } };
}
