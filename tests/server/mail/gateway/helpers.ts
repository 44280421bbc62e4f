import { randomBytes } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import nodemailer from "nodemailer";
import type { Kysely } from "kysely";
import type { Database } from "../../../../server/db/schema";
import type { DnsResolver } from "../../../../server/mail/scan/index";
import { txtAnswer, type FakeTxtRecord } from "../scan/support/fake-dns";

/**
 * A DNS answer table for mailauth: name → TXT records, answered in 255-byte strings as real DNS does (see txtAnswer).
 * Anything else is NXDOMAIN.
 */
export function fakeDns(txt: Record<string, FakeTxtRecord[]>): DnsResolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolver = async (name: string, rrtype: string) => {
    lookups.push(`${rrtype} ${name}`);
    const records = rrtype.toUpperCase() === "TXT" ? txt[name.toLowerCase()] : undefined;
    if (!records) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: "ENOTFOUND", hostname: name });
    return records.map(txtAnswer);
  };
  return Object.assign(resolver, { lookups });
}

/**
 * The DNS most gateway tests use: a sender domain that authenticates, and a bank whose DMARC rejects strangers; `extra`
 * adds records (a DKIM key, say).
 */
export function standardDns(
  extra: Record<string, FakeTxtRecord[]> = {},
): DnsResolver & { lookups: string[] } {
  return fakeDns({
    "nice.test": ["v=spf1 ip4:127.0.0.1 -all"],
    "bank.test": ["v=spf1 ip4:192.0.2.1 -all"],
    "_dmarc.bank.test": ["v=DMARC1; p=reject"],
    ...extra,
  });
}

/**
 * The standard DNS, except that the first lookup of a `slow-*.test` domain itself (its SPF record) hangs until
 * `release`: a message from there stays in flight on its worker; asked again (on another worker), it is answered.
 */
export function stallingDns() {
  const standard = standardDns();
  const seen = new Set<string>();
  const stalled: string[] = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const resolver: DnsResolver = async (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    if (/^slow-[a-z]+\.test$/i.test(name) && !seen.has(key)) {
      seen.add(key);
      stalled.push(key);
      await released;
    }
    return standard(name, rrtype);
  };
  return { resolver, stalled, release };
}

/** A unique Message-ID. */
export function newMessageId(domain = "outside.test"): string {
  return `<${randomBytes(8).toString("hex")}@${domain}>`;
}

/** A raw RFC 5322 message with optional extra MIME (body and headers as given). */
export function rawMessage(input: {
  from: string;
  to: string;
  subject?: string;
  messageId?: string;
  body?: string;
  contentType?: string;
  extraHeaders?: string[];
}): {
  raw: Buffer;
  messageId: string;
} {
  const messageId = input.messageId ?? newMessageId();
  const lines = [
    `From: ${input.from}`,
    `To: ${input.to}`,
    `Subject: ${input.subject ?? `Hello ${randomBytes(3).toString("hex")}`}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${messageId}`,
    ...(input.extraHeaders ?? []),
    "MIME-Version: 1.0",
    `Content-Type: ${input.contentType ?? "text/plain; charset=utf-8"}`,
    "",
    input.body ?? `Just checking in about the order ${randomBytes(4).toString("hex")}.`,
    "",
  ];
  return { raw: Buffer.from(lines.join("\r\n")), messageId };
}

/** A message with one attachment (base64), e.g. an executable or a macro document. */
export function rawWithAttachment(input: {
  from: string;
  to: string;
  filename: string;
  content: Buffer;
  contentType?: string;
  body?: string;
}) {
  const boundary = `b-${randomBytes(6).toString("hex")}`;
  const body = [
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    input.body ?? "Please see the attached file.",
    `--${boundary}`,
    `Content-Type: ${input.contentType ?? "application/octet-stream"}; name="${input.filename}"`,
    `Content-Disposition: attachment; filename="${input.filename}"`,
    "Content-Transfer-Encoding: base64",
    "",
    input.content.toString("base64").replace(/.{76}/g, "$&\r\n"),
    `--${boundary}--`,
  ].join("\r\n");
  return rawMessage({
    from: input.from,
    to: input.to,
    body,
    contentType: `multipart/mixed; boundary="${boundary}"`,
  });
}

/** What the gateway answered to one SMTP transaction. */
export interface SmtpReply {
  ok: boolean;
  code: number;
  response: string;
}

/**
 * Sends raw bytes over real SMTP with nodemailer and reports the gateway's answer (never throws on an SMTP refusal).
 * `localAddress` (another loopback address, e.g. 127.0.0.2) makes the gateway see a client of its own, with its own
 * per-IP limits and AUTH throttle.
 */
