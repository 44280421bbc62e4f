import type { Services } from "../../context";
import { claimSignInAttempt, recordFailure, releaseSignInAttempt, type AttemptClaim } from "./lockout";
import { claimAddressAttempt, releaseAddressAttempt } from "./address-lockout";

/** A password account an SMTP AUTH attempt was counted against. */
interface CountedAccount {
  id: string;
  tenant_id: string;
  email: string;
  claim: AttemptClaim;
}

/** The account the username signs in to over SMTP (by its address or an alias), as far as counting goes. */
export interface SubmitterAccount {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string | null;
}

/** One counted SMTP AUTH attempt: where it was counted, to give it back on success or record it as a failure. */
export interface SmtpAttempt {
  /** The address typed (trimmed, lower-cased). */
  address: string;
  /** Password accounts it was counted against, each with its claim. */
  accounts: CountedAccount[];
  /** Its count under the address itself, when the address is no password account's (unknown, alias, Microsoft-only). */
  addressClaim: AttemptClaim | null;
  /** A lock stands: the address's (every account it names is locked, or the address is), or the submitter's own. */
  locked: boolean;
}

/**
 * Counts an SMTP AUTH attempt, before any password is checked (so concurrent guesses cannot outrun the lockout),
 * where the web sign-in counts one for the same address: against each password account whose address it is
 * (whatever its state: disabled, with TOTP, on a domain not yet verified), else under the address itself
 * (claimAddressAttempt: unknown, an alias, an account without a password). So after the threshold a web sign-in with
 * that address answers 423 account_locked whatever the SMTP refusal was, and the lockout tells nobody which addresses
 * are someone's. An alias's attempt is a guess at its account's password too, so it also counts against that account
 * (`submitter`), else each alias would bring its own allowance of guesses.
 */
export async function claimSmtpAttempt(
  services: Services,
  address: string,
  submitter: SubmitterAccount | null,
): Promise<SmtpAttempt> {
  const { db } = services;
  const named = await db
    .selectFrom("users")
    .select(["id", "tenant_id", "email"])
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", address))
    .where("password_hash", "is not", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const accounts: CountedAccount[] = [];
  let addressClaim: AttemptClaim | null = null;
  let locked = false;
  if (named.length === 0) {
    addressClaim = await claimAddressAttempt(db, services, address);
    locked = addressClaim === null;
  }
  for (const account of named) {
    const claim = await claimSignInAttempt(db, services, account.id);
    if (claim) accounts.push({ ...account, claim });
  }
  if (named.length > 0 && accounts.length === 0) locked = true;
  if (submitter?.password_hash) {
    const counted = named.some((account) => account.id === submitter.id);
    const claim = counted ? null : await claimSignInAttempt(db, services, submitter.id);
    if (claim)
      accounts.push({ id: submitter.id, tenant_id: submitter.tenant_id, email: submitter.email, claim });
    // Its own lock stands whichever way it was counted: its password is not checked.
    if (!accounts.some((account) => account.id === submitter.id)) locked = true;
  }
  return { address, accounts, addressClaim, locked };
}

/** Gives the attempt back everywhere it was counted: the password was right. */
export async function releaseSmtpAttempt(services: Services, attempt: SmtpAttempt): Promise<void> {
  for (const account of attempt.accounts)
    await releaseSignInAttempt(services.db, services, account.id, account.claim);
  if (attempt.addressClaim)
    await releaseAddressAttempt(services.db, services, attempt.address, attempt.addressClaim);
}

/**
 * Records a refused attempt on each account it was counted against (audited as auth.sign_in_failed, or auth.locked
 * for the one that reached the threshold, with `reason`); an address without an account has no one to audit it for.
 */
export async function recordSmtpFailure(
  services: Services,
  attempt: SmtpAttempt,
  reason: string,
  ip: string | null,
): Promise<void> {
  for (const account of attempt.accounts)
    await recordFailure(services.db, services, {
      tenantId: account.tenant_id,
      userId: account.id,
      email: account.email,
      origin: { ip, userAgent: null },
      reason,
      claim: account.claim,
    });
}
