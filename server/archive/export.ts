import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { sql, type Kysely } from "kysely";
import { ZipFile } from "yazl";
import type { Database } from "../db/schema";
import { compileWhere, type QueryNode } from "./query";
import type { ArchiveScope } from "./scope";

/** Most messages one export holds; a bigger one is refused, to be split by date range (after:, before:). */
export const EXPORT_LIMIT = 50_000;
const BATCH = 100;

/** One exported message: its id, file name inside the export, and stored hash. */
export interface ExportEntry {
  id: string;
  sha256: string;
  date: Date;
  messageId: string | null;
}

/**
 * Everything in scope that matches a query (or the given ids), oldest first, up to `limit`, and one more when more
 * match (so the caller can tell a full export from a cut one).
 */
export async function exportEntries(
  db: Kysely<Database>,
  scope: ArchiveScope,
  ast: QueryNode | null,
  ids: string[] | null,
  limit = EXPORT_LIMIT,
): Promise<ExportEntry[]> {
  const scopeFilter =
    scope.kind === "tenant"
      ? sql``
      : sql`AND EXISTS (SELECT 1 FROM mailbox_links l WHERE l.message_id = m.id AND l.tenant_id = ${scope.tenantId} AND l.user_id IN (${sql.join(scope.userIds)}))`;
  const idFilter = ids ? sql`AND m.id IN (${sql.join(ids)})` : sql``;
  const result = await sql<{
    id: string;
    sha256: string;
    date: Date | string;
    message_id: string | null;
  }>`SELECT m.id, m.sha256, m.date, m.message_id
    FROM messages m WHERE m.tenant_id = ${scope.tenantId} ${scopeFilter} ${idFilter} AND ${compileWhere(ast, { tableAlias: "m" })}
    ORDER BY m.date, m.id LIMIT ${limit + 1}`.execute(db);
  return result.rows.map((r) => ({
    id: r.id,
    sha256: r.sha256,
    date: new Date(r.date),
    messageId: r.message_id,
  }));
}

/** Reads stored raw messages in batches, checking each against its stored SHA-256 (tampering fails the export). */
async function* rawMessages(
  db: Kysely<Database>,
  tenantId: string,
  entries: ExportEntry[],
): AsyncGenerator<{ entry: ExportEntry; raw: Buffer }> {
  for (let start = 0; start < entries.length; start += BATCH) {
    const batch = entries.slice(start, start + BATCH);
    const blobs = await db
      .selectFrom("message_blobs")
      .select(["sha256", "content", "compression"])
      .where("tenant_id", "=", tenantId)
      .where(
        "sha256",
        "in",
        batch.map((e) => e.sha256),
      )
      .execute();
    const bySha = new Map(blobs.map((b) => [b.sha256, b]));
    for (const entry of batch) {
      const blob = bySha.get(entry.sha256);
      if (!blob) throw new Error(`export: stored content of ${entry.id} is missing`);
      const bytes = Buffer.from(blob.content);
      const raw = blob.compression === "gzip" ? gunzipSync(bytes) : bytes;
      if (createHash("sha256").update(raw).digest("hex") !== entry.sha256)
        throw new Error(`export: ${entry.id} does not match its stored hash`);
      yield { entry, raw };
    }
  }
}

/** The file name of one message inside a zip export. */
export function emlName(entry: ExportEntry, index: number): string {
  return `messages/${String(index + 1).padStart(6, "0")}-${entry.date.toISOString().slice(0, 10)}-${entry.id}.eml`;
}

/** A manifest in `sha256sum` format, so `sha256sum -c manifest.sha256` verifies an unpacked zip. */
function manifestLine(sha256: string, name: string): string {
  return `${sha256}  ${name}\n`;
}

/** Streams a zip of .eml files plus manifest.sha256 and manifest.json to `out`. */
export async function writeZipExport(
  db: Kysely<Database>,
  tenantId: string,
  entries: ExportEntry[],
  meta: Record<string, unknown>,
  out: Writable,
): Promise<void> {
  const zip = new ZipFile();
  const done = new Promise<void>((resolve, reject) => {
    out.on("finish", resolve);
    out.on("error", reject);
    zip.outputStream.on("error", reject);
  });
  zip.outputStream.pipe(out);
  let manifest = "";
  let index = 0;
  for await (const { entry, raw } of rawMessages(db, tenantId, entries)) {
    const name = emlName(entry, index++);
    zip.addBuffer(raw, name, { mtime: entry.date, compress: true });
    manifest += manifestLine(entry.sha256, name);
  }
  zip.addBuffer(Buffer.from(manifest), "manifest.sha256");
  zip.addBuffer(
    Buffer.from(JSON.stringify({ ...meta, count: entries.length, algorithm: "SHA-256" }, null, 2)),
    "manifest.json",
  );
  zip.end();
  await done;
}

