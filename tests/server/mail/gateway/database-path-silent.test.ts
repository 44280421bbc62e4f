import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOUNDED_APPLICATION_NAME, SILENT_PATH_GRACE_MS } from "../../../../server/db/connection";
import { testEngine } from "../../../support/db";
import { eventually } from "../../../support/eventually";
import { startTestServerBehindProxy, type ProxiedTestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns } from "./helpers";

// A network path to PostgreSQL that drops everything (a failed switch, a firewall that silently discards) is not a
// database that stops answering: PostgreSQL never sees the gateway's statement, so its statement_timeout never
// cancels it, and TCP keeps a connection with bytes in flight for ~15 minutes (for ever behind a proxy or NAT that
// keeps the socket open, as the proxy here does). The gateway answers 451 4.3.0 at MAILWARD_INGEST_COMMIT_TIMEOUT_MS
// either way; this is about what it does with its connections: it closes each one that has heard nothing for the limit
// plus a grace (one still opening too), and so takes mail again as soon as the path is back. The path is a real TCP
// proxy in front of the real PostgreSQL, holding every byte while silent. PostgreSQL only.
const COMMIT_TIMEOUT_MS = 1_500;
let server: ProxiedTestServer;

const envelope = { from: "friend@nice.test", to: ["gina@example.com"] };

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  server = await startTestServerBehindProxy(
    { MAILWARD_INGEST_COMMIT_TIMEOUT_MS: String(COMMIT_TIMEOUT_MS) },
    { dnsResolver: standardDns() },
  );
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: "gina@example.com" });
  await buildUser(db, { tenantId, email: "ivy@example.com" });
});

afterAll(async () => {
  await server?.stop();
});

const gatewayConnections = () =>
  server.proxy
    .connections()
    .filter((connection) => connection.opening.includes(BOUNDED_APPLICATION_NAME.gateway));

describe.skipIf(testEngine() !== "postgres")("a network path to PostgreSQL that goes silent", () => {
  it("answers 451 4.3.0, closes the gateway's connections on the dead path, and takes mail again once it is back", async () => {
    const before = rawMessage({ from: envelope.from, to: "gina@example.com" });
    expect(await smtpSend(server.smtpPort, envelope, before.raw)).toMatchObject({ ok: true, code: 250 });
    expect(gatewayConnections().length).toBeGreaterThan(0);

    server.proxy.silence();
    const during = rawMessage({ from: envelope.from, to: "gina@example.com" });
    const reply = await smtpSend(server.smtpPort, envelope, during.raw);
    expect(reply).toMatchObject({ ok: false, code: 451 });
    expect(reply.response).toMatch(/4\.3\.0/);
    // A recipient the gateway has not looked up yet: RCPT TO waits on the path too, and gets a 451 of its own.
    const toIvy = { from: envelope.from, to: ["ivy@example.com"] };
    const forIvy = rawMessage({ from: envelope.from, to: "ivy@example.com" });
    expect(await smtpSend(server.smtpPort, toIvy, forIvy.raw)).toMatchObject({ ok: false, code: 451 });
    // Every connection of the gateway's, the one whose commit is stuck on the path included, is closed by the gateway
    // itself while the path is still silent: nothing answers it, so only the gateway's own limit can end it.
    await eventually(
      () => gatewayConnections().every((connection) => connection.closed),
      COMMIT_TIMEOUT_MS + SILENT_PATH_GRACE_MS + 10_000,
      "the gateway to close its connections on the silent path",
    );

    server.proxy.restore();
    expect(await smtpSend(server.smtpPort, envelope, during.raw)).toMatchObject({ ok: true, code: 250 });
    expect(await smtpSend(server.smtpPort, toIvy, forIvy.raw)).toMatchObject({ ok: true, code: 250 });
    const db = server.mailward.services.db;
    for (const message of [before, during]) {
      const copies = await db
        .selectFrom("messages")
        .select("id")
        .where("message_id", "=", message.messageId)
        .execute();
      expect(copies).toHaveLength(1);
      expect((await archivedByMessageId(db, message.messageId))?.deliveries.map((d) => d.recipient)).toEqual([
        "gina@example.com",
      ]);
    }
  });
});
