import type { Kysely } from "kysely";
import type { Database } from "../db/schema";
import { archiveFieldsOf, emptyArchiveFields, parseMessage } from "../archive/parse";
import { archiveMessage, linkMailbox, type ArchiveEnvelope } from "../archive/store";

/** Which of a tenant's users own these addresses (lower-cased email → user id). */
export async function usersByAddress(
  db: Kysely<Database>,
  tenantId: string,
  addresses: string[],
): Promise<Map<string, string>> {
  const wanted = [...new Set(addresses.map((a) => a.toLowerCase()))];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .selectFrom("users")
    .select(["id", "email"])
    .where("tenant_id", "=", tenantId)
    .where((eb) => eb(eb.fn("lower", ["email"]), "in", wanted))
    .execute();
  return new Map(rows.map((r) => [r.email.toLowerCase(), r.id]));
}

/** The result of filing one message: its archive id, and whether it was new. */
export interface FiledMessage {
  id: string;
  created: boolean;
}

/**
 * Archives one message and links it into the given users' folders, in one
 * transaction (used by import and as the archive step of every ingest path).
 */
export async function fileMessage(
  db: Kysely<Database>,
  tenantId: string,
  raw: Buffer,
  envelope: ArchiveEnvelope,
  mailboxes: Array<{ userId: string; folder: "inbox" | "sent" | "quarantine" | "junk" }>,
): Promise<FiledMessage> {
  const parsed = await parseMessage(raw);
  const fields = parsed ? archiveFieldsOf(parsed) : emptyArchiveFields();
  return db.transaction().execute(async (trx) => {
    const archived = await archiveMessage(trx, tenantId, raw, fields, envelope, null);
    for (const mailbox of mailboxes) {
      await linkMailbox(trx, {
        tenantId,
        messageId: archived.id,
        userId: mailbox.userId,
        folder: mailbox.folder,
      });
    }
    return { id: archived.id, created: archived.created };
  });
}
