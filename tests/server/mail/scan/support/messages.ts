import { simpleParser, type ParsedMail } from "mailparser";
import type { Assessment, ScanInput, TenantContext } from "../../../../../server/mail/scan/types";

/** The tenant used across scan tests: contoso.com with two people. */
export const TENANT: TenantContext = {
  domains: ["contoso.com", "contoso-mail.co.uk"],
  people: [
    { displayName: "Jane Doe", email: "jane.doe@contoso.com" },
    { displayName: "Robert Smith", email: "robert.smith@contoso.com" },
  ],
};

/** Parts of a test message; anything left out gets a plain default. */
export interface MessageParts {
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  html?: string;
  headers?: string[];
  attachments?: Array<{ filename: string; contentType?: string; content: Buffer }>;
}

/** Builds a raw RFC 5322 message (CRLF) from parts, with base64 attachments. */
export function buildRaw(parts: MessageParts): Buffer {
  const boundary = "=_mw_test_boundary";
  const lines: string[] = [
    `From: ${parts.from ?? "Alice Sender <alice@example.org>"}`,
    `To: ${parts.to ?? "jane.doe@contoso.com"}`,
    `Subject: ${parts.subject ?? "Hello"}`,
    "Date: Mon, 02 Jun 2025 10:00:00 +0000",
    "Message-ID: <test-1@example.org>",
    "MIME-Version: 1.0",
    ...(parts.headers ?? []),
  ];
  const bodies: Array<{ type: string; body: string }> = [];
  if (parts.text !== undefined || parts.html === undefined)
    bodies.push({ type: "text/plain; charset=utf-8", body: parts.text ?? "Hi Jane, see you at lunch." });
  if (parts.html !== undefined) bodies.push({ type: "text/html; charset=utf-8", body: parts.html });
  const attachments = parts.attachments ?? [];
  if (bodies.length === 1 && attachments.length === 0) {
    lines.push(`Content-Type: ${bodies[0]?.type}`, "", bodies[0]?.body ?? "");
    return Buffer.from(lines.join("\r\n") + "\r\n");
  }
  lines.push(`Content-Type: multipart/mixed; boundary="${boundary}"`, "");
  for (const b of bodies) lines.push(`--${boundary}`, `Content-Type: ${b.type}`, "", b.body);
  for (const a of attachments) {
    lines.push(
      `--${boundary}`,
      `Content-Type: ${a.contentType ?? "application/octet-stream"}; name="${a.filename}"`,
      `Content-Disposition: attachment; filename="${a.filename}"`,
      "Content-Transfer-Encoding: base64",
      "",
      a.content.toString("base64").replace(/.{76}/g, "$&\r\n"),
    );
  }
  lines.push(`--${boundary}--`, "");
  return Buffer.from(lines.join("\r\n"));
}

/** A ScanInput for a raw message, parsed with mailparser's simpleParser. */
export async function scanInput(
  raw: Buffer,
  overrides: Partial<ScanInput["envelope"]> = {},
  tenant: TenantContext = TENANT,
): Promise<ScanInput> {
  const parsed = await simpleParser(raw);
  return {
    raw,
    parsed,
    envelope: {
      mailFrom: "alice@example.org",
      rcptTo: ["jane.doe@contoso.com"],
      clientIp: "192.0.2.25",
      helo: "mail.example.org",
      ...overrides,
    },
    tenant,
  };
}

/** True when the assessment carries a signal with this id. */
export function hasSignal(a: Pick<Assessment, "signals">, id: string): boolean {
  return a.signals.some((s) => s.id === id);
}

/** What mailparser gives for an empty message: a scan input whose parse does not matter to the test. */
export function emptyParsedMail(): ParsedMail {
  return { attachments: [], headers: new Map(), headerLines: [], html: false };
}

/**
 * Forwards past the limits on opening attached messages, each attached as `contentType` and hiding `program`
 * (tool.exe): `nested`, four forwards deep, and `outer`, a forward of `large`, over 5 MB once its photo is encoded.
 */
export function forwardsPastLimits(
  contentType: string,
  program: Buffer,
): { nested: Buffer; large: Buffer; outer: Buffer } {
  let nested = buildRaw({ from: "x@example.net", attachments: [{ filename: "tool.exe", content: program }] });
  for (let depth = 0; depth < 4; depth++) {
    nested = buildRaw({
      text: "fwd",
      attachments: [{ filename: `fwd${depth}.eml`, contentType, content: nested }],
    });
  }
  const large = buildRaw({
    from: "x@example.net",
    attachments: [
      { filename: "photos.jpg", content: Buffer.alloc(4 * 1024 * 1024, 0xff) },
      { filename: "tool.exe", content: program },
    ],
  });
  const outer = buildRaw({
    text: "forwarding",
    attachments: [{ filename: "fwd.eml", contentType, content: large }],
  });
  return { nested, large, outer };
}
