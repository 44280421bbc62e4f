import { domainOfAddress } from "../mail/scan/domains";

/**
 * Whether a person may have SMTP passwords: the gateway takes SMTP AUTH only for addresses in the
 * tenant's own domains (a partner's or guest's address would be a relay for someone else's domain).
 */
export function maySubmitMail(email: string, tenantDomains: readonly string[]): boolean {
  const domain = domainOfAddress(email);
  return tenantDomains.some((d) => d.toLowerCase() === domain);
}
