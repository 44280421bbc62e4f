import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns, waitForQueueIdle } from "./helpers";

// DESIGN §6 rows 2 and 4 over real SMTP: a block applies when ANY address From names matches, so a blocked sender
// cannot slip past by naming an innocent address first, in the same From field or in a second one. The organisation
// holds nothing on score here (holdThreshold 1000): only the block can stop these messages.
let server: TestServer;
let sink: SmtpSink;
let tenantId: string;
let bob: { id: string; email: string };

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 0.2, idlePollMs: 200 } },
  );
  const db = server.mailward.services.db;
  tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: "alice@example.com" });
  bob = await buildUser(db, { tenantId, email: "bob@example.com" });
  await db
    .insertInto("sender_rules")
    .values([
      { tenant_id: tenantId, scope: "tenant", user_id: null, kind: "block", pattern: "blocked.test" },
      { tenant_id: tenantId, scope: "user", user_id: bob.id, kind: "block", pattern: "pest@annoying.test" },
    ])
    .execute();
  await db
    .updateTable("tenants")
    .set({ settings: JSON.stringify({ holdThreshold: 1000 }) })
    .where("id", "=", tenantId)
    .execute();
  server.mailward.services.signals.organisationChanged(tenantId);
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

async function send(message: { raw: Buffer }, to: string[]) {
  return smtpSend(server.smtpPort, { from: "friend@nice.test", to }, message.raw);
}

describe("row 2: an organisation block matches every From address", () => {
  const cases = [
    { name: "the only address of From", from: "Boss <boss@blocked.test>", extra: [] },
    {
      name: "the second address of From",
      from: "Friend <friend@nice.test>, Boss <boss@BLOCKED.test>",
      extra: [],
    },
    {
      name: "in a second From field",
      from: "Friend <friend@nice.test>",
      extra: ["From: Boss <boss@blocked.test>"],
    },
    {
      name: "a member of a group in From",
      from: "Friend <friend@nice.test>, Team: boss@blocked.test;",
      extra: [],
    },
  ];
  for (const { name, from, extra } of cases) {
    it(`refuses with 550 and relays nothing when the blocked sender is ${name}`, async () => {
      const message = rawMessage({ from, to: "alice@example.com", extraHeaders: extra });
      const reply = await send(message, ["alice@example.com"]);
      expect(reply.code).toBe(550);
      await waitForQueueIdle(server.mailward.services.db);
      expect(sink.withMessageId(message.messageId)).toHaveLength(0);
    });
  }
});

describe("row 4: a personal block matches every From address", () => {
  it("holds as blocked_sender for the person who blocks the second address; the other recipient gets it", async () => {
    const message = rawMessage({
      from: "Friend <friend@nice.test>, Pest <pest@annoying.test>",
      to: "alice@example.com, bob@example.com",
    });
    expect(await send(message, ["alice@example.com", bob.email])).toMatchObject({ ok: true });
    await sink.waitFor(() => sink.withMessageId(message.messageId, "alice@example.com").length === 1);
    await waitForQueueIdle(server.mailward.services.db);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.held.map((h) => [h.recipient, h.reason])).toEqual([[bob.email, "blocked_sender"]]);
    expect(sink.withMessageId(message.messageId, bob.email)).toHaveLength(0);
  });

  it('holds the blocked address written with a quoted local part (<"pest"@…>, the same mailbox)', async () => {
    const message = rawMessage({ from: 'Pest <"Pest"@annoying.test>', to: bob.email });
    expect(await send(message, [bob.email])).toMatchObject({ ok: true });
    await waitForQueueIdle(server.mailward.services.db);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.held.map((h) => [h.recipient, h.reason])).toEqual([[bob.email, "blocked_sender"]]);
    expect(sink.withMessageId(message.messageId)).toHaveLength(0);
    // The pipeline writes a message and its holds in one statement: the hold's copy of the From address (migration
    // 3330, by trigger) must find the message that statement wrote, or the hold is missing from `sender=` lists.
    expect(archived?.held.map((h) => h.from_lower)).toEqual(["pest@annoying.test"]);
  });
});

describe("a From naming thousands of addresses", () => {
  /** 5,000 innocent addresses, folded over lines, then `last`. */
  function manyFrom(last: string): string {
    const innocent = Array.from({ length: 5000 }, (_, i) => `s${i}@innocent${i % 97}.test`);
    return [...innocent, last].join(",\r\n ");
  }

  it("refuses an organisation-blocked sender named last (550)", async () => {
    const message = rawMessage({ from: manyFrom("boss@blocked.test"), to: "alice@example.com" });
    expect((await send(message, ["alice@example.com"])).code).toBe(550);
  });

  it("holds a personally blocked sender named last, and stores the first 50 addresses and how many there were", async () => {
    const message = rawMessage({ from: manyFrom("pest@annoying.test"), to: bob.email });
    expect(await send(message, [bob.email])).toMatchObject({ ok: true, code: 250 });
    await waitForQueueIdle(server.mailward.services.db);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.held.map((h) => [h.recipient, h.reason])).toEqual([[bob.email, "blocked_sender"]]);
    const stored = archived?.message.assessment as {
      from: { addresses: string[]; addressCount?: number };
      signals: Array<{ id: string; detail?: string }>;
    };
    expect(stored.from.addresses).toHaveLength(50);
    expect(stored.from.addressCount).toBe(5001);
    expect(stored.signals.find((s) => s.id === "auth.ambiguous_from")?.detail).toMatch(/and 4996 more/);
  });
});
