import { sql, type Kysely, type Transaction } from "kysely";
import { runCommand, type Actor, type Services } from "../../context";
import type { Database } from "../../db/schema";
import { countExpired, purgeExpiredBatch } from "../../archive/retention";
import type { PurgeResult, RetentionPolicy } from "../../../shared/schemas/archive";
import { auditArchive } from "./audit";

/** The tenant's retention rules (none: keep forever). */
export async function listRetentionPolicies(services: Services, actor: Actor): Promise<RetentionPolicy[]> {
  return retentionPoliciesOf(services.db, actor.tenantId);
}

async function retentionPoliciesOf(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
): Promise<RetentionPolicy[]> {
  const rows = await db
    .selectFrom("archive_retention_policies")
    .select(["direction", "keep_days"])
    .where("tenant_id", "=", tenantId)
    .orderBy("direction")
    .execute();
  return rows.map((r) => ({ direction: r.direction, keepDays: r.keep_days }));
}

/**
 * Replaces the tenant's retention rules (one per direction at most); audited with before and after. Two replacements
 * at once are serialised per organisation: each deleted the rules its statement saw, so the second then inserted
 * beside the first's new rows (a unique violation, a 500), and its audit event named a "before" already gone.
 */
export async function setRetentionPolicies(
  services: Services,
  actor: Actor,
  ip: string | null,
  policies: RetentionPolicy[],
): Promise<RetentionPolicy[]> {
  const byDirection = new Map(policies.map((p) => [p.direction, p]));
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`retention:${actor.tenantId}`}))`.execute(trx);
    const before = await retentionPoliciesOf(trx, actor.tenantId);
    await trx.deleteFrom("archive_retention_policies").where("tenant_id", "=", actor.tenantId).execute();
    for (const policy of byDirection.values()) {
      await trx
        .insertInto("archive_retention_policies")
        .values({
          tenant_id: actor.tenantId,
          direction: policy.direction,
          keep_days: policy.keepDays,
          updated_by: actor.via === "system" ? null : actor.userId,
          updated_at: now,
        })
        .execute();
    }
    await auditArchive(
      trx,
      actor,
      ip,
      "archive.retention_changed",
      { type: "tenant", id: actor.tenantId },
      { before, after: [...byDirection.values()] },
      now,
    );
  });
  return listRetentionPolicies(services, actor);
}

/** Messages one purge transaction deletes at most: ~0.4 s of PGlite's one connection on 2 cores (0.16 ms each). */
export const PURGE_TRANSACTION_MESSAGES = 2_500;

/**
 * Purges the tenant's expired mail (or, with dryRun, only counts it). Legal holds and mail still in use are never
 * touched. A purge runs in transactions of at most `batch` messages, each audited as `archive.purged` with what it
 * deleted (never message content), the last one also with what stays expired and why; a dry run is one transaction,
 * audited as `archive.purge_dry_run`. Answers the totals. `stopped` (the retention job's) ends it between two
 * transactions.
 */
export async function purgeArchive(
  services: Services,
  actor: Actor,
  ip: string | null,
  dryRun: boolean,
  options: { batch?: number; stopped?: () => boolean } = {},
): Promise<PurgeResult> {
  const batch = options.batch ?? PURGE_TRANSACTION_MESSAGES;
  const total: PurgeResult = {
    dryRun,
    expired: 0,
    purged: 0,
    keptByLegalHold: 0,
    keptInUse: 0,
    storedBytesFreed: 0,
  };
  for (let more = true; more;) {
    const step = await runCommand(services, actor, ip, async ({ trx, now }) => {
      const done = dryRun
        ? { counts: await countExpired(trx, actor.tenantId, now), more: false }
        : await purgeExpiredBatch(trx, actor.tenantId, now, batch);
      const { purgedIds, ...summary } = done.counts;
      await auditArchive(
        trx,
        actor,
        ip,
        dryRun ? "archive.purge_dry_run" : "archive.purged",
        { type: "tenant", id: actor.tenantId },
        { ...summary, dryRun, sample: purgedIds.slice(0, 20) },
        now,
      );
      return { summary, more: done.more };
    });
    total.expired += step.summary.expired;
    total.purged += step.summary.purged;
    total.keptByLegalHold += step.summary.keptByLegalHold;
    total.keptInUse += step.summary.keptInUse;
    total.storedBytesFreed += step.summary.storedBytesFreed;
    // A stopping server ends the purge between two transactions; the next round goes on from there.
    more = step.more && !(options.stopped?.() ?? false);
  }
  return total;
}