/**
 * mboxrd: every line that starts with zero or more '>' then "From " gets one more '>'. Lines end at LF only, as the
 * reader (mbox.ts) splits them: a CR alone ends no line, so "\rFrom " must stay as it is to read back the same bytes.
 */
export function mboxrdEscape(raw: Buffer): Buffer {
  const text = raw.toString("latin1");
  return Buffer.from(text.replace(/(^|\n)(>*From )/g, "$1>$2"), "latin1");
}

function fromLine(date: Date): string {
  return `From MAILER-DAEMON ${date.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, "$1 $3 $2 $5 $4")}\n`;
}

const MANIFEST_FROM = "From: Mailward export <export@mailward.invalid>";
const MANIFEST_SUBJECT = "Subject: Mailward export manifest";
const MANIFEST_TYPE = "Content-Type: text/plain; charset=utf-8";
const MANIFEST_LINE = /^([0-9a-f]{64}) {2}\S/;

/**
 * The SHA-256s an mbox export's manifest lists, when `raw` (as read back from the mbox) is one exactly as
 * `writeMboxExport` writes it: its four header lines, a JSON summary whose `count` is the number of hash lines, and
 * only hash lines after it. Null for anything else. `import` and `train` skip it, so re-importing an export does not
 * file the manifest as a message.
 */
export function exportManifestHashes(raw: Buffer): string[] | null {
  const text = raw.toString("utf8");
  const headEnd = text.indexOf("\n\n");
  if (headEnd < 0) return null;
  const [from, subject, date, type, ...more] = text.slice(0, headEnd).split("\n");
  if (from !== MANIFEST_FROM || subject !== MANIFEST_SUBJECT || type !== MANIFEST_TYPE || more.length > 0)
    return null;
  if (!date?.startsWith("Date: ") || Number.isNaN(Date.parse(date.slice(6)))) return null;
  const body = text.slice(headEnd + 2);
  const summaryEnd = body.indexOf("\n\n");
  if (summaryEnd < 0) return null;
  let summary: unknown;
  try {
    summary = JSON.parse(body.slice(0, summaryEnd));
  } catch {
    return null;
  }
  const lines = body.slice(summaryEnd + 2).split("\n");
  if (lines.pop() !== "") return null; // each hash line ends with a newline
  const hashes = lines.map((line) => MANIFEST_LINE.exec(line)?.[1]);
  if (
    typeof summary !== "object" ||
    summary === null ||
    !("algorithm" in summary && summary.algorithm === "SHA-256") ||
    !("count" in summary && summary.count === hashes.length)
  )
    return null;
  return hashes.every((h) => h !== undefined) ? hashes : null;
}

/**
 * Streams one mboxrd file: each message after a "From " line, escaped, followed by a blank line;
 * the last message is the manifest (subject "Mailward export manifest", one `sha256  Message-ID` per
 * line, hashes of the original bytes before escaping), which `exportManifestHashes` recognises.
 */
export async function writeMboxExport(
  db: Kysely<Database>,
  tenantId: string,
  entries: ExportEntry[],
  meta: Record<string, unknown>,
  out: Writable,
): Promise<void> {
  const write = (chunk: Buffer | string) =>
    out.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => out.once("drain", () => resolve()));
  let manifest = "";
  for await (const { entry, raw } of rawMessages(db, tenantId, entries)) {
    await write(fromLine(entry.date));
    const escaped = mboxrdEscape(raw);
    await write(escaped);
    await write(escaped.length > 0 && escaped[escaped.length - 1] === 10 ? "\n" : "\n\n");
    manifest += manifestLine(entry.sha256, entry.messageId ?? entry.id);
  }
  const now = new Date();
  const summary = `${JSON.stringify({ ...meta, count: entries.length, algorithm: "SHA-256" })}\n\n${manifest}`;
  await write(fromLine(now));
  const header = `${MANIFEST_FROM}\n${MANIFEST_SUBJECT}\nDate: ${now.toUTCString()}\n${MANIFEST_TYPE}\n\n`;
  await write(Buffer.concat([Buffer.from(header), mboxrdEscape(Buffer.from(summary)), Buffer.from("\n")]));
  await new Promise<void>((resolve) => out.end(() => resolve()));
}
