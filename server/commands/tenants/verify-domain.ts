import { runCommand, type Actor, type Services } from "../../context";
import { ApiError } from "../../http/errors";
import { DNS_OFFLINE, isNoSuchRecord } from "../../mail/scan/dns";
import { verifiedByEntra } from "../../graph/entra-domains";
import {
  auditDomain,
  domainsOf,
  dropRivalClaims,
  lockedOwnerOf,
  normalizeDomain,
  VERIFICATION_PREFIX,
  type DomainRecord,
} from "./domains";

/**
 * The TXT records at `domain`, each record's strings joined (RFC 7208 §3.3: a long record comes in 255-byte chunks).
 * No such name or no TXT record is an empty list; a lookup that fails (timeout, SERVFAIL, offline DNS) is a 503 that
 * says to try again, since the record may well be there.
 */
async function txtRecordsAt(services: Services, domain: string): Promise<string[]> {
  try {
    const answers = await services.dns(domain, "TXT");
    return answers.map((chunks) => (Array.isArray(chunks) ? chunks.map(String).join("") : String(chunks)));
  } catch (error) {
    if (isNoSuchRecord(error)) return [];
    const code = (error as { code?: unknown }).code;
    throw new ApiError(
      "service_unavailable",
      code === DNS_OFFLINE
        ? `This server does not look up DNS (MAILWARD_DNS=offline), so it cannot check ${domain}'s TXT record. The server's operator can add the domain with "npm run mailward -- domain add ${domain}".`
        : `Looking up ${domain}'s TXT records failed (${typeof code === "string" ? code : "no answer"}). Try again in a few minutes.`,
    );
  }
}

/**
 * How the organisation proves it holds `domain`: Microsoft has verified it for the organisation's Entra directory
 * (no record of ours needed), or its TXT records say `mailward-verification=<token>`. Neither: domain_not_verified,
 * saying what to publish.
 */
async function proofOf(
  services: Services,
  tenantId: string,
  domain: string,
  token: string,
): Promise<"entra" | "dns_txt"> {
  if (await verifiedByEntra(services, tenantId, domain)) return "entra";
  const expected = `${VERIFICATION_PREFIX}${token}`;
  const records = await txtRecordsAt(services, domain);
  if (records.some((record) => record.trim() === expected)) return "dns_txt";
  const found =
    records.length === 0
      ? "it has no TXT records"
      : `it has ${records.length} other TXT ${records.length === 1 ? "record" : "records"}`;
  throw new ApiError(
    "domain_not_verified",
    `${domain} has no TXT record "${expected}" yet (${found}). Add it at your DNS host; new records can take up to an hour to appear, then check again.`,
  );
}

/**
 * Checks a pending domain's proof: Microsoft's own verification of it for the organisation's Entra directory (with the
 * Graph connector), else a TXT record at the domain saying `mailward-verification=<its token>`. When it is
 * there the domain takes mail from now on (audited as tenant.domain_verified, every gateway instance hears of it;
 * other organisations' pending claims of it are dropped);
 * when it is not, domain_not_verified says what to publish and changes nothing. A verified domain is no change; one
 * another organisation proved first is already_exists.
 */
export async function verifyOrganisationDomain(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: string,
): Promise<DomainRecord> {
  const domain = normalizeDomain(input);
  const [pending] = await domainsOf(services.db, actor.tenantId, domain);
  if (!pending) throw new ApiError("not_found", `${domain} is not one of your organisation's domains.`);
  if (pending.verifiedAt !== null) return pending;
  const method = await proofOf(services, actor.tenantId, domain, pending.verificationToken ?? "");
  const verified = await runCommand(services, actor, ip, async (ctx) => {
    const { trx, now } = ctx;
    const owner = await lockedOwnerOf(trx, domain);
    if (owner !== null && owner !== actor.tenantId)
      throw new ApiError("already_exists", `${domain} has been proved by another organisation.`);
    const updated = await trx
      .updateTable("tenant_domains")
      .set({ verified_at: now })
      .where("tenant_id", "=", actor.tenantId)
      .where("domain", "=", domain)
      .where("verified_at", "is", null)
      // The token that was found: not a newer one, had the domain been removed and added again meanwhile.
      .where("verification_token", "=", pending.verificationToken)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) {
      await dropRivalClaims(trx, actor.tenantId, domain, now);
      await auditDomain(ctx, domain, "tenant.domain_verified", { method });
    }
    const [record] = await domainsOf(trx, actor.tenantId, domain);
    if (!record) throw new ApiError("not_found", `${domain} is not one of your organisation's domains.`);
    if (record.verifiedAt === null)
      throw new ApiError(
        "domain_not_verified",
        `${domain} was added again while it was being checked. Check it again.`,
      );
    return record;
  });
  services.signals.recipientsChanged();
  services.signals.organisationChanged(actor.tenantId);
  return verified;
}