export async function smtpSend(
  port: number,
  envelope: { from: string; to: string[] },
  raw: Buffer,
  options: { auth?: { user: string; pass: string }; requireTLS?: boolean; localAddress?: string } = {},
): Promise<SmtpReply> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    secure: false,
    ignoreTLS: !options.requireTLS && !options.auth,
    requireTLS: options.requireTLS ?? false,
    tls: { rejectUnauthorized: false },
    ...(options.auth ? { auth: options.auth } : {}),
    // Up to the greeting (nodemailer's connectionTimeout covers it): 30 s, as a CI box running three test files on
    // two cores can hold this process's event loop for seconds; a gateway that never greets still fails the test.
    connectionTimeout: 30_000,
    socketTimeout: 60_000,
  });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { ok: true, code: Number(/^(\d{3})/.exec(info.response)?.[1] ?? 250), response: info.response };
  } catch (err) {
    // No SMTP answer (code 0): the response names the client's error (ETIMEDOUT, ECONNECTION...), so a failing
    // assertion that prints it tells a network failure from a refusal.
    const e = err as { responseCode?: number; response?: string; message?: string; code?: string };
    return {
      ok: false,
      code: e.responseCode ?? 0,
      response: e.response ?? `${e.code ?? "error"}: ${e.message ?? String(err)}`,
    };
  } finally {
    transport.close();
  }
}

/** The archived message with this Message-ID, with its held items, deliveries and mailbox links. */
export async function archivedByMessageId(db: Kysely<Database>, messageId: string) {
  const message = await db
    .selectFrom("messages")
    .selectAll()
    .where("message_id", "=", messageId)
    .executeTakeFirst();
  if (!message) return null;
  const [held, deliveries, links] = await Promise.all([
    db.selectFrom("held_items").selectAll().where("message_id", "=", message.id).execute(),
    db.selectFrom("deliveries").selectAll().where("message_id", "=", message.id).execute(),
    db.selectFrom("mailbox_links").selectAll().where("message_id", "=", message.id).execute(),
  ]);
  return { message, held, deliveries, links };
}

/** Polls until no delivery is waiting or being sent (or the timeout passes). */
export async function waitForQueueIdle(db: Kysely<Database>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db
      .selectFrom("deliveries")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("state", "in", ["queued", "sending", "deferred"])
      .executeTakeFirstOrThrow();
    if (Number(row.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`queue still has ${row.n} deliveries after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An IP-address link (2) and a shortener (1): 3 points, delivered under the default hold threshold of 5. */
export const THREE_POINTS_HTML =
  '<p><a href="http://192.0.2.10/login">Sign in</a> or <a href="https://bit.ly/abc">here</a>.</p>';

/** Sends a message of 3 points (THREE_POINTS_HTML) over SMTP and returns what the gateway decided for its recipient. */
export async function threePointDecision(
  db: Kysely<Database>,
  port: number,
  to: string,
): Promise<{ action: string; score: number }> {
  const messageId = newMessageId("three-points.example");
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port, ignoreTLS: true });
  try {
    await transport.sendMail({
      from: "alerts@three-points.example",
      to,
      subject: "Three points",
      messageId,
      html: THREE_POINTS_HTML,
    });
  } finally {
    transport.close();
  }
  const archived = await archivedByMessageId(db, messageId);
  const record = archived!.message.assessment as { score: number; decisions: Array<{ action: string }> };
  return { action: record.decisions[0]!.action, score: record.score };
}

/** Reads one SMTP reply (possibly multi-line) from a raw socket. */
function reader(socket: net.Socket | tls.TLSSocket) {
  let buffer = "";
  const waiting: Array<(line: string) => void> = [];
  socket.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("latin1");
    for (;;) {
      const match = /(^|\n)(\d{3}) [^\n]*\n/.exec(buffer);
      if (!match) break;
      const end = match.index + match[0].length;
      const reply = buffer.slice(0, end);
      buffer = buffer.slice(end);
      waiting.shift()?.(reply);
    }
  });
  return () => new Promise<string>((resolve) => waiting.push(resolve));
}

/**
 * An SMTP session over a raw socket, for what nodemailer will not send: `say` writes one line and reads the reply.
 * `localAddress` (another loopback address) makes the gateway see a client of its own, as smtpSend's does.
 */
export async function rawSession(port: number, localAddress?: string) {
  const socket = net.connect({ port, host: "127.0.0.1", ...(localAddress ? { localAddress } : {}) });
  const next = reader(socket);
  const greeting = await next();
  const say = async (line: string) => {
    socket.write(`${line}\r\n`);
    return next();
  };
  return { socket, greeting, say };
}

/** Sends STARTTLS on a raw session and completes the handshake (any certificate taken): `say` then speaks over TLS. */
export async function startTls(session: Awaited<ReturnType<typeof rawSession>>) {
  const ready = await session.say("STARTTLS");
  if (!ready.startsWith("220")) throw new Error(`STARTTLS refused: ${ready}`);
  session.socket.removeAllListeners("data");
  const socket = tls.connect({ socket: session.socket, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  const next = reader(socket);
  const say = async (line: string) => {
    socket.write(`${line}\r\n`);
    return next();
  };
  return { socket, say };
}
