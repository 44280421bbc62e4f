import type { OrganisationDomain } from "../../shared/schemas/domains";
import type { DomainRecord } from "../commands/tenants/domains";

/** The admin API's view of one of the organisation's mail domains. */
export function presentDomain(record: DomainRecord): OrganisationDomain {
  return {
    domain: record.domain,
    addedAt: record.addedAt.toISOString(),
    users: record.users,
    aliases: record.aliases,
    groups: record.groups,
  };
}
