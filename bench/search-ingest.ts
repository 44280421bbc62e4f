import fs from "node:fs";
import path from "node:path";
import { sql, type Kysely } from "kysely";
import type { Database } from "../server/db/schema";
import { archiveFieldsOf, emptyArchiveFields, parseMessage } from "../server/archive/parse";
import { archiveMessage, linkMailbox } from "../server/archive/store";
import { CORPUS_DIR } from "./search-vocabulary";

/**
 * Times the product's own write path (parse, archiveMessage with compression and the weighted
 * tsvector, one mailbox link, one transaction each) on real corpus mail, and measures its
 * storage: stored (gzip) bytes over raw bytes.
 */
export async function measureIngest(db: Kysely<Database>, tenantId: string, count: number) {
  const user = await db
    .selectFrom("users")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .orderBy("email")
    .executeTakeFirstOrThrow();
  const dir = path.join(CORPUS_DIR, "spamassassin", "ham");
  const raws: Buffer[] = [];
  for (let n = 1; n <= count && fs.existsSync(path.join(dir, `${n}.eml`)); n++)
    raws.push(fs.readFileSync(path.join(dir, `${n}.eml`)));
  const started = performance.now();
  const shas: string[] = [];
  for (const raw of raws) {
    const parsed = await parseMessage(raw);
    const fields = parsed ? archiveFieldsOf(parsed) : emptyArchiveFields();
    await db.transaction().execute(async (trx) => {
      const archived = await archiveMessage(
        trx,
        tenantId,
        raw,
        fields,
        { mailFrom: "", rcptTo: [], direction: "inbound", source: "import", receivedAt: new Date() },
        null,
      );
      await linkMailbox(trx, { tenantId, messageId: archived.id, userId: user.id, folder: "inbox" });
      shas.push(archived.sha256);
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const sizes = await sql<{
    raw: number;
    stored: number;
  }>`SELECT sum(raw_size)::bigint AS raw, sum(stored_size)::bigint AS stored FROM message_blobs WHERE tenant_id = ${tenantId} AND sha256 IN (${sql.join(shas)})`.execute(
    db,
  );
  const row = sizes.rows[0] ?? { raw: 1, stored: 0 };
  return {
    messages: raws.length,
    seconds,
    rawBytes: Number(row.raw),
    storedBytes: Number(row.stored),
    storedOverRaw: Number(row.stored) / Number(row.raw),
  };
}
