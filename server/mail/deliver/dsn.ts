import { randomBytes } from "node:crypto";
import MimeNode from "nodemailer/lib/mime-node";

/** One failed recipient of a report and the next hop's answer for it. */
export interface RecipientFailure {
  recipient: string;
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** The remote's reply text, or why we gave up. */
  diagnostic: string;
  /** "smtp" when the text is the next hop's reply, "x-mailward" when it is ours (retry time exceeded). */
  diagnosticType: "smtp" | "x-mailward";
}

/** What a bounce reports: the failed recipients of one message (RFC 3464 gives each its own block). */
export interface BounceFacts {
  /** Our host name (Reporting-MTA). */
  reportingMta: string;
  /** The original envelope sender, who receives the report. */
  to: string;
  /** At least one. */
  failures: readonly RecipientFailure[];
  arrivalDate: Date;
  now: Date;
  /** The original message's header block (returned as text/rfc822-headers), as `headerBlockOf` gives it. */
  originalHeaders: Buffer;
  originalMessageId: string | null;
}

/**
 * The header block of a raw message (up to the first empty line) with CRLF line ends, capped so a bounce
 * stays small. Bytes, not text: a header of 8-bit bytes is returned as it arrived.
 */
export function headerBlockOf(raw: Buffer, maxBytes = 64 * 1024): Buffer {
  // latin1 maps each byte to one character and back, so the bytes survive the text operations unchanged.
  const text = raw.subarray(0, Math.min(raw.length, maxBytes)).toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  return Buffer.from((end >= 0 ? text.slice(0, end) : text).replace(/\r?\n/g, "\r\n"), "latin1");
}

/**
 * The RFC 3463 status code of a reply ("550 5.1.1 ..."), or a class default. RFC 2034 puts it first after the reply
 * code, and its class must be the reply's: a number further on (an IP address "4.3.2.1", a "version 2.0.0") is text.
 */
export function enhancedStatusOf(response: string, code: number): string {
  const fallback = code >= 500 ? "5.0.0" : "4.0.0";
  const match = /^(?:\d{3}[ -])?([245])\.(\d{1,3})\.(\d{1,3})(?![.\d])/.exec(response.trimStart());
  if (!match || match[1] !== fallback[0]) return fallback;
  return `${match[1]}.${match[2]}.${match[3]}`;
}

/** An RFC 5322 date-time in UTC ("Mon, 01 Jan 2024 00:05:00 +0000"; toUTCString's "GMT" is the obsolete zone form). */
function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, "+0000");
}

function foldAscii(text: string): string {
  // Header values stay ASCII on one line; long replies are cut, not folded.
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 900);
}

/**
 * The original headers as MIME content: as text when they are ASCII (nodemailer then keeps them 7bit unless a line
 * is long), else as the exact bytes (encoded for transport, decoded back to the same bytes).
 */
function headersContent(headers: Buffer): string | Buffer {
  return headers.every((byte) => byte < 0x80) ? headers.toString("latin1") : headers;
}

/**
 * A delivery status notification (RFC 3461/3464): multipart/report with a human part, the machine-readable
 * message/delivery-status, and the original headers, composed by nodemailer's MIME builder. It is sent with the
 * null sender, so it can never bounce back.
 */
export async function buildDsn(facts: BounceFacts): Promise<Buffer> {
  const permanent = facts.failures.every((f) => f.status.startsWith("5"));
  const several = facts.failures.length > 1;
  const whom = several ? "the recipients below" : "the recipient below";
  const human = [
    `This is the mail system at ${facts.reportingMta}.`,
    "",
    permanent
      ? `Your message could not be delivered to ${whom}. The receiving system refused it:`
      : `Your message could not be delivered to ${whom}, and we have stopped trying:`,
    "",
    ...facts.failures.map((f) => `  <${f.recipient}>: ${foldAscii(f.diagnostic)}`),
    "",
  ].join("\r\n");
  // RFC 3464 §2.1: the per-message fields, then one block of per-recipient fields for each recipient.
  const status = [
    `Reporting-MTA: dns; ${facts.reportingMta}`,
    `Arrival-Date: ${rfc5322Date(facts.arrivalDate)}`,
    ...facts.failures.flatMap((f) => [
      "",
      `Final-Recipient: rfc822; ${f.recipient}`,
      `Original-Recipient: rfc822; ${f.recipient}`,
      "Action: failed",
      `Status: ${f.status}`,
      `Diagnostic-Code: ${f.diagnosticType}; ${foldAscii(f.diagnostic)}`,
      `Last-Attempt-Date: ${rfc5322Date(facts.now)}`,
    ]),
    "",
  ].join("\r\n");
  const report = new MimeNode("multipart/report; report-type=delivery-status", {
    hostname: facts.reportingMta,
    newline: "\r\n",
  });
  report.setHeader({
    From: { name: "Mail Delivery System", address: `MAILER-DAEMON@${facts.reportingMta}` },
    To: facts.to,
    Subject: "Undelivered Mail Returned to Sender",
    Date: facts.now,
    "Message-ID": `<dsn-${randomBytes(12).toString("hex")}@${facts.reportingMta}>`,
    "Auto-Submitted": "auto-replied",
  });
  if (facts.originalMessageId) {
    const original = foldAscii(facts.originalMessageId);
    report.setHeader({ "In-Reply-To": original, References: original });
  }
  report
    .createChild("text/plain; charset=us-ascii")
    .setHeader("Content-Description", "Notification")
    .setContent(human);
  report
    .createChild("message/delivery-status")
    .setHeader("Content-Description", "Delivery report")
    .setContent(status);
  report
    .createChild("text/rfc822-headers")
    .setHeader("Content-Description", "Undelivered message headers")
    .setContent(headersContent(facts.originalHeaders));
  return report.build();
}
