import { gunzipSync } from "node:zlib";
import type { Kysely } from "kysely";
import { simpleParser } from "mailparser";
import type { Database } from "../../../server/db/schema";
import { readRawMessage } from "../../../server/archive/store";

/** A digest as its recipient reads it: subject, text and the action links in order. */
export interface ReadDigest {
  subject: string;
  text: string;
  html: string;
  links: Array<{ action: string; url: string }>;
}

/** Extracts the action links (`data-mw-action`) of a digest's HTML, in order. */
export function digestLinks(html: string): Array<{ action: string; url: string }> {
  const out: Array<{ action: string; url: string }> = [];
  const re = /<a href="([^"]+)" data-mw-action="([a-z-]+)">/g;
  for (let m = re.exec(html); m; m = re.exec(html))
    out.push({ action: m[2] ?? "", url: (m[1] ?? "").replace(/&amp;/g, "&") });
  return out;
}

/** Parses a digest mail's raw MIME. */
export async function readDigestMime(raw: Buffer): Promise<ReadDigest> {
  const parsed = await simpleParser(raw);
  const html = typeof parsed.html === "string" ? parsed.html : "";
  return { subject: parsed.subject ?? "", text: parsed.text ?? "", html, links: digestLinks(html) };
}

/** Reads the digest a digests row points at as it goes out: the live copy waiting in its delivery row. */
export async function readStoredDigest(
  db: Kysely<Database>,
  tenantId: string,
  digestId: string,
): Promise<ReadDigest> {
  const row = await db
    .selectFrom("digests as g")
    .innerJoin("deliveries as d", "d.message_id", "g.message_id")
    .select("d.transient_raw")
    .where("g.id", "=", digestId)
    .where("d.tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
  if (!row.transient_raw) throw new Error("the digest's live copy is gone (delivered?)");
  return readDigestMime(gunzipSync(row.transient_raw));
}

/** Reads the digest as the archive keeps it (its action links removed). */
export async function readArchivedDigest(
  db: Kysely<Database>,
  tenantId: string,
  digestId: string,
): Promise<ReadDigest> {
  const row = await db
    .selectFrom("digests as d")
    .innerJoin("messages as m", "m.id", "d.message_id")
    .select("m.sha256")
    .where("d.id", "=", digestId)
    .executeTakeFirstOrThrow();
  const raw = await readRawMessage(db, tenantId, row.sha256);
  if (!raw) throw new Error("digest raw missing");
  return readDigestMime(raw);
}

/** GET or POST a digest link without a session (as a mail client would), returning status and page text. */
export async function follow(
  url: string,
  method: "GET" | "POST" = "GET",
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method, redirect: "manual" });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
