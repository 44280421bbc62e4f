import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../../server/db/schema";
import { fileMessage } from "../../../server/mail/ingest";
import type { Role } from "../../../shared/permissions";
import { tenantOfDomain } from "../../factories";
import { signedInPerson } from "../../support/sign-in";

/** The password every archive test user has. */
export const PASSWORD = "archive tests passphrase";

/** A word that appears nowhere else (lower-case letters only, so every tokeniser agrees). */
export function uniqueWord(prefix = "zq"): string {
  return `${prefix}${randomBytes(5)
    .toString("hex")
    .replace(/[0-9]/g, (d) => "abcdefghij"[Number(d)] ?? "a")}`;
}

/** The server's first tenant (the one example.com belongs to). */
export async function defaultTenant(db: Kysely<Database>): Promise<string> {
  return await tenantOfDomain(db);
}

/** A signed-in person of the default tenant with the given roles. */
export async function signedIn(
  db: Kysely<Database>,
  baseUrl: string,
  roles: Role[] = ["agent"],
  extra: { teamId?: string | null; partnerId?: string | null } = {},
) {
  const tenantId = await defaultTenant(db);
  return signedInPerson(db, baseUrl, { tenantId, roles, password: PASSWORD, ...extra });
}

/** Files raw mail into people's mailboxes through the archive write path. */
export async function fileFor(
  db: Kysely<Database>,
  tenantId: string,
  raw: Buffer,
  owners: Array<{ id: string; folder?: "inbox" | "sent" }>,
  receivedAt = new Date(),
) {
  return fileMessage(
    db,
    tenantId,
    raw,
    { mailFrom: "", rcptTo: [], direction: "inbound", source: "import", receivedAt },
    owners.map((o) => ({ userId: o.id, folder: o.folder ?? "inbox" })),
  );
}

/** A raw message with optional HTML, attachments and threading headers. */
export function mimeMessage(input: {
  from?: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string;
  date?: Date;
  attachments?: Array<{ filename: string; content: Buffer; contentType?: string }>;
}): Buffer {
  const boundary = `b${randomBytes(6).toString("hex")}`;
  const head = [
    `From: ${input.from ?? "Customer <customer@outside.example>"}`,
    `To: ${input.to}`,
    `Subject: ${input.subject}`,
    `Date: ${(input.date ?? new Date()).toUTCString()}`,
    `Message-ID: ${input.messageId ?? `<${randomBytes(6).toString("hex")}@outside.example>`}`,
    ...(input.inReplyTo ? [`In-Reply-To: ${input.inReplyTo}`] : []),
    ...(input.references ? [`References: ${input.references}`] : []),
    "MIME-Version: 1.0",
  ];
  const parts = [`Content-Type: text/plain; charset=utf-8\r\n\r\n${input.text}\r\n`];
  if (input.html) parts.push(`Content-Type: text/html; charset=utf-8\r\n\r\n${input.html}\r\n`);
  for (const a of input.attachments ?? []) {
    parts.push(
      `Content-Type: ${a.contentType ?? "application/octet-stream"}; name="${a.filename}"\r\nContent-Disposition: attachment; filename="${a.filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${a.content.toString("base64")}\r\n`,
    );
  }
  const body = `${parts.map((p) => `--${boundary}\r\n${p}`).join("")}--${boundary}--\r\n`;
  return Buffer.from(
    `${head.join("\r\n")}\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${body}`,
  );
}
