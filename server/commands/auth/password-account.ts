import type { Selectable } from "kysely";
import type { Services } from "../../context";
import type { UsersTable } from "../../db/schema";
import { verifyAgainstDummy, verifyPassword } from "../../auth/passwords";
import { ApiError } from "../../http/errors";
import type { SignInOrigin } from "./sign-in";
import { claimSignInAttempt, recordFailure, releaseSignInAttempt, type AttemptClaim } from "./lockout";
import { claimAddressAttempt } from "./address-lockout";

/** The account a password is for, and its counted attempt. */
export interface PasswordAccount {
  user: Selectable<UsersTable> & { password_hash: string };
  claim: AttemptClaim;
}

/**
 * The local account an address and password sign in to. One address can be a person in several organisations (a
 * partner's agent serving two customers at the vendor's address, a domain no organisation here has verified; each
 * organisation makes its own account), so the account is the one whose password it is, not whichever the database
 * returns first: otherwise another organisation inviting the address could stop its owner signing in, or count their
 * attempts against the wrong account. Each account's attempt is counted before its password is checked
 * (claimSignInAttempt); the accounts it was not for get theirs back, and when it is none of them each counts a
 * failure. An address without a password account (unknown, or signing in with Microsoft only) answers as a real
 * account would: its failures are counted under the address (claimAddressAttempt), the same argon2 work is done, then
 * invalid_credentials, and account_locked once it reached the threshold; otherwise the 423 of a locked account,
 * against the 401 of an unknown address, would tell who has an account.
 */
export async function passwordAccount(
  services: Services,
  email: string,
  password: string,
  origin: SignInOrigin,
): Promise<PasswordAccount> {
  const { db } = services;
  const now = services.now();
  const rows = await db
    .selectFrom("users")
    .selectAll()
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email.toLowerCase()))
    .where("password_hash", "is not", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const accounts = rows.filter((u): u is PasswordAccount["user"] => u.password_hash !== null);
  if (accounts.length === 0) {
    if (!(await claimAddressAttempt(db, services, email))) throw new ApiError("account_locked");
    await verifyAgainstDummy(password);
    throw new ApiError("invalid_credentials");
  }
  const claimed: PasswordAccount[] = [];
  for (const user of accounts) {
    if (user.locked_until && new Date(user.locked_until) > now) continue;
    const claim = await claimSignInAttempt(db, services, user.id);
    if (claim) claimed.push({ user, claim });
  }
  if (claimed.length === 0) throw new ApiError("account_locked");
  let match: PasswordAccount | null = null;
  for (const candidate of claimed)
    if (!match && (await verifyPassword(candidate.user.password_hash, password))) match = candidate;
  for (const { user, claim } of claimed) {
    if (match?.user.id === user.id) continue;
    if (match) await releaseSignInAttempt(db, services, user.id, claim);
    else
      await recordFailure(db, services, {
        tenantId: user.tenant_id,
        userId: user.id,
        email: user.email,
        origin,
        reason: "password",
        claim,
      });
  }
  if (match) return match;
  throw new ApiError(claimed.length < accounts.length ? "account_locked" : "invalid_credentials");
}
