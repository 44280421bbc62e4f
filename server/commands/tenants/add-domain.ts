import { domainToASCII } from "node:url";
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

/** Adds a mail domain to the actor's tenant; a domain another tenant holds is a conflict. */
export async function addTenantDomain(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: string,
): Promise<string> {
  const domain = normalizeDomain(input);
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const owner = await trx
      .selectFrom("tenant_domains")
      .select("tenant_id")
      .where("domain", "=", domain)
      .executeTakeFirst();
    if (owner && owner.tenant_id !== actor.tenantId)
      throw new ApiError("already_exists", `${domain} belongs to another tenant.`);
    if (owner) return domain;
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
    return domain;
  });
}
