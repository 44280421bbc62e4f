import { domainToASCII } from "node:url";
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";

/** Normalises a domain name (IDN → punycode, lower case) or throws invalid_request. */
export function normalizeDomain(input: string): string {
  const ascii = domainToASCII(input.trim().toLowerCase().replace(/\.$/, ""));
  if (!ascii || ascii.length > 253 || !/^([a-z0-9](-*[a-z0-9])*)(\.[a-z0-9](-*[a-z0-9])*)+$/.test(ascii)) {
    throw new ApiError("invalid_request", `"${input}" is not a valid domain name.`);
  }
  return ascii;
}

/** One of a tenant's mail domains and the addresses in it that take mail (active people, their aliases, groups). */
export interface DomainRecord {
  domain: string;
  addedAt: Date;
  users: number;
  aliases: number;
  groups: number;
}

/** The tenant's domains with the addresses in each: what the gateway takes mail for, and what stands on it. */
async function domainsOf(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
  only?: string,
): Promise<DomainRecord[]> {
  const { rows } = await sql<DomainRecord>`
    SELECT d.domain, d.created_at AS "addedAt",
      (SELECT count(*) FROM users u
        WHERE u.tenant_id = d.tenant_id AND u.disabled_at IS NULL
          AND split_part(lower(u.email), '@', 2) = d.domain)::int AS users,
      (SELECT count(*) FROM user_addresses a JOIN users u ON u.id = a.user_id
        WHERE a.tenant_id = d.tenant_id AND u.disabled_at IS NULL
          AND split_part(a.address, '@', 2) = d.domain)::int AS aliases,
      (SELECT count(*) FROM group_addresses g
        WHERE g.tenant_id = d.tenant_id AND split_part(g.address, '@', 2) = d.domain)::int AS groups
    FROM tenant_domains d
    WHERE d.tenant_id = ${tenantId} ${only === undefined ? sql`` : sql`AND d.domain = ${only}`}
    ORDER BY d.domain`.execute(db);
  return rows;
}

/** The organisation's mail domains, by name, with the addresses in each. */
export function listTenantDomains(services: Services, tenantId: string): Promise<DomainRecord[]> {
  return domainsOf(services.db, tenantId);
}

/**
 * Adds a mail domain (audited as tenant.domain_added; a domain the organisation has already is no change, another
 * organisation's is already_exists) and tells the gateway, whose lookalike checks compare senders with these domains.
 */
export async function addOrganisationDomain(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: string,
): Promise<DomainRecord> {
  const domain = normalizeDomain(input);
  const added = await runCommand(services, actor, ip, async ({ trx, now }) => {
    const owner = await trx
      .selectFrom("tenant_domains")
      .select("tenant_id")
      .where("domain", "=", domain)
      .executeTakeFirst();
    if (owner && owner.tenant_id !== actor.tenantId)
      throw new ApiError("already_exists", `${domain} belongs to another tenant.`);
    if (!owner) {
      await trx.insertInto("tenant_domains").values({ tenant_id: actor.tenantId, domain }).execute();
      await appendAudit(trx, {
        tenantId: actor.tenantId,
        ...auditActor(actor),
        action: "tenant.domain_added",
        targetType: "domain",
        targetId: domain,
        ip,
        at: now,
      });
    }
    const [record] = await domainsOf(trx, actor.tenantId, domain);
    if (!record) throw new Error(`${domain} is missing right after it was added`);
    return record;
  });
  services.signals.organisationChanged(actor.tenantId);
  return added;
}

/** Says what still uses a domain, for the refusal to remove it. */
function inUseMessage(record: DomainRecord): string {
  const parts = [
    record.users > 0 ? `${record.users} ${record.users === 1 ? "person" : "people"}` : null,
    record.aliases > 0 ? `${record.aliases} other ${record.aliases === 1 ? "address" : "addresses"}` : null,
    record.groups > 0 ? `${record.groups} ${record.groups === 1 ? "group" : "groups"}` : null,
  ].filter((part): part is string => part !== null);
  return `${record.domain} still has ${parts.join(", ")}: the gateway would refuse their mail. Disable those people or take the addresses away first.`;
}

/**
 * Stops taking mail for a domain (audited as tenant.domain_removed). Refused (domain_in_use) while an active person,
 * an active person's alias or a group address is in it, since their mail would then be refused as a relay attempt.
 * A disabled person does not hold a domain: from then on their mail is refused too. Every gateway instance forgets
 * the domain at once.
 */
export async function removeOrganisationDomain(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: string,
): Promise<void> {
  const domain = normalizeDomain(input);
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    const locked = await trx
      .selectFrom("tenant_domains")
      .select("domain")
      .where("tenant_id", "=", actor.tenantId)
      .where("domain", "=", domain)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) throw new ApiError("not_found", `${domain} is not one of your organisation's domains.`);
    const [record] = await domainsOf(trx, actor.tenantId, domain);
    if (record && record.users + record.aliases + record.groups > 0)
      throw new ApiError("domain_in_use", inUseMessage(record));
    await trx
      .deleteFrom("tenant_domains")
      .where("tenant_id", "=", actor.tenantId)
      .where("domain", "=", domain)
      .execute();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "tenant.domain_removed",
      targetType: "domain",
      targetId: domain,
      ip,
      at: now,
    });
  });
  services.signals.recipientsChanged();
  services.signals.organisationChanged(actor.tenantId);
}
