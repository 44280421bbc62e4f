import type { AuthCheck } from "./auth";
import { isPublicAddress } from "./client-ip";
import { isOwnDomain, sameOrganisation } from "./domains";
import type { ScanInput, Signal, TenantContext } from "./types";
import { signal } from "./weights";

/**
 * What the own-domain check reads of sender authentication: the four results, what passed for which domain, and
 * whether a check that could have vouched for the From domain could not be made.
 */
export type SpoofEvidence = Pick<AuthCheck, "auth" | "passed" | "alignedUndecided">;

/**
 * Mail from the Internet that says it is from one of our own domains, and that nothing vouches for.
 * The commonest fraud against a customer-service team ("From: ceo@our-company") passes every
 * display-name and lookalike check, because the address is exactly ours; when the domain publishes
 * no DMARC policy, or only p=none, no other check holds it either.
 *
 * Vouched for: DMARC passed, a DKIM signature of the same organisational domain passed, or SPF
 * passed for the same organisational domain (relaxed alignment, RFC 7489 §3.1). Never flagged:
 * our own users' submissions (SMTP AUTH), mail from a private, loopback or CGNAT address (a
 * printer or an application server on our network), mail that did not come over SMTP (Graph,
 * imports: no client IP), and a DMARC check, or an SPF or DKIM check for our organisation's domain, that DNS could
 * not complete (temperror: our outage, not theirs). A temperror for another domain leaves it flagged: a forger's own
 * MAIL FROM or DKIM domain answering SERVFAIL vouches for nothing of ours. `check` is
 * mailauth's (`checkAuthentication`) or rspamd's (`rspamdSpoofEvidence`); null when the check did not complete.
 */
export function ownDomainSpoofSignal(
  input: Pick<ScanInput, "envelope">,
  from: { address: string; domain: string },
  tenant: TenantContext,
  check: SpoofEvidence | null,
): Signal | null {
  if (input.envelope.authenticated || !check) return null;
  if (!from.domain || !isOwnDomain(from.domain, tenant.domains)) return null;
  if (!input.envelope.clientIp || !isPublicAddress(input.envelope.clientIp)) return null;
  const { auth, passed } = check;
  if (auth.dmarc === "temperror" || check.alignedUndecided) return null;
  if (auth.dmarc === "pass" || passed.dkimAligned) return null;
  if (passed.spfDomain && sameOrganisation(passed.spfDomain, from.domain)) return null;
  return signal(
    "impersonation.own_domain",
    `It says it is from our own address ${from.address}, but came from outside (${input.envelope.clientIp}) and nothing proves ${from.domain} sent it (no aligned SPF, DKIM or DMARC pass).`,
  );
}
