import { z } from "zod";

/**
 * One of the organisation's mail domains, with what uses it: the gateway takes mail for its people, aliases and groups
 * only while the domain is the organisation's, so IT sees what a removal would refuse before asking for it.
 */
export const organisationDomain = z.object({
  domain: z.string(),
  addedAt: z.iso.datetime({ offset: true }),
  /** verified: the gateway takes mail for it; pending: it waits for the DNS record below, and takes no mail. */
  status: z.enum(["verified", "pending"]),
  /** When it was proved in DNS or vouched for by the server's operator; null while pending. */
  verifiedAt: z.iso.datetime({ offset: true }).nullable(),
  /** For a pending domain, the TXT record that proves the organisation holds it; null once verified. */
  verificationRecord: z.object({ type: z.literal("TXT"), name: z.string(), value: z.string() }).nullable(),
  /** Active people whose sign-in address is in the domain (disabled people do not count). */
  users: z.number().int().min(0),
  /** Other addresses (aliases) in the domain, of active people. */
  aliases: z.number().int().min(0),
  /** Addresses of mail-enabled groups (from Entra ID) in the domain. */
  groups: z.number().int().min(0),
});
/** One domain as GET /api/admin/domains lists it. */
export type OrganisationDomain = z.infer<typeof organisationDomain>;

/** GET /api/admin/domains: the organisation's mail domains, by name. */
export const organisationDomainList = z.object({ items: z.array(organisationDomain) });
/** Parsed GET /api/admin/domains answer. */
export type OrganisationDomainList = z.infer<typeof organisationDomainList>;

/** POST /api/admin/domains: a domain to receive mail for (IDN or punycode; checked and normalised by the server). */
export const organisationDomainBody = z.object({ domain: z.string().trim().min(1).max(253) }).strict();
/** Parsed POST /api/admin/domains body. */
export type OrganisationDomainBody = z.infer<typeof organisationDomainBody>;

/** DELETE /api/admin/domains/:domain and POST /api/admin/domains/:domain/verify path. */
export const organisationDomainParams = z.object({ domain: z.string().min(1).max(253) });
