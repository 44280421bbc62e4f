import { createHash } from "node:crypto";
import type { Services } from "../../context";
import { verifyAgainstDummy, verifyPassword } from "../../auth/passwords";
import { hashSmtpPassword, looksLikeSmtpPassword } from "../../auth/smtp-passwords";
import type { AuthenticatedSender } from "../../mail/pipeline/index";
import { addressLockoutKey } from "./address-lockout";
import { claimSmtpAttempt, recordSmtpFailure, releaseSmtpAttempt } from "./smtp-attempt";
import { domainOfAddress } from "../../mail/scan/domains";

/**
 * Why an SMTP AUTH was refused. Logged (and audited for an account) only: the client is told the same 535 whatever it
 * is, so the answer does not tell who has an account.
 */
export type SmtpRefusal =
  /** No account signs in over SMTP with the address: nobody's, or a group's. */
  | "unknown_address"
  /** The address is a password account's, but not in a verified domain of its organisation (the gateway takes none). */
  | "outside_verified_domains"
  | "account_disabled"
  /** The address's lockout (or its account's) stands: no password was checked. */
  | "account_locked"
  /** An account password for an account with TOTP: SMTP cannot ask for the code, so it is never checked. */
  | "totp_enabled"
  /** The account signs in with Microsoft: only its SMTP passwords work. */
  | "no_account_password"
  /** MAILWARD_SMTP_ACCOUNT_PASSWORDS is off and the password is none of the person's SMTP passwords. */
  | "account_passwords_off"
  | "wrong_password";

/** What an SMTP AUTH login came to: the signed-in sender, or why it was refused (and whose account, when there is one). */
export type SubmitterCheck =
  { ok: true; sender: AuthenticatedSender } | { ok: false; refusal: SmtpRefusal; userId: string | null };

/**
 * Checks an SMTP AUTH login and logs a refusal with its real reason (never the username's text, which may be a
 * mistyped password, nor the password): null for any refusal, so the gateway answers each alike (see checkSubmitter).
 */
export async function authenticateSubmitter(
  services: Services,
  username: string,
  password: string,
  ip: string | null,
): Promise<AuthenticatedSender | null> {
  const check = await checkSubmitter(services, username, password, ip);
  if (check.ok) return check.sender;
  services.logger.info(
    { refusal: check.refusal, userId: check.userId, addressKey: addressLockoutKey(username), ip },
    "smtp auth refused",
  );
  return null;
}

/**
 * Checks an SMTP AUTH login. The username is one of the person's addresses: their primary one (whose domain, verified,
 * picks the tenant) or an alias (a device set up with an old address keeps working). Accepted: one of the person's SMTP
 * passwords (any account, including those that sign in with Microsoft; locked or not, as a random secret needs no
 * lockout), or, unless MAILWARD_SMTP_ACCOUNT_PASSWORDS is off, the account password of an enabled local account
 * without TOTP that is not locked. The account password of an account with TOTP is never checked here (SMTP cannot ask
 * for the second factor, so it would bypass it).
 *
 * Every refusal is alike to the client, whatever its reason (unknown address, alias, disabled account, account with
 * TOTP, domain not verified, locked, wrong password): the same 535 from the gateway, after the same argon2 work and
 * no sooner than the even-answer floor (the gateway's hook), and, while account passwords are accepted, counted
 * toward the same lockout a web sign-in with the address meets (claimSmtpAttempt): otherwise a web sign-in after a
 * few refusals would answer 423 for some addresses and 401 for others, and tell who has an account. With account
 * passwords off nothing is counted, for anyone.
 */
