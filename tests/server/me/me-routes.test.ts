import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { signedInPerson } from "../../support/sign-in";
import { buildArchivedMessage, buildRawMessage, buildUser, grantPermission } from "../../factories";

let server: TestServer;
let tenantId: string;
beforeAll(async () => {
  server = await startTestServer();
  const db = server.mailward.services.db;
  tenantId = (await db.selectFrom("tenants").select("id").executeTakeFirstOrThrow()).id;
});
afterAll(async () => {
  await server.stop();
});

async function signedInAgent(email: string) {
  const { client, ...user } = await signedInPerson(server.mailward.services.db, server.baseUrl, {
    tenantId,
    email,
    password: "agent password 123",
  });
  return { user, client };
}

describe("GET /api/me", () => {
  // How far the person sees others' mail: the portal names its "Everyone's" held list by it.
  it("says how far reading others' mail reaches: nobody else's, or the organisation's", async () => {
    const db = server.mailward.services.db;
    const password = "person password 123";
    const agent = await signedInPerson(db, server.baseUrl, {
      tenantId,
      email: "reach-agent@mailward.test",
      password,
    });
    const security = await signedInPerson(db, server.baseUrl, {
      tenantId,
      email: "reach-sec@mailward.test",
      roles: ["security_admin"],
      password,
    });
    const granted = await signedInPerson(db, server.baseUrl, {
      tenantId,
      email: "reach-granted@mailward.test",
      password,
    });
    await grantPermission(db, { tenantId, userId: granted.id, permission: "held.read_any" });
    const reachOf = async (client: typeof agent.client) => {
      const res = await client.request("GET", "/api/me");
      expect(res.status, res.text).toBe(200);
      return (res.json as { othersReach: unknown }).othersReach;
    };
    expect(await reachOf(agent.client)).toBeNull();
    expect(await reachOf(security.client)).toBe("organisation");
    expect(await reachOf(granted.client)).toBe("organisation");
  });
});

describe("GET /api/me/settings", () => {
  it("answers the caller's sign-in method, security phrase and TOTP state", async () => {
    const { user, client } = await signedInAgent("settings@example.com");
    await server.mailward.services.db
      .updateTable("users")
      .set({ security_phrase: "purple otter" })
      .where("id", "=", user.id)
      .execute();
    const res = await client.request("GET", "/api/me/settings");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ authMethod: "local", securityPhrase: "purple otter", totpEnabled: false });
  });

  it("refuses an anonymous caller", async () => {
    expect((await new ApiClient(server.baseUrl).request("GET", "/api/me/settings")).status).toBe(401);
  });
});

