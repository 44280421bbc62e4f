import { spawnSync } from "node:child_process";
import { ensureDebianPackage } from "../scripts/debian-package";
import fs from "node:fs";
import path from "node:path";
import { sql, type Kysely } from "kysely";
import type { Database } from "../server/db/schema";

/** Whether the notmuch CLI is installed (Debian package `notmuch`). */
export function hasNotmuch(): boolean {
  return spawnSync("notmuch", ["--version"], { encoding: "utf8" }).status === 0;
}

/**
 * Whether notmuch is available, installing Debian's package first when it is missing and we are
 * root (the comparison is part of DESIGN §8's search target, so the bench fetches its tool itself).
 */
export function ensureNotmuch(log: (line: string) => void): boolean {
  return ensureDebianPackage("notmuch", hasNotmuch, log).ok;
}

function header(value: string): string {
  return value.replace(/[\r\n]+/g, " ");
}

/** One synthetic message as an .eml notmuch can index: the same fields the PostgreSQL rows hold. */
function eml(row: {
  message_id: string;
  from_name: string;
  from_address: string;
  to_addresses: string[];
  subject: string;
  date: Date | string;
  body_text: string;
  attachment_names: string[];
}): string {
  const head = [
    `From: ${row.from_name ? `"${header(row.from_name).replace(/"/g, "")}" ` : ""}<${row.from_address}>`,
    `To: ${row.to_addresses.join(", ")}`,
    `Subject: ${header(row.subject)}`,
    `Date: ${new Date(row.date).toUTCString()}`,
    `Message-ID: ${row.message_id}`,
    "MIME-Version: 1.0",
  ];
  if (row.attachment_names.length === 0) {
    return `${head.join("\n")}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${row.body_text}\n`;
  }
  const name = row.attachment_names[0] ?? "file.bin";
  return `${head.join("\n")}\nContent-Type: multipart/mixed; boundary="mwb"\n\n--mwb\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${row.body_text}\n--mwb\nContent-Type: application/octet-stream; name="${name}"\nContent-Disposition: attachment; filename="${name}"\nContent-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n--mwb--\n`;
}

/** Writes messages bench-1..bench-`count` as files under `dir`/mail (one file per message, 200 per folder). */
export async function writeMailFiles(
  db: Kysely<Database>,
  tenantId: string,
  dir: string,
  count: number,
): Promise<void> {
  fs.rmSync(dir, { recursive: true, force: true });
  for (let start = 1; start <= count; start += 5000) {
    const end = Math.min(count, start + 4999);
    const rows = await sql<
      Parameters<typeof eml>[0] & { i: number }
    >`SELECT g AS i, m.message_id, m.from_name, m.from_address, m.to_addresses, m.subject, m.date, m.body_text, m.attachment_names
      FROM generate_series(${start}::int, ${end}::int) g JOIN messages m ON m.tenant_id = ${tenantId} AND m.message_id = '<bench-' || g || '@mailward.bench>'`.execute(
      db,
    );
    for (const row of rows.rows) {
      const folder = path.join(dir, "mail", String(Math.floor(row.i / 200)));
      if (row.i % 200 === 0 || !fs.existsSync(folder)) fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(path.join(folder, `${row.i}.eml`), eml(row));
    }
  }
}

/** A notmuch configuration for the bench database (no tags, no excludes); `write` false keeps an existing one. */
export function notmuchEnv(dir: string, write = true): NodeJS.ProcessEnv {
  const config = path.join(dir, "notmuch-config");
  if (write || !fs.existsSync(config))
    fs.writeFileSync(
      config,
      `[database]\npath=${path.join(dir, "mail")}\n[new]\ntags=\nignore=\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n[user]\nname=Bench\nprimary_email=bench@bench.example\n`,
    );
  return { ...process.env, NOTMUCH_CONFIG: config };
}

/** Indexes the files with `notmuch new`; returns seconds taken. */
export function notmuchIndex(env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync("notmuch", ["new", "--quiet"], {
    env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`notmuch new failed: ${result.stderr}`);
  return (performance.now() - started) / 1000;
}

/** `notmuch count` of a query (messages); -1 when notmuch fails (e.g. no database yet). */
export function notmuchCount(env: NodeJS.ProcessEnv, query: string): number {
  const result = spawnSync("notmuch", ["count", query], { env, encoding: "utf8" });
  return result.status === 0 ? Number(result.stdout.trim()) : -1;
}

/** Runs one `notmuch search` (first page of 50, newest first, JSON summaries); returns ms and the count of results. */
export function notmuchSearch(env: NodeJS.ProcessEnv, query: string): { ms: number; results: number } {
  const started = performance.now();
  const result = spawnSync(
    "notmuch",
    ["search", "--format=json", "--limit=50", "--sort=newest-first", query],
    { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`notmuch search failed for ${query}: ${result.stderr}`);
  return { ms, results: (JSON.parse(result.stdout) as unknown[]).length };
}
