import type { Actor } from "../context";
import { domainOfAddress } from "../mail/scan/domains";

/**
 * Whether a person may have SMTP passwords: the gateway takes SMTP AUTH only for addresses in the
 * tenant's own domains (a partner's or guest's address would be a relay for someone else's domain).
 */
export function maySubmitMail(email: string, tenantDomains: readonly string[]): boolean {
  const domain = domainOfAddress(email);
  return tenantDomains.some((d) => d.toLowerCase() === domain);
}

/**
 * Whether the caller signed in recently enough to make a credential that outlives their session (an SMTP password):
 * a stolen session cookie must not be turned into a lasting way to send as them. A portal session counts from its
 * sign-in (a new session at every sign-in; TOTP enrolment's rotation keeps the old one's time). A bearer token is
 * Entra ID's and Office's sign-in, judged there (Conditional Access); the system never makes one.
 */
export function signedInRecently(actor: Actor, now: Date, minutes: number): boolean {
  if (actor.via === "bearer") return true;
  if (actor.via !== "session" || !actor.signedInAt) return false;
  return now.getTime() - actor.signedInAt.getTime() <= minutes * 60_000;
}
