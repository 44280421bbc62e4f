import { sql, type Selectable } from "kysely";
import type { Services } from "../context";
import type { Database } from "../db/schema";

/** The Graph job tables worked through the same way: claimed under a lease, retried with backoff. */
export type GraphJobTable = "graph_actions" | "graph_notifications";

/** How long a claimed row is one worker's before another may take it over. */
export const JOB_LEASE_MS = 5 * 60 * 1000;

/** When a failed job row is tried again: 2 s doubling per attempt, capped at an hour, ±25 % jitter. */
export function jobRetryAt(now: Date, attempts: number): Date {
  return new Date(
    now.getTime() + Math.min(3_600_000, 2000 * 2 ** Math.min(attempts, 11)) * (0.75 + Math.random() * 0.5),
  );
}

/**
 * Claims up to `limit` due rows of a Graph job table in one statement (pending ones whose time has come, and
 * processing ones whose lease ran out), oldest first, under a lease, counting the attempt. SKIP LOCKED lets
 * several workers claim side by side.
 */
export async function claimDueJobs<T extends GraphJobTable>(
  services: Services,
  table: T,
  limit: number,
): Promise<Array<Selectable<Database[T]>>> {
  const now = services.now();
  const lockedUntil = new Date(now.getTime() + JOB_LEASE_MS);
  const result = await sql<Selectable<Database[T]>>`
    UPDATE ${sql.table(table)}
    SET state = 'processing', locked_until = ${lockedUntil}, attempts = attempts + 1
    WHERE id IN (
      SELECT id FROM ${sql.table(table)}
      WHERE (state = 'pending' AND next_attempt_at <= ${now})
         OR (state = 'processing' AND locked_until < ${now})
      ORDER BY id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING *`.execute(services.db);
  return result.rows;
}

/** Claimed rows grouped by mailbox, each group in claim (id) order: one mailbox's work runs in sequence. */
export function byMailbox<R extends { mailbox_id: string; id: number }>(
  rows: readonly R[],
): Map<string, R[]> {
  const groups = new Map<string, R[]>();
  for (const row of [...rows].sort((a, b) => a.id - b.id))
    groups.set(row.mailbox_id, [...(groups.get(row.mailbox_id) ?? []), row]);
  return groups;
}
