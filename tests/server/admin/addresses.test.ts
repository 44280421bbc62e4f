import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { startSmtpSink, type SmtpSink } from "../../support/smtp-sink";
import type { ApiClient } from "../../support/http";
import { auditDetailsOf } from "../../support/audit";
import {
  archivedByMessageId,
  rawMessage,
  smtpSend,
  standardDns,
  waitForQueueIdle,
} from "../mail/gateway/helpers";
import { buildAdminWorld, PASSWORD, type AdminWorld } from "./admin-world";
import { runCli } from "../../support/cli";
import { MAX_ADDRESSES_PER_USER } from "../../../server/commands/users/addresses";

// A person's other addresses (aliases): given by a tenant admin, then mail to them is the person's at the
// gateway, over real SMTP, and the person may send from them.
let server: TestServer;
let sink: SmtpSink;
let world: AdminWorld;
let tenantAdmin: ApiClient;
let tina: { id: string; email: string };
let uma: { id: string; email: string };
const ALIAS = "jane.doe@example.com";

const db = () => server.mailward.services.db;

async function addAddress(userId: string, address: string) {
  return tenantAdmin.request("POST", `/api/admin/users/${userId}/addresses`, { address });
}

async function inbound(to: string) {
  const message = rawMessage({ from: "customer@nice.test", to, subject: `For ${to}` });
  const reply = await smtpSend(server.smtpPort, { from: "customer@nice.test", to: [to] }, message.raw);
  return { reply, messageId: message.messageId };
}

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    {
      MAILWARD_NEXT_HOP: sink.address,
      MAILWARD_SMTP_ALLOW_INSECURE_AUTH: "true",
      MAILWARD_LOGIN_RATE_LIMIT: "1000",
      MAILWARD_SHOW_SUBMITTER_CLIENT: "true",
    },
    { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 1, idlePollMs: 50 } },
  );
  world = await buildAdminWorld(db(), server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
  tina = await world.user(["agent"]);
  uma = await world.user(["agent"]);
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("POST /api/admin/users/:id/addresses", () => {
  it("gives tina another address (trimmed, lower case), audited, and the admin API lists it", async () => {
    const res = await addAddress(tina.id, "  Jane.Doe@Example.com ");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: tina.id, addresses: [ALIAS] });
    expect(await auditDetailsOf(db(), tina.id, "user.address_added")).toEqual([
      { email: tina.email, address: ALIAS },
    ]);
    // Again: nothing changes, nothing more is recorded.
    expect((await addAddress(tina.id, ALIAS)).json).toMatchObject({ addresses: [ALIAS] });
    expect(await auditDetailsOf(db(), tina.id, "user.address_added")).toHaveLength(1);
    expect((await tenantAdmin.request("GET", `/api/admin/users/${tina.id}`)).json).toMatchObject({
      addresses: [ALIAS],
    });
  });

  it("refuses what would make mail ambiguous or leave the organisation's domains", async () => {
    const cases: Array<[string, string, number, string]> = [
      [uma.id, ALIAS, 409, "already_exists"], // tina's alias
      [uma.id, tina.email, 409, "already_exists"], // tina's own address
      [uma.id, "uma@elsewhere.test", 400, "invalid_request"], // not one of our domains
      [uma.id, "not an address", 400, "invalid_request"],
      [world.foreignUserId, "foreign@example.com", 404, "not_found"], // another organisation's person
    ];
    for (const [userId, address, status, error] of cases) {
      const res = await addAddress(userId, address);
      expect({ address, status: res.status, error: (res.json as { error?: string }).error }).toEqual({
        address,
        status,
        error,
      });
    }
    const elsewhere = await addAddress(uma.id, "uma@elsewhere.test");
    expect((elsewhere.json as { message: string }).message).toBe(
      "uma@elsewhere.test is not in one of your organisation's mail domains.",
    );
    // A new user cannot take an address that is already someone's alias either.
    const invite = await tenantAdmin.request("POST", "/api/admin/users", { email: ALIAS });
    expect(invite.status).toBe(409);
    expect(await runCli(server.mailward.services, ["user", "add", ALIAS])).toEqual({
      code: 1,
      lines: [
        `Error (already_exists): ${ALIAS} is another address of an existing user: remove it there first.`,
      ],
    });
  });

  it("refuses a group's address (from the directory sync) as an alias or a new user's address", async () => {
    const group = "team@example.com";
    await db()
      .insertInto("group_addresses")
      .values({ address: group, tenant_id: world.tenantId, group_oid: "g-team", display_name: "Team" })
      .execute();
    const alias = await addAddress(uma.id, group);
    expect({ status: alias.status, error: (alias.json as { error?: string }).error }).toEqual({
      status: 409,
      error: "already_exists",
    });
    const invite = await tenantAdmin.request("POST", "/api/admin/users", { email: group });
    expect(invite.status).toBe(409);
    expect((invite.json as { message: string }).message).toBe(
      `${group} is a group's address (from Entra ID): it cannot also be a person's.`,
    );
  });

  it("keeps a person to 50 other addresses", async () => {
    const many = await world.user(["agent"]);
    await db()
      .insertInto("user_addresses")
      .values(
        Array.from({ length: MAX_ADDRESSES_PER_USER }, (_, i) => ({
          address: `many-${i}@example.com`,
          tenant_id: world.tenantId,
          user_id: many.id,
        })),
      )
      .execute();
    const res = await addAddress(many.id, "one-more@example.com");
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      error: "invalid_request",
      message: `${many.email} has 50 other addresses already: remove one first.`,
    });
  });

  it("is for tenant admins, about others: a partner admin and the admin themself are refused", async () => {
    const partnerAdmin = await world.login(["partner_admin"], { partnerId: world.partnerId });
    const partnerAgent = await world.user(["agent"], { partnerId: world.partnerId });
    const byPartner = await partnerAdmin.client.request(
      "POST",
      `/api/admin/users/${partnerAgent.id}/addresses`,
      { address: "finance@example.com" },
    );
    expect(byPartner.status).toBe(403);
    const admin = await world.login(["tenant_admin"]);
    const own = await admin.client.request("POST", `/api/admin/users/${admin.id}/addresses`, {
      address: "boss@example.com",
    });
    expect(own.status).toBe(403);
  });
});

