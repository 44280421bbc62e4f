import { sql, type Kysely } from "kysely";
import type { Services } from "../../context";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import type { SignInOrigin } from "./sign-in";

/** Failures before an account locks, and how long it stays locked (MAILWARD_LOCKOUT_* override these). */
export const LOCKOUT_DEFAULTS = { maxFailures: 5, lockMinutes: 15 } as const;

/** A counted attempt on an account; `locked` when it was the one that reached the threshold and locked the account. */
export interface AttemptClaim {
  locked: boolean;
}

/** A failed attempt on one account: whose, from where, and which check failed (audited). */
export interface FailureContext {
  tenantId: string;
  userId: string;
  email: string;
  origin: SignInOrigin;
  reason: string;
  claim: AttemptClaim;
}

/**
 * Counts an attempt on an account *before* its password is checked, in one conditional statement, so concurrent
 * guesses cannot all pass the lock check and outrun the lockout: the attempt that reaches the threshold locks the
 * account at once, and every later one finds it locked (null). A success clears the count and the lock; one that
 * guessed nothing wrong gives its attempt back (releaseSignInAttempt). Shared by the web sign-in and SMTP AUTH.
 * Failures count for MAILWARD_LOCKOUT_MINUTES after the latest one (`failed_login_at`), as an address's do
 * (claimAddressAttempt), whose rows are pruned past that window: a count only accounts kept would tell them apart.
 */
export async function claimSignInAttempt(
  db: Kysely<Database>,
  services: Services,
  userId: string,
): Promise<AttemptClaim | null> {
  const now = services.now();
  const { MAILWARD_LOCKOUT_THRESHOLD: threshold, MAILWARD_LOCKOUT_MINUTES: minutes } = services.config;
  const until = new Date(now.getTime() + minutes * 60_000);
  const lapsed = new Date(now.getTime() - minutes * 60_000);
  const counted = sql<number>`(CASE WHEN failed_login_at IS NULL OR failed_login_at <= ${lapsed}::timestamptz THEN 0 ELSE failed_logins END)`;
  const reaches = sql<boolean>`${counted} + 1 >= ${threshold}`;
  const claimed = await db
    .updateTable("users")
    .set({
      failed_logins: sql<number>`CASE WHEN ${reaches} THEN 0 ELSE ${counted} + 1 END`,
      locked_until: sql<Date | null>`CASE WHEN ${reaches} THEN ${until}::timestamptz ELSE locked_until END`,
      failed_login_at: now,
    })
    .where("id", "=", userId)
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]))
    .returning(sql<boolean>`locked_until > ${now}::timestamptz`.as("locked"))
    .executeTakeFirst();
  return claimed ? { locked: Boolean(claimed.locked) } : null;
}

/**
 * Gives back an attempt that guessed nothing wrong (the password was right but the TOTP code is still to come, or an
 * SMTP sign-in succeeded): the count goes back down, and a lock this very attempt set is lifted.
 */
export async function releaseSignInAttempt(
  db: Kysely<Database>,
  services: Services,
  userId: string,
  claim: AttemptClaim,
): Promise<void> {
  const threshold = services.config.MAILWARD_LOCKOUT_THRESHOLD;
  await db
    .updateTable("users")
    .set(
      claim.locked
        ? { locked_until: null, failed_logins: Math.max(0, threshold - 1) }
        : { failed_logins: sql<number>`greatest(failed_logins - 1, 0)` },
    )
    .where("id", "=", userId)
    .execute();
}

/**
 * Audits a failed attempt (claimSignInAttempt counted it already, and locked the account if it reached the
 * threshold): `auth.locked` for the attempt that locked it, else `auth.sign_in_failed`.
 */
export async function recordFailure(
  db: Kysely<Database>,
  services: Services,
  failure: FailureContext,
): Promise<void> {
  const minutes = services.config.MAILWARD_LOCKOUT_MINUTES;
  const { locked } = failure.claim;
  await db.transaction().execute((trx) =>
    appendAudit(trx, {
      tenantId: failure.tenantId,
      actorId: failure.userId,
      actorLabel: failure.email,
      action: locked ? "auth.locked" : "auth.sign_in_failed",
      targetType: "user",
      targetId: failure.userId,
      details: { reason: failure.reason, ...(locked ? { lockedMinutes: minutes } : {}) },
      ip: failure.origin.ip,
      at: services.now(),
    }),
  );
}
