import { sql } from "kysely";
import type { Services } from "../context";
import { systemActor } from "../auth/actor";
import { actorLabel } from "../context";
import { appendAudit } from "../audit/log";
import { learnFromDueReports } from "../commands/reports/learn";
import { pruneAddressFailures } from "../commands/auth/address-lockout";
import { pruneExpiredPasswordLinks, pruneExpiredSessions } from "../commands/auth/prune-expired";
import { runDueDigests, type DigestRun } from "../mail/digest/schedule";
import { startPeriodicJob, type RunningJob } from "./periodic";

/** How often the self-service jobs run: digests are due at minute precision, expiry and learning are cheap. */
export const SELF_SERVICE_INTERVAL_MS = 60_000;

/**
 * Expires held items past their retention (the tenant's `quarantineRetentionDays`,
 * default 14, is stamped on each item as `expires_at` when it is held): status
 * `expired`, pending release requests closed. The archive copy is kept. Audited
 * once per tenant and batch. Returns how many items expired.
 */
export async function expireHeldItems(services: Services, now: Date, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await services.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom("held_items")
        .select(["id", "tenant_id"])
        .where("status", "in", ["held", "release_requested"])
        .where("expires_at", "<=", now)
        .orderBy("expires_at")
        .limit(batch)
        .forUpdate()
        .skipLocked()
        .execute();
      if (due.length === 0) return 0;
      const ids = due.map((d) => d.id);
      await trx
        .updateTable("held_items")
        .set({ status: "expired", acted_at: now, acted_by: null })
        .where("id", "in", ids)
        .execute();
      await trx
        .updateTable("release_requests")
        .set({ status: "expired", decided_at: now, decision_note: "The message expired before a decision." })
        .where("held_item_id", "in", ids)
        .where("status", "=", "pending")
        .execute();
      const byTenant = new Map<string, string[]>();
      for (const d of due) byTenant.set(d.tenant_id, [...(byTenant.get(d.tenant_id) ?? []), d.id]);
      for (const [tenantId, tenantIds] of byTenant) {
        const actor = systemActor(tenantId, "held-expiry");
        await appendAudit(trx, {
          tenantId,
          actorId: null,
          actorLabel: actorLabel(actor),
          action: "held.expired",
          targetType: "held_item",
          targetId: null,
          details: { count: tenantIds.length, ids: tenantIds.slice(0, 100) },
          at: now,
        });
      }
      return due.length;
    });
    total += expired;
    if (expired < batch) return total;
  }
}

/** What one round of the self-service jobs did. */
export interface SelfServiceRound {
  expired: number;
  learned: number;
  digests: DigestRun;
  /** Rows of sign_in_address_failures past the lockout window, deleted. */
  addressFailuresPruned: number;
  /** Expired sessions, deleted. */
  sessionsPruned: number;
  /** Expired password-reset and invitation links (password_resets), deleted. */
  passwordLinksPruned: number;
}

/** A running self-service scheduler: `runOnce(now?)` runs one round now (tests, CLI). */
export type SelfServiceJobs = RunningJob<SelfServiceRound, Date>;

/**
 * Starts the self-service scheduler: every minute it expires held items, lets
 * the classifier learn from reports whose undo window closed, sends the
 * digests that are due, prunes the sign-in failures of addresses without an
 * account once past the lockout window, and deletes expired sessions and password links. Rounds never overlap;
 * stop() waits for the current one.
 */
export function startSelfServiceJobs(
  services: Services,
  intervalMs = SELF_SERVICE_INTERVAL_MS,
): SelfServiceJobs {
  return startPeriodicJob<SelfServiceRound, Date>(
    async (stopped, at) => {
      const now = at ?? services.now();
      const expired = await expireHeldItems(services, now);
      const learned = stopped() ? 0 : await learnFromDueReports(services, now);
      const digests = stopped() ? { slots: 0, digests: 0, items: 0 } : await runDueDigests(services, now);
      const addressFailuresPruned = stopped() ? 0 : await pruneAddressFailures(services.db, services, now);
      const sessionsPruned = stopped() ? 0 : await pruneExpiredSessions(services.db, now);
      const passwordLinksPruned = stopped() ? 0 : await pruneExpiredPasswordLinks(services.db, now);
      return { expired, learned, digests, addressFailuresPruned, sessionsPruned, passwordLinksPruned };
    },
    { intervalMs, onError: (err) => services.logger.error({ err }, "self-service jobs failed") },
  );
}

/** Counts held items per status in a tenant (admin stats and tests). */
export async function heldStatusCounts(
  services: Services,
  tenantId: string,
): Promise<Record<string, number>> {
  const rows = await services.db
    .selectFrom("held_items")
    .select(["status", sql<number>`count(*)::int`.as("n")])
    .where("tenant_id", "=", tenantId)
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
