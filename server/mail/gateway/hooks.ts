import type { Services } from "../../context";
import { verifyAgainstDummy, verifyPassword } from "../../auth/passwords";
import type { AuthenticatedSender, MailPipeline } from "../pipeline/index";
import { smtpError, type GatewayHooks } from "./listener";

/**
 * Checks an SMTP AUTH login against a user's local password. The address's
 * domain picks the tenant; disabled users, users without a local password and
 * wrong passwords all answer null after the same argon2 work.
 */
export async function authenticateSubmitter(
  services: Services,
  username: string,
  password: string,
): Promise<AuthenticatedSender | null> {
  const email = username.trim().toLowerCase();
  const domain = email.split("@").pop() ?? "";
  const user = await services.db
    .selectFrom("users")
    .innerJoin("tenant_domains", "tenant_domains.tenant_id", "users.tenant_id")
    .select(["users.id", "users.tenant_id", "users.email", "users.password_hash", "users.disabled_at"])
    .where("tenant_domains.domain", "=", domain)
    .where((eb) => eb(eb.fn("lower", ["users.email"]), "=", email))
    .executeTakeFirst();
  if (!user || !user.password_hash || user.disabled_at) {
    await verifyAgainstDummy(password);
    return null;
  }
  if (!(await verifyPassword(user.password_hash, password))) return null;
  return { userId: user.id, tenantId: user.tenant_id, email: user.email.toLowerCase() };
}

/**
 * The gateway's hooks over the mail pipeline. Recipients: an outside address
 * is a relay attempt (554) unless the sender signed in; an address in one of
 * our domains must be a user (550 5.1.1). Each message then goes through the
 * pipeline, which commits before the 250.
 */
export function createGatewayHooks(services: Services, pipeline: MailPipeline): GatewayHooks {
  return {
    async onRcptTo(address, sender) {
      const [lookup] = await pipeline.directory.lookupRecipients([address]);
      if (!lookup) throw smtpError(501, "5.1.3 Bad recipient address syntax");
      if (lookup.kind === "unknown_user")
        throw smtpError(550, `5.1.1 <${address}>: Recipient address rejected: User unknown`);
      if (lookup.kind === "external" && !sender)
        throw smtpError(554, `5.7.1 <${address}>: Relay access denied`);
    },
    authenticate: (username, password) => authenticateSubmitter(services, username, password),
    async ingest(raw, envelope) {
      const outcome = await pipeline.process({
        raw,
        source: "smtp",
        envelope: {
          mailFrom: envelope.mailFrom,
          rcptTo: envelope.rcptTo,
          clientIp: envelope.clientIp,
          helo: envelope.helo,
          tls: envelope.tls,
          sender: envelope.authenticatedUser,
        },
      });
      if (outcome.kind === "accepted") return { accepted: true, id: outcome.messageIds[0] ?? "" };
      return { accepted: false, code: outcome.code, message: outcome.message };
    },
  };
}
