import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Services } from "../../context";
import type { Database } from "../../db/schema";
import type { AttemptClaim } from "./lockout";
import { inBatches } from "./prune-expired";

/** The key an address's failures are kept under: the SHA-256 of the address, trimmed and lower-cased. */
export function addressLockoutKey(address: string): string {
  return createHash("sha256").update(address.trim().toLowerCase()).digest("hex");
}

/**
 * Counts a failed password sign-in for an address that has no local account (unknown, or an account without a
 * password), the way claimSignInAttempt counts one for a real account: the same threshold, the same lock and its
 * length, the count starting again once a lock ends. So the answers are the same whether or not the address is
 * someone's: invalid_credentials until the threshold, then account_locked (null here) for MAILWARD_LOCKOUT_MINUTES,
 * and failures lapse MAILWARD_LOCKOUT_MINUTES after the latest one (`updated_at`), so such a row counts for nothing and
 * is pruned (pruneAddressFailures). One conditional upsert, so concurrent guesses cannot outrun it either. Nothing is
 * audited: there is no account, hence no organisation, to audit it for.
 */
export async function claimAddressAttempt(
  db: Kysely<Database>,
  services: Services,
  address: string,
): Promise<AttemptClaim | null> {
  const now = services.now();
  const { MAILWARD_LOCKOUT_THRESHOLD: threshold, MAILWARD_LOCKOUT_MINUTES: minutes } = services.config;
  const until = new Date(now.getTime() + minutes * 60_000);
  const lapsed = new Date(now.getTime() - minutes * 60_000);
  const firstLocks = threshold <= 1;
  const counted = sql<number>`(CASE WHEN sign_in_address_failures.updated_at <= ${lapsed}::timestamptz THEN 0 ELSE sign_in_address_failures.failed_logins END)`;
  const reaches = sql<boolean>`${counted} + 1 >= ${threshold}`;
  const claimed = await db
    .insertInto("sign_in_address_failures")
    .values({
      address_hash: addressLockoutKey(address),
      failed_logins: firstLocks ? 0 : 1,
      locked_until: firstLocks ? until : null,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .column("address_hash")
        .doUpdateSet({
          failed_logins: sql<number>`CASE WHEN ${reaches} THEN 0 ELSE ${counted} + 1 END`,
          locked_until: sql<Date | null>`CASE WHEN ${reaches} THEN ${until}::timestamptz ELSE sign_in_address_failures.locked_until END`,
          updated_at: now,
        })
        .where((eb) =>
          eb.or([
            eb("sign_in_address_failures.locked_until", "is", null),
            eb("sign_in_address_failures.locked_until", "<=", now),
          ]),
        ),
    )
    .returning(sql<boolean>`coalesce(locked_until > ${now}::timestamptz, false)`.as("locked"))
    .executeTakeFirst();
  return claimed ? { locked: Boolean(claimed.locked) } : null;
}

/**
 * Gives back an address's counted attempt that guessed nothing wrong (a device that signs in over SMTP with an alias
 * and the right account password), as releaseSignInAttempt does for an account: the count goes back down, and a lock
 * this very attempt set is lifted.
 */
export async function releaseAddressAttempt(
  db: Kysely<Database>,
  services: Services,
  address: string,
  claim: AttemptClaim,
): Promise<void> {
  const threshold = services.config.MAILWARD_LOCKOUT_THRESHOLD;
  await db
    .updateTable("sign_in_address_failures")
    .set(
      claim.locked
        ? { locked_until: null, failed_logins: Math.max(0, threshold - 1) }
        : { failed_logins: sql<number>`greatest(failed_logins - 1, 0)` },
    )
    .where("address_hash", "=", addressLockoutKey(address))
    .execute();
}

/** How many rows pruneAddressFailures deletes in one statement. */
export const ADDRESS_FAILURES_PRUNE_BATCH = 1000;

/**
 * Deletes the rows of sign_in_address_failures past the lockout window: no failure counted in the last
 * MAILWARD_LOCKOUT_MINUTES and no lock standing, so each counts for nothing, as no row would (claimAddressAttempt).
 * In batches of `batch` rows, each its own statement, until one comes back short; returns how many went. A row an
 * attempt counts again meanwhile is kept: the statement checks the window on the row it deletes.
 */
export async function pruneAddressFailures(
  db: Kysely<Database>,
  services: Services,
  now: Date,
  batch = ADDRESS_FAILURES_PRUNE_BATCH,
): Promise<number> {
  const lapsed = new Date(now.getTime() - services.config.MAILWARD_LOCKOUT_MINUTES * 60_000);
  return inBatches(batch, async () => {
    const deleted = await db
      .deleteFrom("sign_in_address_failures")
      .where("address_hash", "in", (eb) =>
        eb
          .selectFrom("sign_in_address_failures")
          .select("address_hash")
          .where("updated_at", "<=", lapsed)
          .where((w) => w.or([w("locked_until", "is", null), w("locked_until", "<=", now)]))
          .limit(batch),
      )
      .where("updated_at", "<=", lapsed)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]))
      .executeTakeFirst();
    return deleted.numDeletedRows;
  });
}