export async function checkSubmitter(
  services: Services,
  username: string,
  password: string,
  ip: string | null,
): Promise<SubmitterCheck> {
  const email = username.trim().toLowerCase();
  const user = (await submitterByPrimary(services, email)) ?? (await submitterByAlias(services, email));
  if (user && !user.disabled_at && looksLikeSmtpPassword(password)) {
    const device = await useSmtpPassword(services, user.id, password);
    if (device) {
      const credential = { kind: "smtp_password" as const, id: device.id, label: device.label };
      return { ok: true, sender: await signedIn(services, user, credential) };
    }
  }
  if (!services.config.MAILWARD_SMTP_ACCOUNT_PASSWORDS) {
    await verifyAgainstDummy(password);
    const refusal = user ? (refusalOf(user) ?? "account_passwords_off") : "unknown_address";
    return { ok: false, refusal, userId: user?.id ?? null };
  }
  const attempt = await claimSmtpAttempt(services, email, user ?? null);
  const hash = user && !attempt.locked && refusalOf(user) === null ? user.password_hash : null;
  if (!user || !hash) {
    const refusal: SmtpRefusal = attempt.locked
      ? "account_locked"
      : user
        ? (refusalOf(user) ?? "no_account_password")
        : attempt.accounts.length > 0
          ? "outside_verified_domains"
          : "unknown_address";
    await verifyAgainstDummy(password);
    await recordSmtpFailure(services, attempt, `smtp_${refusal}`, ip);
    return { ok: false, refusal, userId: user?.id ?? attempt.accounts[0]?.id ?? null };
  }
  if (!(await verifyPassword(hash, password))) {
    await recordSmtpFailure(services, attempt, "smtp_password", ip);
    return { ok: false, refusal: "wrong_password", userId: user.id };
  }
  await releaseSmtpAttempt(services, attempt);
  const sender = await signedIn(services, user, { kind: "account_password" });
  passwordStamps.set(sender, passwordStamp(hash));
  return { ok: true, sender };
}

/**
 * The account password each sender signed in with by it (a digest of its hash, in memory only, never in the trace):
 * a password change or reset writes a new hash (a fresh salt, even for the same password), which ends the session.
 */
const passwordStamps = new WeakMap<AuthenticatedSender, string>();

function passwordStamp(hash: string): string {
  return createHash("sha256").update(hash).digest("base64url");
}

/**
 * Whether an SMTP session's sign-in still stands (the gateway asks at each MAIL FROM): the person is not disabled, and
 * what they signed in with would still sign them in (the SMTP password not revoked; an account password still taken
 * for this account, and not changed or reset since). Else revoking a stolen SMTP password, resetting a stolen account
 * password, or disabling a leaver, would stop only the next AUTH, and a session already open would go on sending as
 * them.
 */
export async function signInStands(services: Services, sender: AuthenticatedSender): Promise<boolean> {
  const user = await services.db
    .selectFrom("users")
    .select(["disabled_at", "password_hash", "totp_enabled"])
    .where("id", "=", sender.userId)
    .executeTakeFirst();
  if (!user || user.disabled_at) return false;
  const credential = sender.credential;
  if (credential?.kind === "smtp_password") {
    const device = await services.db
      .selectFrom("smtp_passwords")
      .select("id")
      .where("id", "=", credential.id)
      .where("user_id", "=", sender.userId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return device !== undefined;
  }
  if (credential?.kind === "account_password")
    return (
      services.config.MAILWARD_SMTP_ACCOUNT_PASSWORDS &&
      user.password_hash !== null &&
      !user.totp_enabled &&
      passwordStamps.get(sender) === passwordStamp(user.password_hash)
    );
  return true;
}

/** Why an account password cannot sign this submitter in, whatever it is; null when it can (if right). */
function refusalOf(user: Submitter): SmtpRefusal | null {
  if (user.disabled_at) return "account_disabled";
  if (!user.password_hash) return "no_account_password";
  if (user.totp_enabled) return "totp_enabled";
  return null;
}

const SUBMITTER_COLUMNS = [
  "users.id",
  "users.tenant_id",
  "users.email",
  "users.password_hash",
  "users.disabled_at",
  "users.totp_enabled",
] as const;

/** An account that signs in over SMTP, as read for the check. */
type Submitter = NonNullable<Awaited<ReturnType<typeof submitterByPrimary>>>;

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
