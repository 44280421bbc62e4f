import nodemailer from "nodemailer";
import type Mail from "nodemailer/lib/mailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmtpSink, type SmtpSink } from "../../support/smtp-sink";
import { startSelfServiceFixture, type SelfServiceFixture } from "../held/support";

/**
 * DESIGN §6 precedence, one test per row, through the product's own surfaces:
 * rules are created with the API (/api/senders, /api/admin/senders), mail is sent
 * over real SMTP to the gateway, and the outcome is read back from the API
 * (GET /api/held) and from the next-hop sink (delivered) or the SMTP reply (rejected).
 */

let f: SelfServiceFixture;
let sink: SmtpSink;
let admin: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let n = 0;

beforeAll(async () => {
  sink = await startSmtpSink();
  f = await startSelfServiceFixture({ MAILWARD_NEXT_HOP: sink.address });
  admin = await f.user({ roles: ["security_admin"] });
});
afterAll(async () => {
  await f?.server.stop();
  await sink?.close();
});

/** Link tricks worth 5.5 points (IP host 2, text mismatch 2.5, shortener 1): held on score, but not high-confidence phish. */
const SUSPICIOUS_HTML =
  '<p>Hi, <a href="http://192.0.2.10/login">https://www.mybank.com/login</a> or <a href="https://bit.ly/abc">here</a>.</p>';
/** Adds a link with hidden userinfo (3 more): high-confidence phish. */
const PHISH_HTML = `${SUSPICIOUS_HTML}<p><a href="https://user:pw@evil.example/x">https://www.mybank.com</a></p>`;

interface Sent {
  messageId: string;
  subject: string;
  error: (Error & { responseCode?: number }) | null;
}

async function send(from: string, to: string, content: Partial<Mail.Options>): Promise<Sent> {
  n += 1;
  const messageId = `<precedence-${n}-${Date.now()}@test.example>`;
  const subject = `Precedence ${n}`;
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: f.server.smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await transport.sendMail({ from, to, subject, messageId, text: "Hello.", ...content });
    return { messageId, subject, error: null };
  } catch (err) {
    return { messageId, subject, error: err as Error & { responseCode?: number } };
  } finally {
    transport.close();
  }
}

type Person = Awaited<ReturnType<SelfServiceFixture["user"]>>;

/** What happened to a message for one person, as they and the next hop see it. */
async function outcome(person: Person, sent: Sent): Promise<string> {
  if (sent.error) return `rejected:${sent.error.responseCode ?? "?"}`;
  const held = await person.client.request("GET", `/api/held?q=${encodeURIComponent(sent.subject)}`);
  const item = (held.json.items as Array<{ subject: string; reason: string }>).find(
    (i) => i.subject === sent.subject,
  );
  if (item) return `held:${item.reason}`;
  await sink
    .waitFor(() => sink.withMessageId(sent.messageId, person.email).length > 0, 10_000)
    .catch(() => undefined);
  return sink.withMessageId(sent.messageId, person.email).length > 0 ? "delivered" : "nothing";
}

async function rule(who: Person, scope: "org" | "personal", pattern: string, kind: "block" | "permit") {
  const path = scope === "org" ? "/api/admin/senders" : "/api/senders";
  const res = await who.client.request("POST", path, { pattern, kind });
  expect(res.status, `${scope} ${kind} ${pattern}`).toBe(201);
}

describe("sender precedence (DESIGN §6)", () => {
  it("row 1: malware or high-confidence phish is held whatever the allow lists say", async () => {
    const person = await f.user();
    await rule(admin, "org", "row1.example", "permit");
    await rule(person, "personal", "row1.example", "permit");
    const malware = await send("Vendor <billing@row1.example>", person.email, {
      attachments: [
        { filename: "invoice.exe", content: Buffer.concat([Buffer.from("MZ"), Buffer.alloc(256)]) },
      ],
    });
    expect(await outcome(person, malware)).toBe("held:dangerous_attachment");
    const phish = await send("Vendor <billing@row1.example>", person.email, { html: PHISH_HTML });
    expect(await outcome(person, phish)).toBe("held:phish");
  });

  it("row 2: an organisation block rejects at SMTP time (550), even over a personal permit", async () => {
    const person = await f.user();
    await rule(admin, "org", "*.row2.example", "block");
    await rule(person, "personal", "boss@mail.row2.example", "permit");
    const sent = await send("boss@mail.row2.example", person.email, {});
    expect(await outcome(person, sent)).toBe("rejected:550");
  });

  it("row 3: an organisation permit delivers, even over a personal block and suspicious links", async () => {
    const person = await f.user();
    await rule(admin, "org", "row3.example", "permit");
    await rule(person, "personal", "news@row3.example", "block");
    const sent = await send("news@row3.example", person.email, { html: SUSPICIOUS_HTML });
    expect(await outcome(person, sent)).toBe("delivered");
  });

  it("row 4: a personal block holds (blocked_sender) for that person only", async () => {
    const person = await f.user();
    const colleague = await f.user();
    await rule(person, "personal", "row4.example", "block");
    const first = await send("promo@row4.example", person.email, {});
    expect(await outcome(person, first)).toBe("held:blocked_sender");
    const second = await send("promo@row4.example", colleague.email, {});
    expect(await outcome(colleague, second)).toBe("delivered");
  });

  it("row 5: a personal permit delivers what the score would hold", async () => {
    const person = await f.user();
    await rule(person, "personal", "alerts@row5.example", "permit");
    const sent = await send("alerts@row5.example", person.email, { html: SUSPICIOUS_HTML });
    expect(await outcome(person, sent)).toBe("delivered");
  });

  it("row 6: without rules, the signals' score decides: held at ≥ 5, delivered below", async () => {
    const person = await f.user();
    const suspicious = await send("alerts@row6.example", person.email, { html: SUSPICIOUS_HTML });
    expect(await outcome(person, suspicious)).toBe("held:phish");
    const clean = await send("friend@row6.example", person.email, { text: "Lunch at noon?" });
    expect(await outcome(person, clean)).toBe("delivered");
  });

  it("release-and-permit turns a personal block into a permit, so the sender's next message is delivered", async () => {
    const person = await f.user();
    await rule(person, "personal", "updates@row5b.example", "block");
    const first = await send("updates@row5b.example", person.email, {});
    expect(await outcome(person, first)).toBe("held:blocked_sender");
    const held = await person.client.request("GET", `/api/held?q=${encodeURIComponent(first.subject)}`);
    const id = (held.json.items as Array<{ id: string }>)[0]!.id;
    expect((await person.client.request("POST", `/api/held/${id}/release-and-permit`, {})).status).toBe(200);
    await sink.waitFor(() => sink.withMessageId(first.messageId, person.email).length === 1, 10_000);
    const second = await send("updates@row5b.example", person.email, { html: SUSPICIOUS_HTML });
    expect(await outcome(person, second)).toBe("delivered");
  });
});
