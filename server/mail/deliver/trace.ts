import { Headers } from "@zone-eu/mailsplit";
import type { Config } from "../../config";
import { bareAddress } from "../scan/client-ip";
import { hasLoneCrBefore, headerSeparatorOf } from "../scan/parse";
import type { ArcInput } from "../scan/types";
import { VERDICT_FIELD } from "./verdict-field";
import { storedJsonObject } from "../../db/jsonb-safe";

/**
 * The gateway's name: its SMTP greeting, the "by" of its Received fields and the authserv-id of its
 * Authentication-Results (the host of MAILWARD_PUBLIC_URL).
 */
export function gatewayHostname(config: Pick<Config, "MAILWARD_PUBLIC_URL">): string {
  return new URL(config.MAILWARD_PUBLIC_URL).hostname;
}

/**
 * What a signed-in sender proved at SMTP AUTH: one of their SMTP passwords (which one: the device) or
 * their account password. Kept for the message trace, never written into the message's header.
 */
export type SubmissionCredential =
  { kind: "smtp_password"; id: string; label: string } | { kind: "account_password" };

/**
 * What the gateway knew about the SMTP session a message came in on, stored with the archived copy
 * (`messages.trace`) so that every later relay of it, at once or after a release from quarantine,
 * carries the same trace fields.
 */
export interface MessageTrace {
  /** What the client said in HELO/EHLO. */
  helo: string;
  /** The connecting IP address. */
  clientIp: string;
  /** The session ran over TLS (STARTTLS or implicit). */
  tls: boolean;
  /** The sender signed in with SMTP AUTH (a submission from one of our users). */
  authenticated: boolean;
  /** With what they signed in (absent: not signed in, or stored before this was recorded). */
  credential?: SubmissionCredential;
  /** When the gateway accepted it (ISO 8601). */
  receivedAt: string;
  /** mailauth's Received-SPF and Authentication-Results fields (CRLF-terminated); "" when none were checked. */
  authenticationHeaders: string;
  /** What an ARC seal needs: our results and the incoming chain's state (absent: not checked, or a submission). */
  arc?: ArcInput | null;
}

/** A stored trace read back, or null when the column is empty or not a trace (never throws: a relay must not stop on it). */
export function messageTraceOf(value: unknown): MessageTrace | null {
  const t = storedJsonObject(value);
  if (!t) return null;
  if (
    typeof t.helo !== "string" ||
    typeof t.clientIp !== "string" ||
    typeof t.receivedAt !== "string" ||
    Number.isNaN(Date.parse(t.receivedAt))
  )
    return null;
  return {
    helo: t.helo,
    clientIp: t.clientIp,
    tls: t.tls === true,
    authenticated: t.authenticated === true,
    receivedAt: t.receivedAt,
    authenticationHeaders: typeof t.authenticationHeaders === "string" ? t.authenticationHeaders : "",
    ...arcOf(t.arc),
    ...credentialOf(t.credential),
  };
}

/** The stored submission credential, as a property to spread (none when absent or malformed). */
function credentialOf(value: unknown): Pick<MessageTrace, "credential"> {
  if (!value || typeof value !== "object") return {};
  const { kind, id, label } = value as Record<string, unknown>;
  if (kind === "account_password") return { credential: { kind } };
  if (kind === "smtp_password" && typeof id === "string" && typeof label === "string")
    return { credential: { kind, id, label } };
  return {};
}

