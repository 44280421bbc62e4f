import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import type { traceItem } from "../../../shared/schemas/trace";
import { startTestServer, type TestServer } from "../../support/server";
import { startSmtpSink, type SmtpSink } from "../../support/smtp-sink";
import { ApiClient } from "../../support/http";
import {
  buildArchivedMessage,
  buildRawMessage,
  buildTenant,
  buildUser,
  grantPermission,
} from "../../factories";
import { EICAR_TEST_FILE } from "../../../server/mail/scan/test-strings";
import {
  rawMessage,
  rawWithAttachment,
  smtpSend,
  standardDns,
  waitForQueueIdle,
} from "../mail/gateway/helpers";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// GET /api/admin/trace: what became of a message, per recipient, for the tenant's administrators.
let server: TestServer;
let sink: SmtpSink;
let world: AdminWorld;
let securityAdmin: ApiClient;
let tina: string;
let uma: string;
let clean: { raw: Buffer; messageId: string };
let virusId: string;

/** One traced message as the API answers it (the shared schema's type). */
type Item = z.infer<typeof traceItem>;
const items = (res: { json: { items?: unknown[] } }) => (res.json.items ?? []) as Item[];

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address, MAILWARD_LOGIN_RATE_LIMIT: "1000" },
    { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 1, idlePollMs: 50 } },
  );
  const db = server.mailward.services.db;
  world = await buildAdminWorld(db, server.baseUrl);
  tina = (await world.user(["agent"])).email;
  uma = (await world.user(["agent"])).email;
  securityAdmin = (await world.login(["security_admin"])).client;

  clean = rawMessage({ from: "friend@nice.test", to: tina, subject: "Order 1142 shipped" });
  const toBoth = rawMessage({ from: "friend@nice.test", to: `${tina}, ${uma}`, subject: "Team lunch" });
  const virus = rawWithAttachment({
    from: "billing@else.test",
    to: tina,
    filename: "eicar.com",
    content: Buffer.from(EICAR_TEST_FILE),
  });
  virusId = virus.messageId;
  const sends: Array<[string, string[], Buffer]> = [
    ["friend@nice.test", [tina], clean.raw],
    ["billing@else.test", [tina], virus.raw],
    ["friend@nice.test", [tina, uma], toBoth.raw],
  ];
  for (const [from, to, raw] of sends)
    expect(await smtpSend(server.smtpPort, { from, to }, raw)).toMatchObject({ ok: true, code: 250 });
  await waitForQueueIdle(db);
  // The same sender in another tenant: never in this tenant's trace.
  await buildArchivedMessage(db, { tenantId: world.foreignTenantId, raw: buildRawMessage() });
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("GET /api/admin/trace", () => {
  it("shows a delivered message: envelope, client, the verdict and the next hop's answer, without its subject", async () => {
    const res = await securityAdmin.request(
      "GET",
      `/api/admin/trace?messageId=${encodeURIComponent(clean.messageId)}`,
    );
    expect(res.status).toBe(200);
    const [item] = items(res);
    expect(item).toMatchObject({
      internetMessageId: clean.messageId,
      submittedWith: null,
      envelopeFrom: "friend@nice.test",
      subject: null,
      clientIp: expect.stringMatching(/127\.0\.0\.1$/),
      tls: false,
    });
    expect(item?.recipients).toEqual([
      expect.objectContaining({
        recipient: tina,
        verdict: "deliver",
        held: null,
        delivery: expect.objectContaining({
          state: "delivered",
          attempts: 1,
          lastResponse: expect.stringMatching(/^250/),
          relayedAs: "clean",
        }),
      }),
    ]);
  });

  it("shows a held message with its reason and held item, and nothing sent to the next hop", async () => {
    const res = await securityAdmin.request(
      "GET",
      `/api/admin/trace?sender=billing@else.test&recipient=${tina}`,
    );
    const [item] = items(res);
    expect(item?.internetMessageId).toBe(virusId);
    // The verdict's score, as the engine stored it.
    expect(typeof item?.score).toBe("number");
    expect(item?.recipients).toEqual([
      expect.objectContaining({
        recipient: tina,
        verdict: "hold",
        reason: "dangerous_attachment",
        held: expect.objectContaining({ status: "held" }),
        delivery: null,
      }),
    ]);
  });

  it("finds a sender at an internationalised domain typed in Unicode (addresses are kept in punycode)", async () => {
    const cafe = rawMessage({ from: "shop@xn--caf-dma.example", to: tina, subject: "Your table" });
    const from = "Shop@xn--caf-dma.example";
    expect(await smtpSend(server.smtpPort, { from, to: [tina] }, cafe.raw)).toMatchObject({ code: 250 });
    await waitForQueueIdle(server.mailward.services.db);
    for (const sender of ["shop@café.example", "SHOP@Café.example", "shop@xn--caf-dma.example"]) {
      const found = items(
        await securityAdmin.request("GET", `/api/admin/trace?sender=${encodeURIComponent(sender)}`),
      );
      expect(found.map((i) => [i.internetMessageId, i.envelopeFrom])).toEqual([
        [cafe.messageId, from.toLowerCase()],
      ]);
    }
  });

  it("lists every recipient of a message, and pages newest first with a cursor", async () => {
    const all = items(await securityAdmin.request("GET", "/api/admin/trace?sender=friend@nice.test"));
    expect(all).toHaveLength(2);
    expect(all[0]?.recipients.map((r) => r.recipient).sort()).toEqual([tina, uma].sort());
    const first = await securityAdmin.request("GET", "/api/admin/trace?sender=friend@nice.test&limit=1");
    expect(items(first).map((i) => i.id)).toEqual([all[0]?.id]);
    const cursor = String(first.json.nextCursor);
    const second = await securityAdmin.request(
      "GET",
      `/api/admin/trace?sender=friend@nice.test&limit=1&cursor=${encodeURIComponent(cursor)}`,
    );
    expect(items(second).map((i) => i.id)).toEqual([all[1]?.id]);
    expect(second.json.nextCursor).toBeNull();
  });

  it("shows a bounce: the refused delivery with the next hop's answer, and the notice sent back to the sender", async () => {
    const vic = (await world.user(["agent"])).email;
    sink.refuseRecipient(vic, 550, "5.1.1 No such mailbox here");
    const refused = rawMessage({ from: "friend@nice.test", to: vic, subject: "For Vic" });
    await smtpSend(server.smtpPort, { from: "friend@nice.test", to: [vic] }, refused.raw);
    await waitForQueueIdle(server.mailward.services.db);
    const [item] = items(await securityAdmin.request("GET", `/api/admin/trace?recipient=${vic}`));
    expect(item?.internetMessageId).toBe(refused.messageId);
    expect(item?.recipients[0]?.delivery).toMatchObject({
      state: "bounced",
      lastError: expect.stringContaining("550"),
    });
    const notices = items(await securityAdmin.request("GET", "/api/admin/trace?recipient=friend@nice.test"));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ envelopeFrom: "" });
    expect(notices[0]?.recipients).toEqual([
      expect.objectContaining({
        recipient: "friend@nice.test",
        // A bounce is ours, not inbound mail: Microsoft 365 is told no verdict.
        delivery: expect.objectContaining({ state: "delivered", relayedAs: null }),
      }),
    ]);
  });

  it("lists only this tenant's recipients of a message that also went to another tenant", async () => {
    const db = server.mailward.services.db;
    const other = await buildTenant(db, { domains: ["other-co.test"] });
    await buildUser(db, { tenantId: other.id, email: "olga@other-co.test" });
    const shared = rawMessage({ from: "friend@nice.test", to: `${tina}, olga@other-co.test` });
    const reply = await smtpSend(
      server.smtpPort,
      { from: "friend@nice.test", to: [tina, "olga@other-co.test"] },
      shared.raw,
    );
    expect(reply).toMatchObject({ ok: true, code: 250 });
    const [item] = items(
      await securityAdmin.request(
        "GET",
        `/api/admin/trace?messageId=${encodeURIComponent(shared.messageId)}`,
      ),
    );
    expect(item?.recipients.map((r) => r.recipient)).toEqual([tina]);
    // Each tenant's archived copy names its own recipients only (a Bcc to another tenant stays theirs).
    const copies = await db
      .selectFrom("messages")
      .select(["tenant_id", "envelope_to"])
      .where("message_id", "=", shared.messageId)
      .execute();
    expect(copies.map((c) => [c.tenant_id === other.id ? "other" : "ours", c.envelope_to]).sort()).toEqual([
      ["other", ["olga@other-co.test"]],
      ["ours", [tina]],
    ]);
  });

  it("traces every recipient of the same bytes sent in two transactions (stored once)", async () => {
    const wes = (await world.user(["agent"])).email;
    const twice = rawMessage({
      from: "friend@nice.test",
      to: `${tina}, ${wes}`,
      subject: "Split by the sender",
    });
    for (const to of [tina, wes])
      expect(
        await smtpSend(server.smtpPort, { from: "friend@nice.test", to: [to] }, twice.raw),
      ).toMatchObject({
        code: 250,
      });
    await waitForQueueIdle(server.mailward.services.db);
    const [item] = items(
      await securityAdmin.request("GET", `/api/admin/trace?messageId=${encodeURIComponent(twice.messageId)}`),
    );
    expect(item?.recipients.map((r) => [r.recipient, r.verdict, r.delivery?.state]).sort()).toEqual(
      [
        [tina, "deliver", "delivered"],
        [wes, "deliver", "delivered"],
      ].sort(),
    );
    const byRecipient = items(await securityAdmin.request("GET", `/api/admin/trace?recipient=${wes}`));
    expect(byRecipient.map((i) => i.internetMessageId)).toEqual([twice.messageId]);
  });

  it("keeps to its time window and to the caller's tenant", async () => {
    const past = await securityAdmin.request(
      "GET",
      "/api/admin/trace?after=2020-01-01T00:00:00Z&before=2020-02-01T00:00:00Z",
    );
    expect(items(past)).toEqual([]);
    const mine = items(await securityAdmin.request("GET", "/api/admin/trace?limit=200"));
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(mine.some((i) => i.envelopeFrom === "sender@outside.example")).toBe(false);
  });

  it("shows subjects to someone granted archive.read_any", async () => {
    const reader = await world.user(["security_admin"]);
    await grantPermission(server.mailward.services.db, {
      tenantId: world.tenantId,
      userId: reader.id,
      permission: "archive.read_any",
      reason: "case 7",
    });
    const client = new ApiClient(server.baseUrl);
    expect((await client.login(reader.email, "a long enough passphrase")).status).toBe(200);
    const [item] = items(
      await client.request(
        "GET",
        `/api/admin/trace?messageId=${encodeURIComponent(clean.messageId.slice(1, -1))}`,
      ),
    );
    expect(item?.subject).toBe("Order 1142 shipped");
  });

  it("narrows to one state: held now, waiting in the outbound queue, delivered, bounced", async () => {
    const ids = async (status: string) =>
      items(await securityAdmin.request("GET", `/api/admin/trace?status=${status}&limit=200`)).map(
        (i) => i.internetMessageId,
      );
    expect(await ids("held")).toEqual([virusId]);
    expect(await ids("delivered")).toContain(clean.messageId);
    expect(await ids("delivered")).not.toContain(virusId);
    expect(await ids("bounced")).toHaveLength(1);
    sink.setMode({ kind: "tempfail", reply: "4.2.1 Mailbox busy, try later" });
    try {
      const waiting = rawMessage({ from: "friend@nice.test", to: tina });
      await smtpSend(server.smtpPort, { from: "friend@nice.test", to: [tina] }, waiting.raw);
      const deadline = Date.now() + 15_000;
      let queued: Item[] = [];
      while (Date.now() < deadline) {
        queued = items(await securityAdmin.request("GET", "/api/admin/trace?status=waiting"));
        if (queued[0]?.recipients[0]?.delivery?.lastError) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(queued.map((i) => i.internetMessageId)).toEqual([waiting.messageId]);
      expect(queued[0]?.recipients[0]?.delivery?.lastError).toContain("Mailbox busy");
    } finally {
      sink.setMode({ kind: "accept" });
    }
    await waitForQueueIdle(server.mailward.services.db);
    expect(await ids("waiting")).toEqual([]);
  });

  it("refuses the unauthenticated (401), agents (403) and bad input (400), with stable error ids", async () => {
    expect((await new ApiClient(server.baseUrl).request("GET", "/api/admin/trace")).status).toBe(401);
    const agent = (await world.login(["agent"])).client;
    const forbidden = await agent.request("GET", "/api/admin/trace");
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error).toBe("forbidden");
    for (const bad of [
      "sender=not-an-address",
      "limit=0",
      "after=yesterday",
      "cursor=bm9wZQ",
      "status=lost",
    ]) {
      const res = await securityAdmin.request("GET", `/api/admin/trace?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.json.error, bad).toBe("invalid_request");
    }
    const reversed = await securityAdmin.request(
      "GET",
      "/api/admin/trace?after=2026-02-01T00:00:00Z&before=2026-01-01T00:00:00Z",
    );
    expect(reversed.status).toBe(400);
    expect(reversed.json.message).toMatch(/earlier than/);
  });
});
