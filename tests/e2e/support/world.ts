import { randomBytes } from "node:crypto";
import type { Role } from "../../../shared/permissions";
import { buildUser, tenantOfDomain } from "../../factories";
import {
  fakeDns,
  rawMessage,
  smtpSend,
  waitForQueueIdle,
  type SmtpReply,
} from "../../server/mail/gateway/helpers";
import { startTestServer, type TestServer } from "../../support/server";
import { startSmtpSink, type SmtpSink } from "../../support/smtp-sink";
import { ensureAddinBuild } from "./addin-build";

/** The signed-in person of the browser tests: an agent of the bootstrapped tenant (example.com). */
export interface E2EUser {
  id: string;
  email: string;
  password: string;
}

/** One real Mailward (in-process, PGlite, ephemeral ports) whose next hop is a real SMTP sink. */
export interface E2EWorld {
  server: TestServer;
  sink: SmtpSink;
  baseUrl: string;
  tenantId: string;
  agent: E2EUser;
  /** Creates another local user of the tenant (role agent unless given). */
  addUser(email: string, roles?: Role[]): Promise<E2EUser>;
  stop(): Promise<void>;
}

/** Password of every user the e2e tests create (local accounts need 12+ characters). */
export const E2E_PASSWORD = "e2e correct horse battery";

/**
 * DNS for the verdict engine: the sender domains the tests use publish SPF for the loopback sender, so
 * mail is scored on its own merits (no public DNS in tests).
 */
function e2eDns() {
  const spf = ["v=spf1 ip4:127.0.0.1 -all"];
  return fakeDns({ "nice.test": spf, "spam.example": spf, "held.example": spf, "partner.test": spf });
}

/**
 * Builds the add-in if needed, starts the sink and the server serving it, and creates the agent. `retryBaseSeconds`
 * sets the delivery backoff (default 0.2 s: deferred mail is soon tried again); `config` adds server settings.
 */
export async function startE2EWorld(
  options: { retryBaseSeconds?: number; config?: Record<string, string> } = {},
): Promise<E2EWorld> {
  const staticDir = await ensureAddinBuild();
  const sink = await startSmtpSink();
  const server = await startTestServer(
    // SMTP AUTH over loopback without a certificate: the portal's SMTP passwords are tried for real.
    { MAILWARD_NEXT_HOP: sink.address, MAILWARD_SMTP_ALLOW_INSECURE_AUTH: "true", ...options.config },
    {
      app: { staticDir },
      dnsResolver: e2eDns(),
      delivery: { retryBaseSeconds: options.retryBaseSeconds ?? 0.2, idlePollMs: 200 },
    },
  );
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  const addUser = async (email: string, roles: Role[] = ["agent"]): Promise<E2EUser> => {
    const user = await buildUser(db, {
      tenantId,
      email,
      password: E2E_PASSWORD,
      roles,
      displayName: email.split("@")[0],
    });
    return { id: user.id, email: user.email, password: E2E_PASSWORD };
  };
  const agent = await addUser("agent@example.com");
  return {
    server,
    sink,
    baseUrl: server.baseUrl,
    tenantId,
    agent,
    addUser,
    async stop() {
      await server.stop();
      await sink.close();
    },
  };
}

/** A message the tests send through the gateway, and the gateway's SMTP answer. */
export interface SentMail {
  messageId: string;
  subject: string;
  raw: Buffer;
  reply: SmtpReply;
}

/** Sends one message (plain text, or HTML with `html`) over real SMTP (nodemailer) to the server's gateway port. */
export async function sendThroughGateway(
  world: E2EWorld,
  input: { from: string; to: string; subject?: string; body?: string; name?: string; html?: boolean },
): Promise<SentMail> {
  const subject = input.subject ?? `Message ${randomBytes(3).toString("hex")}`;
  const domain = input.from.split("@")[1] ?? "outside.test";
  const messageId = `<${randomBytes(8).toString("hex")}@${domain}>`;
  const message = rawMessage({
    from: input.name ? `${input.name} <${input.from}>` : input.from,
    to: input.to,
    subject,
    messageId,
    ...(input.body ? { body: input.body } : {}),
    ...(input.html ? { contentType: "text/html; charset=utf-8" } : {}),
  });
  const reply = await smtpSend(world.server.smtpPort, { from: input.from, to: [input.to] }, message.raw);
  return { messageId, subject, raw: message.raw, reply };
}

/** Waits until the delivery queue has nothing waiting or in flight. */
export function deliveriesSettled(world: E2EWorld, timeoutMs = 60_000): Promise<void> {
  return waitForQueueIdle(world.server.mailward.services.db, timeoutMs);
}

/**
 * Sends a credential-phishing lure the built-in engine holds as `phish`: a link whose text shows paypal.com but
 * hides its real destination (a bare IP) after an @ sign. Only a security admin may release it.
 */
export function sendPhishThroughGateway(
  world: E2EWorld,
  input: { to: string; subject: string; from?: string },
): Promise<SentMail> {
  return sendThroughGateway(world, {
    from: input.from ?? "accounts@held.example",
    name: "Account Security",
    to: input.to,
    subject: input.subject,
    html: true,
    body:
      "<p>Your account is locked. Confirm your details within 24 hours:</p>" +
      '<p><a href="https://www.paypal.com@198.51.100.7/verify">https://www.paypal.com/verify</a></p>',
  });
}