/** The stored ARC input, as a property to spread (none when absent or malformed). */
function arcOf(value: unknown): Pick<MessageTrace, "arc"> {
  if (!value || typeof value !== "object") return {};
  const { authResults, chain } = value as Record<string, unknown>;
  return typeof authResults === "string" && typeof chain === "string" ? { arc: { authResults, chain } } : {};
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** An RFC 5322 date-time in UTC, e.g. "Sun, 29 Nov 2026 13:45:07 +0000". */
export function rfc5322Date(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${WEEKDAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/** The client's HELO as a domain-ish token: anything else (spaces, line breaks, comments) would let it forge fields. */
function heloToken(helo: string): string {
  const token = helo.trim().slice(0, 255);
  return /^(?:[A-Za-z0-9][A-Za-z0-9.\-_]*|\[(?:IPv6:)?[0-9A-Fa-f.:]+\])$/.test(token) ? token : "unknown";
}

/** The IP as an address literal: [192.0.2.1] or [IPv6:2001:db8::1]. */
function addressLiteral(ip: string): string {
  const bare = bareAddress(ip, { unmap: true }).replace(/[^0-9A-Fa-f.:]/g, "");
  return bare.includes(":") ? `[IPv6:${bare}]` : `[${bare}]`;
}

/**
 * The Received field RFC 5321 §4.4 requires of an SMTP server that relays a message: who connected
 * (HELO and IP), who received it, with which protocol (ESMTP, ESMTPS with TLS, ESMTPA/ESMTPSA
 * after AUTH, RFC 3848), our id (the archived message's) and the recipient, and when. A signed-in
 * sender's device is left out unless `showSubmitter` (MAILWARD_SHOW_SUBMITTER_CLIENT): its address is
 * often a person's home, and the field travels to every recipient. Submission services commonly
 * write their hop without a "from" clause; the message trace keeps the client.
 */
export function receivedField(
  trace: MessageTrace,
  relay: { hostname: string; id: string; recipient: string },
  options: { showSubmitter: boolean } = { showSubmitter: false },
): string {
  const protocol = `ESMTP${trace.tls ? "S" : ""}${trace.authenticated ? "A" : ""}`;
  const recipient = relay.recipient.replace(/[^\x21-\x7e]/g, "");
  const client =
    trace.authenticated && !options.showSubmitter
      ? ""
      : `from ${heloToken(trace.helo)} (${addressLiteral(trace.clientIp)})\r\n\t`;
  return (
    `Received: ${client}by ${relay.hostname} (Mailward) with ${protocol} id ${relay.id}\r\n` +
    `\tfor <${recipient}>; ${rfc5322Date(new Date(trace.receivedAt))}\r\n`
  );
}

/**
 * The authserv-id an Authentication-Results field claims (its first token, before the first ";"), as a receiver reads
 * it: comments removed however deeply nested, a quoted-string unquoted (RFC 8601 §2.2: the id is a `value`, token or
 * quoted-string, so `"mx.example"` is mx.example), and a trailing dot dropped (the same host name). Without that, a
 * sender's `"mx.mailward.example"; dmarc=pass` or `((x)) mx.mailward.example; ...` went through in our name.
 */
function authservIdOf(line: string): string {
  let value = line.slice(line.indexOf(":") + 1);
  for (let previous = ""; previous !== value;) {
    previous = value;
    value = value.replace(/\((?:[^()\\]|\\.)*\)/g, " ");
  }
  const trimmed = value.trim();
  const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(trimmed);
  const id = quoted
    ? (quoted[1] ?? "").replace(/\\(.)/g, "$1")
    : (trimmed.split(";")[0]?.trim().split(/\s+/)[0] ?? "");
  return id.trim().replace(/\.$/, "").toLowerCase();
}

/**
 * The message without the lines at its very start that begin with a space or a tab: they continue no field of
 * the message, and behind the fields we prepend they would continue the last of ours (a sender's "\tpermitted"
 * after our "X-Mailward-Verdict: clean"). No field of the message is lost.
 */
function withoutLeadingContinuation(raw: Buffer): Buffer {
  let start = 0;
  while (raw[start] === 0x20 || raw[start] === 0x09) {
    const lineFeed = raw.indexOf(0x0a, start);
    start = lineFeed < 0 ? raw.length : lineFeed + 1;
  }
  return start === 0 ? raw : raw.subarray(start);
}

/**
 * The message as the gateway relays it: `fields` (Received, then the authentication results and our
 * verdict) prepended, lines before its first field that would continue ours dropped, and any
 * Authentication-Results field that already claims our authserv-id removed, as RFC 8601 §5 requires
 * of a border MTA (otherwise anyone could send "dmarc=pass" in our name to the mailbox behind us); any
 * X-Mailward-Verdict field the sender wrote goes too, for the same reason. Everything else is byte for byte what was archived.
 */
export function relayedMessage(stored: Buffer, fields: string, authservId: string): Buffer {
  const ours = authservId.toLowerCase().replace(/\.$/, "");
  const raw = withoutLeadingContinuation(stored);
  const separator = headerSeparatorOf(raw);
  // The header block with its last line's break; the body starts after the blank line.
  const end = separator && {
    header: separator.at + separator.lineBreak,
    body: separator.at + 2 * separator.lineBreak,
  };
  const headerAsStored = end ? raw.subarray(0, end.header) : raw;
  // A lone CR is a line break to some next hops: read it as one here too, so a field after it is seen (and removed).
  const loneCr = hasLoneCrBefore(raw, separator ? separator.at : raw.length);
  const headerBlock = loneCr
    ? Buffer.from(headerAsStored.toString("latin1").replace(/\r(?!\n)/g, "\r\n"), "latin1")
    : headerAsStored;
  let message = loneCr ? (end ? Buffer.concat([headerBlock, raw.subarray(end.header)]) : headerBlock) : raw;
  if (/^(authentication-results|x-mailward-verdict)\s*:/im.test(headerBlock.toString("latin1"))) {
    const lines = new Headers(headerBlock).getList();
    const kept = lines.filter(
      (l) =>
        !(l.key === "authentication-results" && authservIdOf(l.line) === ours) &&
        l.key !== VERDICT_FIELD.toLowerCase(),
    );
    if (kept.length < lines.length) {
      // build() ends the block with its blank line; the body follows the original separator.
      const rebuilt = new Headers(kept).build();
      message = end ? Buffer.concat([rebuilt, raw.subarray(end.body)]) : rebuilt;
    }
  }
  return Buffer.concat([Buffer.from(fields, "utf8"), message]);
}
