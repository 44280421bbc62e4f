import type { OrganisationDomain } from "../../shared/schemas/domains";
import { VERIFICATION_PREFIX, type DomainRecord } from "../commands/tenants/domains";

/** The admin API's view of one of the organisation's mail domains, with the DNS record a pending one waits for. */
export function presentDomain(record: DomainRecord): OrganisationDomain {
  const pending = record.verifiedAt === null;
  return {
    domain: record.domain,
    addedAt: record.addedAt.toISOString(),
    status: pending ? "pending" : "verified",
    verifiedAt: record.verifiedAt ? record.verifiedAt.toISOString() : null,
    verificationRecord:
      pending && record.verificationToken
        ? { type: "TXT", name: record.domain, value: `${VERIFICATION_PREFIX}${record.verificationToken}` }
        : null,
    users: record.users,
    aliases: record.aliases,
    groups: record.groups,
  };
}
