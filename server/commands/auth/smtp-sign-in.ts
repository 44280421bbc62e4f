import type { Services } from "../../context";
import { verifyAgainstDummy, verifyPassword } from "../../auth/passwords";
import { hashSmtpPassword, looksLikeSmtpPassword } from "../../auth/smtp-passwords";
import type { AuthenticatedSender } from "../../mail/pipeline/index";
import { claimSignInAttempt, recordFailure, releaseSignInAttempt } from "./lockout";
import { claimAddressAttempt } from "./address-lockout";
import { domainOfAddress } from "../../mail/scan/domains";

/**
 * Checks an SMTP AUTH login. The username is one of the person's addresses: their primary one (whose domain
 * picks the tenant) or an alias (a device set up with an old address keeps working). Accepted: one of the person's SMTP
 * passwords (any account, including those that sign in with Microsoft), or, unless
 * MAILWARD_SMTP_ACCOUNT_PASSWORDS is off, the account password of a local account without TOTP that is
 * not locked. The account password of an account with TOTP is never checked here (SMTP cannot ask for
 * the second factor, so it would bypass it). A wrong account password counts toward the same lockout as
 * the web sign-in. Every refusal is the same null, after the same argon2 work where a password is
 * involved, so the answer tells nothing about the account. While account passwords are accepted, a failure for an
 * address without an account password (unknown, or signing in with Microsoft) counts under the address
 * (claimAddressAttempt), as the web sign-in counts it: otherwise wrong SMTP passwords would lock a real account's web
 * sign-in (423) but not an unknown address's (401), and tell who has an account.
 */
export async function authenticateSubmitter(
  services: Services,
  username: string,
  password: string,
  ip: string | null,
): Promise<AuthenticatedSender | null> {
  const email = username.trim().toLowerCase();
  const user = (await submitterByPrimary(services, email)) ?? (await submitterByAlias(services, email));
  const accountPasswords = services.config.MAILWARD_SMTP_ACCOUNT_PASSWORDS;
  if (!user || user.disabled_at) {
    if (!user && accountPasswords) await claimAddressAttempt(services.db, services, email);
    await verifyAgainstDummy(password);
    return null;
  }
  const device = looksLikeSmtpPassword(password) ? await useSmtpPassword(services, user.id, password) : null;
  if (device) return signedIn(services, user, { kind: "smtp_password", id: device.id, label: device.label });
  if (accountPasswords && !user.password_hash) await claimAddressAttempt(services.db, services, email);
  const locked = user.locked_until !== null && new Date(user.locked_until) > services.now();
  if (!accountPasswords || !user.password_hash || user.totp_enabled || locked) {
    await verifyAgainstDummy(password);
    return null;
  }
  // Counted before the password is checked, as on the web, so concurrent guesses cannot outrun the lockout.
  const claim = await claimSignInAttempt(services.db, services, user.id);
  if (!claim) {
    await verifyAgainstDummy(password);
    return null;
  }
  if (!(await verifyPassword(user.password_hash, password))) {
    await recordFailure(services.db, services, {
      tenantId: user.tenant_id,
      userId: user.id,
      email: user.email,
      origin: { ip, userAgent: null },
      reason: "smtp_password",
      claim,
    });
    return null;
  }
  await releaseSignInAttempt(services.db, services, user.id, claim);
  return signedIn(services, user, { kind: "account_password" });
}

const SUBMITTER_COLUMNS = [
  "users.id",
  "users.tenant_id",
  "users.email",
  "users.password_hash",
  "users.disabled_at",
  "users.locked_until",
  "users.totp_enabled",
] as const;

/** The account whose primary address this is (the address's domain picks the tenant). */
function submitterByPrimary(services: Services, email: string) {
  return services.db
    .selectFrom("users")
    .innerJoin("tenant_domains", "tenant_domains.tenant_id", "users.tenant_id")
    .select(SUBMITTER_COLUMNS)
    .where("tenant_domains.domain", "=", domainOfAddress(email))
    .where("tenant_domains.verified_at", "is not", null)
    .where((eb) => eb(eb.fn("lower", ["users.email"]), "=", email))
    .executeTakeFirst();
}

/**
 * The account this address is another address of: a device set up with an alias (or with a person's old address,
 * which a rename in Entra made an alias) signs in as the person.
 */
function submitterByAlias(services: Services, email: string) {
  return services.db
    .selectFrom("user_addresses")
    .innerJoin("users", "users.id", "user_addresses.user_id")
    .select(SUBMITTER_COLUMNS)
    .where("user_addresses.address", "=", email)
    .executeTakeFirst();
}

/** The signed-in sender with the other addresses (aliases) they may send from, read only once the login succeeded. */
async function signedIn(
  services: Services,
  user: { id: string; tenant_id: string; email: string },
  credential: NonNullable<AuthenticatedSender["credential"]>,
): Promise<AuthenticatedSender> {
  const aliases = await services.db
    .selectFrom("user_addresses")
    .select("address")
    .where("user_id", "=", user.id)
    .execute();
  return {
    userId: user.id,
    tenantId: user.tenant_id,
    email: user.email.toLowerCase(),
    addresses: aliases.map((a) => a.address),
    credential,
  };
}

/** The person's SMTP password in force that the text is, or null; records its use when there is one. */
async function useSmtpPassword(
  services: Services,
  userId: string,
  password: string,
): Promise<{ id: string; label: string } | null> {
  const used = await services.db
    .updateTable("smtp_passwords")
    .set({ last_used_at: services.now() })
    .where("user_id", "=", userId)
    .where("secret_hash", "=", hashSmtpPassword(password))
    .where("revoked_at", "is", null)
    .returning(["id", "label"])
    .executeTakeFirst();
  return used ?? null;
}