describe("at the gateway", () => {
  it("takes mail to the alias (and its plus form) as tina's and relays it as addressed", async () => {
    for (const to of [ALIAS, "jane.doe+crm@example.com"]) {
      const { reply, messageId } = await inbound(to);
      expect(reply).toMatchObject({ ok: true, code: 250 });
      await waitForQueueIdle(db());
      const archived = await archivedByMessageId(db(), messageId);
      expect(archived?.links.map((l) => l.user_id)).toEqual([tina.id]);
      expect(sink.withMessageId(messageId).map((m) => m.rcptTo)).toEqual([[to]]);
    }
  });

  it("lets a device sign in with tina's alias as the username, as tina, and only with her password", async () => {
    const message = rawMessage({ from: ALIAS, to: uma.email, subject: "Signed in with my alias" });
    expect(
      await smtpSend(server.smtpPort, { from: ALIAS, to: [uma.email] }, message.raw, {
        auth: { user: ALIAS, pass: PASSWORD },
      }),
    ).toMatchObject({ ok: true, code: 250 });
    const archived = await archivedByMessageId(db(), message.messageId);
    expect(archived?.links).toContainEqual(expect.objectContaining({ user_id: tina.id, folder: "sent" }));
    const wrong = await smtpSend(server.smtpPort, { from: ALIAS, to: [uma.email] }, message.raw, {
      auth: { user: ALIAS, pass: "not her password" },
    });
    expect(wrong).toMatchObject({ ok: false, code: 535 });
  });

  it("lets tina send from her alias, and still not as anyone else", async () => {
    const auth = { user: tina.email, pass: PASSWORD };
    const fromAlias = rawMessage({ from: ALIAS, to: uma.email, subject: "From my other address" });
    expect(
      await smtpSend(server.smtpPort, { from: ALIAS, to: [uma.email] }, fromAlias.raw, { auth }),
    ).toMatchObject({ ok: true, code: 250 });
    // This gateway is set to name a signed-in sender's device (MAILWARD_SHOW_SUBMITTER_CLIENT).
    await sink.waitFor(() => sink.withMessageId(fromAlias.messageId).length === 1);
    expect(sink.withMessageId(fromAlias.messageId)[0]?.raw.toString("latin1")).toMatch(
      /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby \S+ \(Mailward\) with ESMTPA id /,
    );
    const envelopeForged = await smtpSend(
      server.smtpPort,
      { from: "ceo@example.com", to: [uma.email] },
      rawMessage({ from: "ceo@example.com", to: uma.email }).raw,
      { auth },
    );
    expect(envelopeForged).toMatchObject({ ok: false, code: 553 });
    const fromForged = await smtpSend(
      server.smtpPort,
      { from: ALIAS, to: [uma.email] },
      rawMessage({ from: "ceo@example.com", to: uma.email }).raw,
      { auth },
    );
    expect(fromForged).toMatchObject({ ok: false, code: 550 });
    expect(fromForged.response).toContain("may not send as ceo@example.com");
  });
});

describe("DELETE /api/admin/users/:id/addresses/:address", () => {
  it("takes an alias away, audited; mail to it is then refused as an unknown user, at once", async () => {
    const other = "t.smith@example.com";
    expect((await addAddress(tina.id, other)).json).toMatchObject({ addresses: [ALIAS, other] });
    // The gateway has just confirmed it (and remembers confirmed recipients for a few seconds).
    expect((await inbound(other)).reply).toMatchObject({ ok: true });
    const res = await tenantAdmin.request(
      "DELETE",
      `/api/admin/users/${tina.id}/addresses/${encodeURIComponent("T.Smith@example.com")}`,
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ addresses: [ALIAS] });
    expect(await auditDetailsOf(db(), tina.id, "user.address_removed")).toEqual([
      { email: tina.email, address: other },
    ]);
    const again = await tenantAdmin.request("DELETE", `/api/admin/users/${tina.id}/addresses/${other}`);
    expect(again.status).toBe(404);
    const { reply } = await inbound(other);
    expect(reply).toMatchObject({ ok: false, code: 550 });
    expect(reply.response).toMatch(/5\.1\.1/);
  });
});
