import type { Kysely } from "kysely";
import type { Database } from "../../db/schema";

/** How many rows one pruning statement of pruneExpiredSessions / pruneExpiredPasswordLinks deletes. */
export const EXPIRED_PRUNE_BATCH = 1000;

/**
 * Runs `deleteBatch` (one bounded statement, returning how many rows it deleted) until one comes back short; returns
 * the total. Every pruning of the jobs round deletes this way (sessions, password links, address failures).
 */
export async function inBatches(batch: number, deleteBatch: () => Promise<bigint>): Promise<number> {
  let total = 0;
  for (;;) {
    const count = Number(await deleteBatch());
    total += count;
    if (count < batch) return total;
  }
}

/**
 * Deletes sessions past their `expires_at`: findSession and preview tickets already treat them as none, so nothing
 * can use them, but the rows (the session token's hash, the person's IP and user agent) stayed for ever. A live
 * session is kept, as is one rotated or signed in meanwhile (each statement checks the expiry on the row it deletes).
 * No table references sessions. In batches of `batch` rows, each its own statement; returns how many went.
 */
export async function pruneExpiredSessions(
  db: Kysely<Database>,
  now: Date,
  batch = EXPIRED_PRUNE_BATCH,
): Promise<number> {
  return inBatches(batch, async () => {
    const deleted = await db
      .deleteFrom("sessions")
      .where("id", "in", (eb) =>
        eb.selectFrom("sessions").select("id").where("expires_at", "<=", now).limit(batch),
      )
      .where("expires_at", "<=", now)
      .executeTakeFirst();
    return deleted.numDeletedRows;
  });
}

/**
 * Deletes password-reset and invitation links (password_resets) past their `expires_at`: confirmPasswordReset refuses
 * them already (reset_link_invalid, as for a link that never existed). A link still valid (unused, unexpired) is
 * kept; a used one goes once its expiry passes. No table references password_resets; what happened with a link is in
 * the audit log (auth.password_reset, auth.invite_accepted). In batches of `batch` rows; returns how many went.
 */
export async function pruneExpiredPasswordLinks(
  db: Kysely<Database>,
  now: Date,
  batch = EXPIRED_PRUNE_BATCH,
): Promise<number> {
  return inBatches(batch, async () => {
    const deleted = await db
      .deleteFrom("password_resets")
      .where("id", "in", (eb) =>
        eb.selectFrom("password_resets").select("id").where("expires_at", "<=", now).limit(batch),
      )
      .where("expires_at", "<=", now)
      .executeTakeFirst();
    return deleted.numDeletedRows;
  });
}
