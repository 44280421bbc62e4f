import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailward, type Mailward } from "../../../../server/runtime";
import { BOUNDED_APPLICATION_NAME, SILENT_PATH_GRACE_MS } from "../../../../server/db/connection";
import { freshDatabaseTarget, testEngine } from "../../../support/db";
import { testConfig } from "../../../support/services";
import { eventually } from "../../../support/eventually";
import { startTcpProxy, type TcpProxy } from "../../../support/tcp-proxy";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns } from "./helpers";

// A network path to PostgreSQL that drops everything (a failed switch, a firewall that silently discards) is not a
// database that stops answering: PostgreSQL never sees the gateway's statement, so its statement_timeout never
// cancels it, and TCP keeps a connection with bytes in flight for ~15 minutes (for ever behind a proxy or NAT that
// keeps the socket open, as the proxy here does). The gateway answers 451 4.3.0 at MAILWARD_INGEST_COMMIT_TIMEOUT_MS
// either way; this is about what it does with its connections: it closes each one that has heard nothing for the limit
// plus a grace, gives up opening one after the limit, and so takes mail again as soon as the path is back. The path is
// a real TCP proxy in front of the real PostgreSQL, holding every byte while silent. PostgreSQL only.
const COMMIT_TIMEOUT_MS = 1_500;
let mailward: Mailward;
let proxy: TcpProxy;
let drop: () => Promise<void>;

const envelope = { from: "friend@nice.test", to: ["gina@example.com"] };

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  const fresh = await freshDatabaseTarget();
  drop = fresh.drop;
  if (fresh.target.kind !== "postgres") throw new Error("PostgreSQL only");
  const url = new URL(fresh.target.url);
  proxy = await startTcpProxy(Number(url.port || 5432));
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  const config = testConfig({
    MAILWARD_ADMIN_EMAIL: "admin@example.com",
    MAILWARD_ADMIN_PASSWORD: "correct horse battery",
    MAILWARD_INGEST_COMMIT_TIMEOUT_MS: String(COMMIT_TIMEOUT_MS),
  });
  mailward = await startMailward(config, {
    database: { kind: "postgres", url: url.toString() },
    adminSocket: false,
    dnsResolver: standardDns(),
  });
  const db = mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: "gina@example.com" });
  await buildUser(db, { tenantId, email: "ivy@example.com" });
});

afterAll(async () => {
  proxy?.restore();
  await mailward?.stop();
  await proxy?.close();
  await drop?.();
});

const gatewayConnections = () =>
  proxy.connections().filter((connection) => connection.opening.includes(BOUNDED_APPLICATION_NAME.gateway));

describe.skipIf(testEngine() !== "postgres")("a network path to PostgreSQL that goes silent", () => {
  it("answers 451 4.3.0, closes the gateway's connections on the dead path, and takes mail again once it is back", async () => {
    const before = rawMessage({ from: envelope.from, to: "gina@example.com" });
    expect(await smtpSend(mailward.smtpPort, envelope, before.raw)).toMatchObject({ ok: true, code: 250 });
    expect(gatewayConnections().length).toBeGreaterThan(0);

    proxy.silence();
    const during = rawMessage({ from: envelope.from, to: "gina@example.com" });
    const reply = await smtpSend(mailward.smtpPort, envelope, during.raw);
    expect(reply).toMatchObject({ ok: false, code: 451 });
    expect(reply.response).toMatch(/4\.3\.0/);
    // A recipient the gateway has not looked up yet: RCPT TO waits on the path too, and gets a 451 of its own.
    const toIvy = { from: envelope.from, to: ["ivy@example.com"] };
    const forIvy = rawMessage({ from: envelope.from, to: "ivy@example.com" });
    expect(await smtpSend(mailward.smtpPort, toIvy, forIvy.raw)).toMatchObject({ ok: false, code: 451 });
    // Every connection of the gateway's, the one whose commit is stuck on the path included, is closed by the gateway
    // itself while the path is still silent: nothing answers it, so only the gateway's own limit can end it.
    await eventually(
      () => gatewayConnections().every((connection) => connection.closed),
      COMMIT_TIMEOUT_MS + SILENT_PATH_GRACE_MS + 10_000,
      "the gateway to close its connections on the silent path",
    );

    proxy.restore();
    expect(await smtpSend(mailward.smtpPort, envelope, during.raw)).toMatchObject({ ok: true, code: 250 });
    expect(await smtpSend(mailward.smtpPort, toIvy, forIvy.raw)).toMatchObject({ ok: true, code: 250 });
    const db = mailward.services.db;
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
