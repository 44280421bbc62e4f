import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildTenant, buildUser } from "../../../factories";
import {
  archivedByMessageId,
  rawMessage,
  rawSession,
  smtpSend,
  standardDns,
  waitForQueueIdle,
} from "./helpers";

// RFC 5321 §4.5.1: postmaster at each of our domains, and bare <postmaster>, must be taken.
let server: TestServer;
let sink: SmtpSink;
let adminId: string;

/** One SMTP transaction over a raw socket (nodemailer will not send to an address without a domain): every reply. */
async function rawTransaction(port: number, rcptTo: string[], data: Buffer): Promise<string[]> {
  const session = await rawSession(port);
  try {
    const replies = [session.greeting];
    const envelope = [
      "EHLO client.test",
      "MAIL FROM:<reporter@nice.test>",
      ...rcptTo.map((r) => `RCPT TO:<${r}>`),
    ];
    for (const line of [...envelope, "DATA", `${data.toString("latin1")}\r\n.`])
      replies.push(await session.say(line));
    return replies.map((reply) => reply.trim());
  } finally {
    session.socket.destroy();
  }
}

beforeAll(async () => {
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address },
    { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 1, idlePollMs: 50 } },
  );
  const admin = await server.mailward.services.db
    .selectFrom("users")
    .select("id")
    .where("email", "=", "admin@example.com")
    .executeTakeFirstOrThrow();
  adminId = admin.id;
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe("postmaster", () => {
  it("takes bare <postmaster> for the operator's organisation and gives it to its admin's mailbox", async () => {
    const message = rawMessage({ from: "reporter@nice.test", to: "postmaster", subject: "Your MX" });
    const replies = await rawTransaction(server.smtpPort, ["Postmaster"], message.raw);
    expect(replies.slice(3)).toEqual([
      expect.stringMatching(/^250 /),
      expect.stringMatching(/^354 /),
      expect.stringMatching(/^250 /),
    ]);
    const db = server.mailward.services.db;
    await waitForQueueIdle(db);
    const archived = await archivedByMessageId(db, message.messageId);
    expect(archived?.links.map((l) => [l.user_id, l.folder])).toEqual([[adminId, "inbox"]]);
    expect(sink.withMessageId(message.messageId).map((m) => m.rcptTo)).toEqual([["admin@example.com"]]);
  });

  it("takes postmaster@ of our domain in any case, one copy when the admin is named too", async () => {
    const message = rawMessage({
      from: "reporter@nice.test",
      to: "postmaster@example.com",
      subject: "Bounces",
    });
    const replies = await rawTransaction(
      server.smtpPort,
      ["PostMaster@example.com", "admin@example.com"],
      message.raw,
    );
    expect(replies.slice(3).map((r) => r.slice(0, 4))).toEqual(["250 ", "250 ", "354 ", "250 "]);
    await waitForQueueIdle(server.mailward.services.db);
    expect(sink.withMessageId(message.messageId).map((m) => m.rcptTo)).toEqual([["admin@example.com"]]);
  });

  it("gives it to whoever holds the address, else relays it as addressed when no admin has a mailbox here", async () => {
    const db = server.mailward.services.db;
    const held = await buildTenant(db, { domains: ["held.test"] });
    const holder = await buildUser(db, { tenantId: held.id, email: "postmaster@held.test" });
    await buildUser(db, { tenantId: held.id, email: "boss@held.test", roles: ["tenant_admin"] });
    const quiet = await buildTenant(db, { domains: ["quiet.test"] });
    // Its only admin signs in with an outside address: Microsoft 365 has no mailbox of theirs for us to relay to.
    await buildUser(db, { tenantId: quiet.id, email: "boss@partner.test", roles: ["tenant_admin"] });
    const toHolder = rawMessage({ from: "reporter@nice.test", to: "postmaster@held.test" });
    const toQuiet = rawMessage({ from: "reporter@nice.test", to: "postmaster@quiet.test" });
    for (const [message, to] of [
      [toHolder, "postmaster@held.test"],
      [toQuiet, "postmaster@quiet.test"],
    ] as const)
      expect(
        await smtpSend(server.smtpPort, { from: "reporter@nice.test", to: [to] }, message.raw),
      ).toMatchObject({ code: 250 });
    await waitForQueueIdle(db);
    expect((await archivedByMessageId(db, toHolder.messageId))?.links.map((l) => l.user_id)).toEqual([
      holder.id,
    ]);
    expect(sink.withMessageId(toQuiet.messageId).map((m) => m.rcptTo)).toEqual([["postmaster@quiet.test"]]);
    // Other unknown addresses there are still refused.
    const unknown = await smtpSend(
      server.smtpPort,
      { from: "reporter@nice.test", to: ["nobody@quiet.test"] },
      rawMessage({ from: "reporter@nice.test", to: "nobody@quiet.test" }).raw,
    );
    expect(unknown).toMatchObject({ ok: false, code: 550 });
  });
});
