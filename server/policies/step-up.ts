import type { Actor } from "../context";

/**
 * Whether the caller signed in recently enough to make a credential that outlives their session (an SMTP password,
 * an authenticator's secret): a stolen session cookie must not be turned into a lasting way to send as them, nor into
 * a second factor only the thief holds (a password reset keeps TOTP, so the owner would be locked out for good). A
 * portal session counts from its sign-in (a new session at every sign-in; TOTP enrolment's rotation keeps the old
 * one's time). A bearer token is Entra ID's and Office's sign-in, judged there (Conditional Access).
 */
export function signedInRecently(actor: Actor, now: Date, minutes: number): boolean {
  if (actor.via === "bearer") return true;
  if (actor.via !== "session" || !actor.signedInAt) return false;
  return now.getTime() - actor.signedInAt.getTime() <= minutes * 60_000;
}
