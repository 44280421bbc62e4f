import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOUNDED_APPLICATION_NAME } from "../../../../server/db/connection";
import { testEngine } from "../../../support/db";
import { eventually } from "../../../support/eventually";
import { startTestServerBehindProxy, type ProxiedTestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { rawMessage, smtpSend, standardDns } from "../gateway/helpers";
import { QUICK_DELIVERY } from "./fixture";

// A firewall or NAT between Mailward and PostgreSQL that lost its state (a failover) drops every packet of the flows
// it no longer knows, without a reset, while new connections work. A statement on such a flow never ends: TCP gives
// up after ~15 minutes, or never when its answer was the part lost. The delivery worker runs on connections of its
// own that close themselves after their statement timeout + 5 s of silence, so outbound mail waits seconds for the
// path's loss to be noticed, not a quarter of an hour. The path is a real TCP proxy in front of the real PostgreSQL
// that forgets its flows. PostgreSQL only.
const STATEMENT_TIMEOUT_MS = 1_000;
let server: ProxiedTestServer;
let sink: SmtpSink;

const envelope = { from: "friend@nice.test", to: ["gina@example.com"] };

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  sink = await startSmtpSink();
  server = await startTestServerBehindProxy(
    { MAILWARD_NEXT_HOP: sink.address, MAILWARD_INGEST_COMMIT_TIMEOUT_MS: "1500" },
    { dnsResolver: standardDns(), delivery: { ...QUICK_DELIVERY, statementTimeoutMs: STATEMENT_TIMEOUT_MS } },
  );
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: "gina@example.com" });
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe.skipIf(testEngine() !== "postgres")("a network path to PostgreSQL that forgot its flows", () => {
  it("delays outbound mail by seconds: the delivery worker closes its dead connections and opens new ones", async () => {
    const before = rawMessage({ from: envelope.from, to: "gina@example.com" });
    expect(await smtpSend(server.smtpPort, envelope, before.raw)).toMatchObject({ ok: true, code: 250 });
    await sink.waitFor((messages) => messages.some((m) => m.messageId === before.messageId), 20_000);
    const workerConnections = () =>
      server.proxy
        .connections()
        .filter((connection) => connection.opening.includes(BOUNDED_APPLICATION_NAME.delivery));
    expect(workerConnections().length).toBeGreaterThan(0);

    server.proxy.forget();
    // The gateway takes mail again once its own dead connections are closed (a 451 meanwhile), on new flows.
    const after = rawMessage({ from: envelope.from, to: "gina@example.com" });
    await eventually(
      async () => (await smtpSend(server.smtpPort, envelope, after.raw)).code === 250,
      30_000,
      "the gateway to take mail on new connections",
    );
    await sink.waitFor((messages) => messages.some((m) => m.messageId === after.messageId), 30_000);
    expect(sink.withMessageId(after.messageId)).toHaveLength(1);
    expect(sink.withMessageId(before.messageId)).toHaveLength(1);
  });
});
