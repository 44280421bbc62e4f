import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailward, type Mailward } from "../../../server/runtime";
import {
  SIGNAL_RELAY_APPLICATION,
  startSignalRelay,
  type SignalRelay,
} from "../../../server/db/signal-relay";
import { quietSignals, type Services } from "../../../server/context";
import { createTestDatabase, testEngine, type TestDatabase } from "../../support/db";
import { capturingLogger } from "../../support/logger";
import { TEST_SECRET_KEY, testConfig, testServices } from "../../support/services";
import { startSelfServiceFixture, type SelfServiceFixture } from "../held/support";
import { pipelineFor } from "../../../server/mail/pipeline/index";
import { runNode } from "../../support/process";
import { eventually } from "../../support/eventually";
import { startTcpProxyFor } from "../../support/tcp-proxy";
import { rawMessage, smtpSend, threePointDecision } from "../mail/gateway/helpers";

// Several Mailward instances on one PostgreSQL database: what one is told to forget, the others forget too.
// PGlite's data folder belongs to one process, so there is only ever one instance to tell.
const onServer = testEngine() === "postgres";
if (!onServer)
  console.log("signal relay tests skipped: they need DATABASE_URL (PGlite has one instance only)");

/** The relays listening on this database (one per instance or relay started). */
async function listeners(services: Pick<Services, "db">): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = ${SIGNAL_RELAY_APPLICATION}
      AND query ILIKE 'LISTEN%'`.execute(services.db);
  return rows[0]?.n ?? 0;
}

async function cutListeners(services: Pick<Services, "db">): Promise<void> {
  await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = ${SIGNAL_RELAY_APPLICATION}`.execute(
    services.db,
  );
}

describe.runIf(onServer)("two instances on one database", () => {
  let a: SelfServiceFixture;
  let b: Mailward;

  beforeAll(async () => {
    a = await startSelfServiceFixture();
    b = await startMailward(
      testConfig({
        MAILWARD_ADMIN_EMAIL: "admin@example.com",
        MAILWARD_ADMIN_PASSWORD: "correct horse battery",
      }),
      { database: a.server.target, adminSocket: false },
    );
    await eventually(
      async () => (await listeners(a.server.mailward.services)) === 2,
      10_000,
      "both instances to listen",
    );
  });
  afterAll(async () => {
    await b?.stop();
    await a?.server.stop();
  });

  /** What instance B's gateway decides for a message of 3 points. */
  const decisionAtB = async (to: string) => (await threePointDecision(a.db, b.smtpPort, to)).action;

  it("holds mail at one instance from the next message after the hold threshold changed at the other", async () => {
    const admin = await a.user({ roles: ["security_admin"] });
    const person = await a.user();
    // B has the organisation's profile cached now (for 30 s).
    expect(await decisionAtB(person.email)).toBe("deliver");
    const put = (body: Record<string, number>) => admin.client.request("PUT", "/api/admin/settings", body);
    expect((await put({ holdThreshold: 2.5, suspectScore: 2 })).status).toBe(200);
    await eventually(async () => (await decisionAtB(person.email)) === "hold", 5_000, "B to hold");

    // Changed while B may not be listening: B forgets everything when it listens again.
    await cutListeners(b.services);
    await eventually(async () => (await listeners(b.services)) === 0, 10_000, "the listeners to go");
    expect((await put({ holdThreshold: 5, suspectScore: 3 })).status).toBe(200);
    await eventually(
      async () => (await listeners(b.services)) === 2,
      10_000,
      "both instances to listen again",
    );
    expect(await decisionAtB(person.email)).toBe("deliver");
  });

  it("tells the running instances what the CLI changed on the database, before it exits", async () => {
    const domainsAtB = async () =>
      (await pipelineFor(b.services).directory.profile(a.tenantId)).context.domains;
    expect(await domainsAtB()).not.toContain("cli-relay.example"); // B has the profile cached now
    const url = (a.server.target as { url: string }).url;
    const cli = await runNode(["server/cli/main.ts", "domain", "add", "cli-relay.example"], {
      DATABASE_URL: url,
      MAILWARD_SECRET_KEY: TEST_SECRET_KEY.toString("hex"),
    });
    expect({ code: cli.code, stdout: cli.stdout }).toEqual({
      code: 0,
      stdout: "Added domain cli-relay.example\n",
    });
    await eventually(
      async () => (await domainsAtB()).includes("cli-relay.example"),
      5_000,
      "B to take the domain",
    );
  });

  it("refuses mail to an alias at one instance as soon as the other took it away", async () => {
    const admin = await a.user({ roles: ["tenant_admin"] });
    const person = await a.user();
    const alias = `relay-${Date.now()}@example.com`;
    const added = await admin.client.request("POST", `/api/admin/users/${person.id}/addresses`, {
      address: alias,
    });
    expect(added.status).toBe(200);
    const inboundAtB = () =>
      smtpSend(
        b.smtpPort,
        { from: "customer@nice.test", to: [alias] },
        rawMessage({ from: "customer@nice.test", to: alias }).raw,
      );
    // B confirms it and remembers that for 10 s.
    expect(await inboundAtB()).toMatchObject({ ok: true });
    const removed = await admin.client.request(
      "DELETE",
      `/api/admin/users/${person.id}/addresses/${encodeURIComponent(alias)}`,
    );
    expect(removed.status).toBe(200);
    await eventually(async () => (await inboundAtB()).code === 550, 5_000, "B to refuse the alias");
  });
});