describe("GET /api/archive/lookup", () => {
  it("finds the caller's message by Message-ID with or without angle brackets and answers its verdict", async () => {
    const { user, client } = await signedInAgent("lookup@example.com");
    const db = server.mailward.services.db;
    const archived = await buildArchivedMessage(db, {
      tenantId,
      raw: buildRawMessage({ to: user.email, messageId: "<abc-123@outside.example>" }),
      links: [{ userId: user.id }],
    });
    const assessment = {
      scannedAt: "2026-01-02T03:04:05.000Z",
      score: 7.5,
      auth: { spf: "fail", dkim: "none", dmarc: "fail", arc: "none" },
      signals: [
        { id: "dmarc_fail", label: "The sender's domain failed DMARC.", weight: 4 },
        { id: "clean_text", label: "Ordinary wording.", weight: -1 },
      ],
      decisions: [{ recipient: user.email, action: "hold", reason: "auth_fail" }],
    };
    await db
      .updateTable("messages")
      .set({ assessment: JSON.stringify(assessment) })
      .where("id", "=", archived.id)
      .execute();
    const held = await db
      .insertInto("held_items")
      .values({
        tenant_id: tenantId,
        message_id: archived.id,
        user_id: user.id,
        recipient: user.email,
        reason: "auth_fail",
        score: 7.5,
        signals: "[]",
        expires_at: new Date(Date.now() + 86_400_000),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (const form of ["<abc-123@outside.example>", "abc-123@outside.example"]) {
      const res = await client.request("GET", `/api/archive/lookup?messageId=${encodeURIComponent(form)}`);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        archiveId: archived.id,
        verdict: "hold",
        reason: "auth_fail",
        score: 7.5,
        auth: { spf: "fail", dmarc: "fail" },
        signals: [{ name: "dmarc_fail", label: "The sender's domain failed DMARC." }],
        heldId: held.id,
      });
    }
  });

  it("finds a message whose Message-ID the archive cut at 998 UTF-8 bytes, asked for by the whole id", async () => {
    const { user, client } = await signedInAgent("long-id@example.com");
    // 900 CJK characters: 2,700 bytes of UTF-8, under the query's 998 characters, stored as its first 998 bytes.
    const longId = `<${"漢字".repeat(450)}@outside.example>`;
    const archived = await buildArchivedMessage(server.mailward.services.db, {
      tenantId,
      raw: buildRawMessage({ to: user.email, messageId: longId }),
      links: [{ userId: user.id }],
    });
    const stored = await server.mailward.services.db
      .selectFrom("messages")
      .select("message_id")
      .where("id", "=", archived.id)
      .executeTakeFirstOrThrow();
    expect(longId.startsWith(stored.message_id ?? "-") && stored.message_id !== longId).toBe(true);
    const res = await client.request("GET", `/api/archive/lookup?messageId=${encodeURIComponent(longId)}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ archiveId: archived.id });
  });

  it("answers 404 for a message in someone else's mailbox, and 400 without a Message-ID", async () => {
    const db = server.mailward.services.db;
    const owner = await buildUser(db, { tenantId, email: "owner-lookup@example.com" });
    await buildArchivedMessage(db, {
      tenantId,
      raw: buildRawMessage({ to: owner.email, messageId: "<private@outside.example>" }),
      links: [{ userId: owner.id }],
    });
    const { client } = await signedInAgent("snoop@example.com");
    const res = await client.request(
      "GET",
      `/api/archive/lookup?messageId=${encodeURIComponent("<private@outside.example>")}`,
    );
    expect(res.status).toBe(404);
    expect(res.json.error).toBe("not_found");
    expect((await client.request("GET", "/api/archive/lookup")).status).toBe(400);
  });

  it("finds mail sent to one of the caller's groups (Microsoft 365 expanded it into their mailbox), with the group's verdict", async () => {
    const db = server.mailward.services.db;
    const group = "orders-desk@example.com";
    const { user: member, client } = await signedInAgent("desk-member@example.com");
    const { client: outsider } = await signedInAgent("desk-outsider@example.com");
    await db
      .insertInto("group_addresses")
      .values({ address: group, tenant_id: tenantId, group_oid: "g-orders", display_name: "Orders" })
      .execute();
    await db
      .insertInto("group_members")
      .values({ tenant_id: tenantId, group_oid: "g-orders", user_id: member.id })
      .execute();
    const archived = await buildArchivedMessage(db, {
      tenantId,
      raw: buildRawMessage({ to: group, messageId: "<order-77@customer.example>" }),
    });
    await db
      .updateTable("messages")
      .set({
        envelope_to: ["someone@else.example", group],
        assessment: JSON.stringify({
          score: 6,
          signals: [],
          decisions: [
            { recipient: "someone@else.example", action: "deliver" },
            { recipient: group, action: "hold", reason: "spam" },
          ],
        }),
      })
      .where("id", "=", archived.id)
      .execute();
    const held = await db
      .insertInto("held_items")
      .values({
        tenant_id: tenantId,
        message_id: archived.id,
        user_id: null,
        recipient: group,
        reason: "spam",
        score: 6,
        signals: "[]",
        status: "held",
        expires_at: new Date(Date.now() + 86_400_000),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const path = `/api/archive/lookup?messageId=${encodeURIComponent("<order-77@customer.example>")}`;
    const res = await client.request("GET", path);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      archiveId: archived.id,
      verdict: "hold",
      reason: "spam",
      heldId: held.id,
    });
    expect((await outsider.request("GET", path)).status).toBe(404);
  });
});
