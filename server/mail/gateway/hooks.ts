import type { Services } from "../../context";
import { fileMessage, usersByAddress } from "../ingest";
import { smtpError, type GatewayHooks } from "./listener";

/** The tenant that receives mail for a domain, if any. */
async function tenantForDomain(services: Services, domain: string): Promise<string | null> {
  const row = await services.db.selectFrom("tenant_domains").select("tenant_id").where("domain", "=", domain.toLowerCase()).executeTakeFirst();
  return row?.tenant_id ?? null;
}

/**
 * The gateway's pipeline: recipients must be in a tenant domain (else 554,
 * no open relay); each accepted message is archived and linked to its
 * recipients before the 250 is sent.
 */
export function createGatewayHooks(services: Services): GatewayHooks {
  return {
    async onRcptTo(address) {
      const domain = address.split("@").pop() ?? "";
      if (!(await tenantForDomain(services, domain))) throw smtpError(554, `5.7.1 Relay access denied for ${address}`);
    },
    async ingest(raw, envelope) {
      const domain = envelope.rcptTo[0]?.split("@").pop() ?? "";
      const tenantId = await tenantForDomain(services, domain);
      if (!tenantId) return { accepted: false, code: 554, message: "5.7.1 Relay access denied" };
      const users = await usersByAddress(services.db, tenantId, envelope.rcptTo);
      const filed = await fileMessage(
        services.db,
        tenantId,
        raw,
        { mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo, direction: "inbound", source: "smtp", receivedAt: services.now() },
        [...users.values()].map((userId) => ({ userId, folder: "inbox" as const })),
      );
      services.metrics.messagesIngested.inc({ verdict: "archived" });
      return { accepted: true, id: filed.id };
    },
  };
}
