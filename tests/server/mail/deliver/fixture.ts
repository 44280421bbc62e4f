import type { Kysely } from "kysely";
import { expect } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { rawMessage, smtpSend, standardDns } from "../gateway/helpers";
import type { StartOptions } from "../../../../server/runtime";
import type { DeliveryTuning } from "../../../../server/mail/deliver/tuning";
import type { Database } from "../../../../server/db/schema";

/** Worker pacing for the deliver tests: quick retries, short leases, so a retried message comes back within a test. */
export const QUICK_DELIVERY: Partial<DeliveryTuning> = {
  retryBaseSeconds: 0.2,
  retryMaxSeconds: 0.5,
  leaseSeconds: 1,
  idlePollMs: 200,
};

/** The real gateway with its delivery worker relaying to a real smtp-server sink, as most deliver tests need it. */
export interface DeliverFixture {
  server: TestServer;
  sink: SmtpSink;
  tenantId: string;
  db(): Kysely<Database>;
  /** sendAccepted to this gateway. */
  send(from: string, to: string, content?: MessageContent): Promise<SentMessage>;
  stop(): Promise<void>;
}

/** A message the fixture sent: its bytes and its Message-ID. */
export interface SentMessage {
  raw: Buffer;
  messageId: string;
}

/** What a test may set of a sent message besides its sender and recipient. */
export type MessageContent = Omit<Parameters<typeof rawMessage>[0], "from" | "to">;

/** Sends a fresh message from `from` to `to` over real SMTP to the gateway on `smtpPort`, and expects it accepted. */
export async function sendAccepted(
  smtpPort: number,
  from: string,
  to: string,
  content: MessageContent = {},
): Promise<SentMessage> {
  const message = rawMessage({ from, to, ...content });
  const reply = await smtpSend(smtpPort, { from, to: [to] }, message.raw);
  expect(reply.ok).toBe(true);
  return message;
}

/** What differs between the deliver tests' set-ups. */
export interface DeliverFixtureOptions {
  /** Users of the default tenant, created at start (the recipients the gateway accepts). */
  users?: string[];
  /** Settings beyond MAILWARD_NEXT_HOP. */
  env?: Record<string, string>;
  /** Worker pacing on top of QUICK_DELIVERY. */
  delivery?: Partial<DeliveryTuning>;
  /** The sink's SIZE limit and TLS (startSmtpSink's options). */
  sink?: Parameters<typeof startSmtpSink>[1];
  /** Everything else startTestServer takes (default DNS: standardDns()). */
  start?: Omit<StartOptions, "delivery">;
}

/** Starts a sink, then the gateway with it as the next hop, then creates `users`. stop() it in afterAll. */
export async function startDeliverFixture(options: DeliverFixtureOptions = {}): Promise<DeliverFixture> {
  const sink = await startSmtpSink(0, options.sink ?? {});
  let server: TestServer;
  try {
    server = await startTestServer(
      { MAILWARD_NEXT_HOP: sink.address, ...options.env },
      {
        dnsResolver: standardDns(),
        ...options.start,
        delivery: { ...QUICK_DELIVERY, ...options.delivery },
      },
    );
  } catch (err) {
    await sink.close();
    throw err;
  }
  const db = () => server.mailward.services.db;
  const tenantId = await tenantOfDomain(db());
  for (const email of options.users ?? []) await buildUser(db(), { tenantId, email });
  return {
    server,
    sink,
    tenantId,
    db,
    send: (from, to, content) => sendAccepted(server.smtpPort, from, to, content),
    async stop() {
      await server.stop();
      await sink.close();
    },
  };
}
