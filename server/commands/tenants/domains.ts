import { randomBytes } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { auditActor, runCommand, type Actor, type CommandContext, type Services } from "../../context";
import { appendAudit, lockAuditLogs } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { verifiedOwnerOf } from "../../db/verified-domains";
import { systemActor } from "../../auth/actor";
import { normalizeDomain as canonicalDomain } from "../../mail/scan/sender-patterns";
import { auditLeftoverAliases, dropLeftoverAliases } from "./leftover-addresses";

/**
 * Normalises a domain name (IDN → punycode, lower case) or throws invalid_request: the same reading as a sender
 * pattern's domain, so an organisation's domain and a rule about it are spelt alike.
 */
export function normalizeDomain(input: string): string {
  const ascii = canonicalDomain(input);
  if (ascii === null) throw new ApiError("invalid_request", `"${input}" is not a valid domain name.`);
  return ascii;
}

/** One of a tenant's mail domains and the addresses in it that take mail (active people, their aliases, groups). */
export interface DomainRecord {
  domain: string;
  addedAt: Date;
  /** When the domain was proved in DNS or vouched for by the operator; null while it waits for its proof. */
  verifiedAt: Date | null;
  /** What the TXT record that proves it must say (after VERIFICATION_PREFIX); null for the operator's domains. */
  verificationToken: string | null;
  users: number;
  aliases: number;
  groups: number;
}

/** The tenant's domains with the addresses in each: what the gateway takes mail for (or will), and what stands on it. */
export async function domainsOf(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
  only?: string,
): Promise<DomainRecord[]> {
  const { rows } = await sql<DomainRecord>`
    SELECT d.domain, d.created_at AS "addedAt", d.verified_at AS "verifiedAt",
      d.verification_token AS "verificationToken",
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

/** How a new domain is vouched for: by its owner's DNS (a tenant admin in the portal) or by the server's operator. */
export type DomainProof = "dns" | "operator";

/** What a domain's TXT record must begin with; the token follows. */
export const VERIFICATION_PREFIX = "mailward-verification=";

/**
 * Serialises changes to one domain name across organisations (two claims, a claim and a proof), on both engines:
 * the unique index covers verified domains only, and this keeps a race from ending in its error instead of a 409.
 */
export async function lockDomainName(trx: Transaction<Database>, domain: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`tenant_domain:${domain}`}))`.execute(trx);
}

/**
 * The organisation that has proved a domain (verifiedOwnerOf), read under the domain's lock (lockDomainName), so the
 * answer holds until the transaction ends: a proof, an addition or a removal of the domain at that moment waits.
 */
export async function lockedOwnerOf(trx: Transaction<Database>, domain: string): Promise<string | null> {
  await lockDomainName(trx, domain);
  return verifiedOwnerOf(trx, domain);
}

/** Writes a domain's audit event (tenant.domain_*) in the command's transaction. */
export async function auditDomain(
  { trx, actor, ip, now }: Pick<CommandContext, "trx" | "actor" | "ip" | "now">,
  domain: string,
  action: "tenant.domain_added" | "tenant.domain_verified" | "tenant.domain_removed",
  details?: Record<string, unknown>,
): Promise<void> {
  await appendAudit(trx, {
    tenantId: actor.tenantId,
    ...auditActor(actor),
    action,
    targetType: "domain",
    targetId: domain,
    ...(details ? { details } : {}),
    ip,
    at: now,
  });
}

/**
 * Once an organisation has proved (or been given) `domain`, the other organisations' pending claims of it can never be
 * proved: they are removed in the same transaction, each audited in its own organisation's log as
 * tenant.domain_removed by `system:domain-proved-elsewhere` (not naming who proved it), so no admin is left with a
 * claim whose check only ever answers 409. The other organisations' aliases left in it go too (dropLeftoverAliases).
 * Called under the domain's lock (lockedOwnerOf) and before the proof's own event: it locks every audit log the proof
 * writes (the prover's, and each of those organisations') in one order before the first (lockAuditLogs). Two
 * organisations each proving a domain the other claims at the same moment would otherwise each hold its own log and
 * wait for the other's, a deadlock PostgreSQL ends by failing one of them (a 500).
 */