describe.runIf(onServer)("the signal relay", () => {
  let database: TestDatabase;
  const relays: SignalRelay[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await database?.destroy();
  });

  /** Services whose signals count what reaches this instance's own hooks, its relay on `url` (the database's own). */
  function instance(url = (database.target as { url: string }).url, heartbeatMs?: number) {
    const heard = { recipients: 0, organisations: [] as string[] };
    const capture = capturingLogger("info");
    const services = testServices(database.handle.db, "postgres", {
      logger: capture.logger,
      signals: {
        ...quietSignals(),
        recipientsChanged: () => void (heard.recipients += 1),
        organisationChanged: (tenantId) => void heard.organisations.push(tenantId),
      },
    });
    const relay = startSignalRelay(services, url, { listen: true, ...(heartbeatMs ? { heartbeatMs } : {}) });
    relays.push(relay);
    return { services, heard, relay, lines: capture.lines };
  }

  it("runs a signal's hooks once where it is raised and once at every other instance", async () => {
    const one = instance();
    const two = instance();
    await eventually(async () => (await listeners(one.services)) >= 2, 10_000, "two listeners");
    const tenantId = randomUUID();
    one.services.signals.organisationChanged(tenantId);
    await eventually(() => two.heard.organisations.length === 1, 10_000, "the other instance");
    two.services.signals.recipientsChanged();
    await eventually(() => one.heard.recipients === 1, 10_000, "the first instance");
    // A little longer: nothing comes back to the instance that raised it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(one.heard).toEqual({ recipients: 1, organisations: [tenantId] });
    expect(two.heard).toEqual({ recipients: 1, organisations: [tenantId] });

    // Not a signal: ignored, logged, and the relay keeps working.
    await sql`SELECT pg_notify('mailward_signals', 'not json'), pg_notify('mailward_signals', '{"from":"x","kind":"organisationChanged","tenantId":"nope"}')`.execute(
      one.services.db,
    );
    two.services.signals.recipientsChanged();
    await eventually(() => one.heard.recipients === 2, 10_000, "the first instance again");
    expect(one.heard.organisations).toEqual([tenantId]);
    expect(one.lines.filter((l) => l.includes("not a signal"))).toHaveLength(2);

    // Stopped: its hooks are this instance's own again, and it hears nothing more.
    await one.relay.stop();
    await two.relay.stop();
    one.services.signals.organisationChanged(tenantId);
    two.services.signals.organisationChanged(tenantId);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(one.heard.organisations).toEqual([tenantId, tenantId]);
    expect(two.heard.organisations).toEqual([tenantId, tenantId]);
  });

  it("only tells, without listening, when asked; its stop waits until what was raised is sent", async () => {
    const hearing = instance();
    await eventually(async () => (await listeners(hearing.services)) >= 1, 10_000, "the listener");
    const before = await listeners(hearing.services);
    const heard = { organisations: [] as string[] };
    const telling = testServices(database.handle.db, "postgres", {
      signals: {
        ...quietSignals(),
        organisationChanged: (tenantId) => void heard.organisations.push(tenantId),
      },
    });
    const relay = startSignalRelay(telling, (database.target as { url: string }).url, { listen: false });
    const tenantId = randomUUID();
    telling.signals.organisationChanged(tenantId);
    await relay.stop();
    expect(heard.organisations).toEqual([tenantId]);
    await eventually(() => hearing.heard.organisations.includes(tenantId), 10_000, "the listening instance");
    expect(await listeners(hearing.services)).toBe(before);
    await hearing.relay.stop();
  });

  it("connects again after losing its connection, and forgets everything then, as it may have missed something", async () => {
    const one = instance();
    await eventually(async () => (await listeners(one.services)) >= 1, 10_000, "the listener");
    await cutListeners(one.services);
    await eventually(
      () => one.lines.some((l) => l.includes("listening to the other instances' signals again")),
      10_000,
      "the listener to come back",
    );
    expect(one.lines.some((l) => l.includes("lost the connection"))).toBe(true);
    expect(one.heard).toEqual({ recipients: 1, organisations: [] });
    // And it hears again.
    const two = instance();
    await eventually(async () => (await listeners(one.services)) >= 2, 10_000, "the second listener");
    two.services.signals.recipientsChanged();
    await eventually(() => one.heard.recipients === 2, 10_000, "the relayed signal");
    await one.relay.stop();
  });

  it("hears no answer on a path that went silent, connects again once it is back, and forgets everything then", async () => {
    // A listening connection only receives: on a path that drops everything (a failover without a reset, a load
    // balancer that forgets an idle flow) nothing would ever tell it that it is deaf. The path is a real TCP proxy.
    const { proxy, url } = await startTcpProxyFor((database.target as { url: string }).url);
    try {
      const before = await listeners(database.handle);
      const one = instance(url, 300);
      await eventually(async () => (await listeners(database.handle)) > before, 10_000, "the listener");
      proxy.silence();
      await eventually(
        () => one.lines.some((l) => l.includes("lost the connection") && l.includes("no answer in 300 ms")),
        10_000,
        "the listener to find the path silent",
      );
      expect(one.heard.recipients).toBe(0);
      proxy.restore();
      await eventually(
        () => one.lines.some((l) => l.includes("listening to the other instances' signals again")),
        20_000,
        "the listener to come back",
      );
      expect(one.heard).toEqual({ recipients: 1, organisations: [] });
      const two = instance();
      await eventually(
        async () => (await listeners(database.handle)) > before + 1,
        10_000,
        "a second listener",
      );
      two.services.signals.recipientsChanged();
      await eventually(() => one.heard.recipients === 2, 10_000, "the relayed signal");
      await two.relay.stop();
      // Stopped while the path is silent: its goodbye is never answered, yet the stop ends.
      proxy.silence();
      await one.relay.stop();
      expect(proxy.connections().at(-1)?.closed).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
