import { randomBytes } from "node:crypto";

/** What a bounce reports: the failed recipient and the next hop's answer. */
export interface BounceFacts {
  /** Our host name (Reporting-MTA). */
  reportingMta: string;
  /** The original envelope sender, who receives the report. */
  to: string;
  recipient: string;
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** The remote's reply text, or why we gave up. */
  diagnostic: string;
  /** "smtp" when the text is the next hop's reply, "x-mailward" when it is ours (retry time exceeded). */
  diagnosticType: "smtp" | "x-mailward";
  arrivalDate: Date;
  now: Date;
  /** The original message's header block (returned as text/rfc822-headers). */
  originalHeaders: string;
  originalMessageId: string | null;
}

/** The header block of a raw message (up to the first empty line), capped so a bounce stays small. */
export function headerBlockOf(raw: Buffer, maxBytes = 64 * 1024): string {
  const text = raw.subarray(0, Math.min(raw.length, maxBytes)).toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  return (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n/g, "\r\n");
}

/** The RFC 3463 status code inside a reply ("550 5.1.1 ..."), or a class default. */
export function enhancedStatusOf(response: string, code: number): string {
  const match = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(response);
  if (match) return `${match[1]}.${match[2]}.${match[3]}`;
  return code >= 500 ? "5.0.0" : "4.0.0";
}

function foldAscii(text: string): string {
  // Header values stay ASCII on one line; long replies are cut, not folded.
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 900);
}

/**
 * A delivery status notification (RFC 3461/3464): multipart/report with a
 * human part, the machine-readable message/delivery-status, and the original
 * headers. It is sent with the null sender, so it can never bounce back.
 */
export function buildDsn(facts: BounceFacts): Buffer {
  const boundary = `mw-dsn-${randomBytes(12).toString("hex")}`;
  const id = `<dsn-${randomBytes(12).toString("hex")}@${facts.reportingMta}>`;
  const permanent = facts.status.startsWith("5");
  const human = [
    "This is the mail system at " + facts.reportingMta + ".",
    "",
    permanent
      ? "Your message could not be delivered to the recipient below. The receiving system refused it:"
      : "Your message could not be delivered to the recipient below, and we have stopped trying:",
    "",
    `  <${facts.recipient}>: ${foldAscii(facts.diagnostic)}`,
    "",
  ].join("\r\n");
  const status = [
    `Reporting-MTA: dns; ${facts.reportingMta}`,
    `Arrival-Date: ${facts.arrivalDate.toUTCString()}`,
    "",
    `Final-Recipient: rfc822; ${facts.recipient}`,
    `Original-Recipient: rfc822; ${facts.recipient}`,
    "Action: failed",
    `Status: ${facts.status}`,
    `Diagnostic-Code: ${facts.diagnosticType}; ${foldAscii(facts.diagnostic)}`,
    `Last-Attempt-Date: ${facts.now.toUTCString()}`,
    "",
  ].join("\r\n");
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${facts.reportingMta}>`,
    `To: <${facts.to}>`,
    `Subject: Undelivered Mail Returned to Sender`,
    `Date: ${facts.now.toUTCString()}`,
    `Message-ID: ${id}`,
    ...(facts.originalMessageId
      ? [
          `In-Reply-To: ${foldAscii(facts.originalMessageId)}`,
          `References: ${foldAscii(facts.originalMessageId)}`,
        ]
      : []),
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated delivery status notification.",
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "Content-Description: Notification",
    "",
    human,
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "Content-Description: Delivery report",
    "",
    status,
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "Content-Description: Undelivered message headers",
    "",
    facts.originalHeaders,
    "",
    `--${boundary}--`,
    "",
  ];
  return Buffer.from(lines.join("\r\n"), "latin1");
}
