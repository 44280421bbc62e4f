import nodemailer from "nodemailer";
import type Mail from "nodemailer/lib/mailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { startSelfServiceFixture, type SelfServiceFixture } from "../../held/support";
import { archivedByMessageId } from "../gateway/helpers";

// Microsoft 365 is told what the gateway decided for each copy it relays (X-Mailward-Verdict), so IT's mail flow
// rules can keep a person's permit or release from being undone by Exchange's own filter, and send suspect mail to
// Junk. Real SMTP in and out, rules and releases through the API.
let f: SelfServiceFixture;
let sink: SmtpSink;
let n = 0;
/** A security admin, for the message trace. */
let tracer: Awaited<ReturnType<SelfServiceFixture["user"]>> | undefined;

/** An IP-address link (2) and a shortener (1): 3 points, suspect here, not held. */
const SUSPECT_HTML =
  '<p><a href="http://192.0.2.10/login">Sign in</a> or <a href="https://bit.ly/abc">here</a>.</p>';
/** Link tricks worth 5.5 points: held on score without a permit. */
const HELD_HTML =
  '<p>Hi, <a href="http://192.0.2.10/login">https://www.mybank.com/login</a> or <a href="https://bit.ly/abc">here</a>.</p>';

beforeAll(async () => {
  sink = await startSmtpSink();
  f = await startSelfServiceFixture({ MAILWARD_NEXT_HOP: sink.address, MAILWARD_SUSPECT_SCORE: "2.5" });
});
afterAll(async () => {
  await f?.server.stop();
  await sink?.close();
});

async function send(from: string, to: string, content: Partial<Mail.Options>) {
  n += 1;
  const messageId = `<verdict-${n}-${Date.now()}@test.example>`;
  const subject = `Verdict ${n}`;
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: f.server.smtpPort,
    ignoreTLS: true,
  });
  try {
    await transport.sendMail({ from, to, subject, messageId, text: "Hello.", ...content });
  } finally {
    transport.close();
  }
  return { messageId, subject };
}

/** The X-Mailward-Verdict fields of the copy the next hop got for `to`. */
async function verdictFields(messageId: string, to: string): Promise<string[]> {
  await sink.waitFor(() => sink.withMessageId(messageId, to).length === 1, 10_000);
  const relayed = sink.withMessageId(messageId, to)[0]!.raw.toString("latin1");
  const header = relayed.slice(0, relayed.indexOf("\r\n\r\n") + 2);
  return [...header.matchAll(/^x-mailward-verdict:[^\r]*\r\n/gim)].map((m) => m[0]);
}

/** A sender rule of the person's own, made through the API as they would. */
async function personalRule(
  person: Awaited<ReturnType<SelfServiceFixture["user"]>>,
  pattern: string,
  kind: string,
) {
  expect((await person.client.request("POST", "/api/senders", { pattern, kind })).status).toBe(201);
}

/** What the message trace says the copy for `to` was relayed as (a security admin's view). */
async function tracedAs(messageId: string, to: string): Promise<string | null | undefined> {
  const admin = (tracer ??= await f.user({ roles: ["security_admin"] }));
  const res = await admin.client.request(
    "GET",
    `/api/admin/trace?messageId=${encodeURIComponent(messageId)}`,
  );
  const items = res.json.items as Array<{
    recipients: Array<{ recipient: string; delivery: { relayedAs: string | null } | null }>;
  }>;
  return items[0]?.recipients.find((r) => r.recipient === to)?.delivery?.relayedAs;
}

async function scoreOf(messageId: string): Promise<string> {
  const archived = await archivedByMessageId(f.server.mailward.services.db, messageId);
  return (archived!.message.assessment as { score: number }).score.toFixed(2);
}

describe("the verdict relayed to Microsoft 365", () => {
  it("is clean below the suspect score and suspect from it, with the archived score", async () => {
    const person = await f.user();
    const clean = await send("friend@verdict1.example", person.email, { text: "Lunch at noon?" });
    expect(await verdictFields(clean.messageId, person.email)).toEqual([
      `X-Mailward-Verdict: clean; score=${await scoreOf(clean.messageId)}\r\n`,
    ]);
    const suspect = await send("alerts@verdict1.example", person.email, { html: SUSPECT_HTML });
    const score = await scoreOf(suspect.messageId);
    expect(Number(score)).toBeGreaterThanOrEqual(2.5);
    expect(await verdictFields(suspect.messageId, person.email)).toEqual([
      `X-Mailward-Verdict: suspect; score=${score}\r\n`,
    ]);
    // The message trace says the same, for IT checking their mail flow rules.
    expect(await tracedAs(suspect.messageId, person.email)).toBe("suspect");
    expect(await tracedAs(clean.messageId, person.email)).toBe("clean");
  });

  it("says permitted for the person whose permit let a scored message through", async () => {
    const person = await f.user();
    await personalRule(person, "alerts@verdict2.example", "permit");
    const sent = await send("alerts@verdict2.example", person.email, { html: HELD_HTML });
    expect(await verdictFields(sent.messageId, person.email)).toEqual([
      `X-Mailward-Verdict: permitted; score=${await scoreOf(sent.messageId)}\r\n`,
    ]);
    expect(await tracedAs(sent.messageId, person.email)).toBe("permitted");
  });

  it("says released for mail a person released from quarantine", async () => {
    const person = await f.user();
    // Held by the person's own block (phish they could only ask security to release).
    await personalRule(person, "news@verdict3.example", "block");
    const sent = await send("news@verdict3.example", person.email, { text: "Our news." });
    const held = await f.server.mailward.services.db
      .selectFrom("held_items")
      .select("id")
      .where("user_id", "=", person.id)
      .executeTakeFirstOrThrow();
    expect((await person.client.request("POST", `/api/held/${held.id}/release`, {})).status).toBe(200);
    expect(await verdictFields(sent.messageId, person.email)).toEqual([
      `X-Mailward-Verdict: released; score=${await scoreOf(sent.messageId)}\r\n`,
    ]);
    expect(await tracedAs(sent.messageId, person.email)).toBe("released");
  });

  it("follows the organisation's own suspect score, set by IT in the portal", async () => {
    const admin = (tracer ??= await f.user({ roles: ["security_admin"] }));
    const person = await f.user();
    expect((await admin.client.request("PUT", "/api/admin/settings", { suspectScore: 3.5 })).status).toBe(
      200,
    );
    try {
      const sent = await send("alerts@verdict5.example", person.email, { html: SUSPECT_HTML });
      expect(Number(await scoreOf(sent.messageId))).toBeLessThan(3.5);
      expect(await verdictFields(sent.messageId, person.email)).toEqual([
        `X-Mailward-Verdict: clean; score=${await scoreOf(sent.messageId)}\r\n`,
      ]);
      expect(await tracedAs(sent.messageId, person.email)).toBe("clean");
    } finally {
      expect((await admin.client.request("PUT", "/api/admin/settings", { suspectScore: 2.5 })).status).toBe(
        200,
      );
    }
  });

  it("replaces whatever verdict the sender wrote in", async () => {
    const person = await f.user();
    const sent = await send("friend@verdict4.example", person.email, {
      text: "Lunch at noon?",
      headers: { "X-Mailward-Verdict": "permitted" },
    });
    expect(await verdictFields(sent.messageId, person.email)).toEqual([
      `X-Mailward-Verdict: clean; score=${await scoreOf(sent.messageId)}\r\n`,
    ]);
  });
});