export async function dropRivalClaims(
  trx: Transaction<Database>,
  owner: string,
  domain: string,
  now: Date,
): Promise<void> {
  const dropped = await trx
    .deleteFrom("tenant_domains")
    .where("domain", "=", domain)
    .where("tenant_id", "!=", owner)
    .where("verified_at", "is", null)
    .returning("tenant_id")
    .execute();
  const aliases = await dropLeftoverAliases(trx, owner, domain);
  await lockAuditLogs(trx, [
    owner,
    ...dropped.map((row) => row.tenant_id),
    ...aliases.map((row) => row.tenant_id),
  ]);
  for (const { tenant_id } of dropped)
    await auditDomain(
      { trx, actor: systemActor(tenant_id, "domain-proved-elsewhere"), ip: null, now },
      domain,
      "tenant.domain_removed",
      { reason: "proved_by_another_organisation" },
    );
  await auditLeftoverAliases(trx, aliases, now);
}

/**
 * Adds a mail domain (audited as tenant.domain_added). From the portal (`dns`) it waits, taking no mail, until a TXT
 * record proves the organisation holds it (verifyOrganisationDomain); the operator's CLI (`operator`) vouches for it
 * at once, a pending one included (audited as tenant.domain_verified; other organisations' pending claims of it are
 * dropped). A domain the organisation has already is no change; one another organisation has proved is
 * already_exists. The gateway hears of it at once.
 */
export async function addOrganisationDomain(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: string,
  proof: DomainProof,
): Promise<DomainRecord> {
  const domain = normalizeDomain(input);
  const added = await runCommand(services, actor, ip, async (ctx) => {
    const { trx, now } = ctx;
    const owner = await lockedOwnerOf(trx, domain);
    if (owner !== null && owner !== actor.tenantId)
      throw new ApiError("already_exists", `${domain} belongs to another tenant.`);
    const own = await trx
      .selectFrom("tenant_domains")
      .select("verified_at")
      .where("tenant_id", "=", actor.tenantId)
      .where("domain", "=", domain)
      .executeTakeFirst();
    if (!own) {
      await trx
        .insertInto("tenant_domains")
        .values({
          tenant_id: actor.tenantId,
          domain,
          verified_at: proof === "operator" ? now : null,
          verification_token: proof === "dns" ? randomBytes(16).toString("hex") : null,
        })
        .execute();
      if (proof === "operator") await dropRivalClaims(trx, actor.tenantId, domain, now);
      await auditDomain(ctx, domain, "tenant.domain_added", { verified: proof === "operator" });
    } else if (own.verified_at === null && proof === "operator") {
      await trx
        .updateTable("tenant_domains")
        .set({ verified_at: now })
        .where("tenant_id", "=", actor.tenantId)
        .where("domain", "=", domain)
        .execute();
      await dropRivalClaims(trx, actor.tenantId, domain, now);
      await auditDomain(ctx, domain, "tenant.domain_verified", { method: "operator" });
    }
    const [record] = await domainsOf(trx, actor.tenantId, domain);
    if (!record) throw new Error(`${domain} is missing right after it was added`);
    return record;
  });
  services.signals.recipientsChanged();
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
 * an active person's alias or a group address is in a verified one, since their mail would then be refused as a relay
 * attempt; a pending domain, which takes no mail, can always go.
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
  await runCommand(services, actor, ip, async (ctx) => {
    const { trx } = ctx;
    // An alias being given in it (addUserAddress holds this lock) is waited for, then counted as in use.
    await lockDomainName(trx, domain);
    const locked = await trx
      .selectFrom("tenant_domains")
      .select("domain")
      .where("tenant_id", "=", actor.tenantId)
      .where("domain", "=", domain)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) throw new ApiError("not_found", `${domain} is not one of your organisation's domains.`);
    const [record] = await domainsOf(trx, actor.tenantId, domain);
    // A pending domain takes no mail, so nobody's mail stands on it.
    if (record && record.verifiedAt !== null && record.users + record.aliases + record.groups > 0)
      throw new ApiError("domain_in_use", inUseMessage(record));
    await trx
      .deleteFrom("tenant_domains")
      .where("tenant_id", "=", actor.tenantId)
      .where("domain", "=", domain)
      .execute();
    await auditDomain(ctx, domain, "tenant.domain_removed");
  });
  services.signals.recipientsChanged();
  services.signals.organisationChanged(actor.tenantId);
}
