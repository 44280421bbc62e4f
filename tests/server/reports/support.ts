import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../../server/db/schema";
import { buildArchivedMessage, buildRawMessage } from "../../factories";

/** A message in the given people's inboxes, with a unique Message-ID. */
export async function inboxMessage(
  db: Kysely<Database>,
  tenantId: string,
  userIds: string[],
  from = "Promo <promo@deals.example>",
) {
  const tag = randomBytes(4).toString("hex");
  const messageId = `<report-${tag}@deals.example>`;
  const raw = buildRawMessage({
    from,
    subject: `Deal number ${tag}`,
    messageId,
    body: "Cheap watches, limited offer, click now",
  });
  const archived = await buildArchivedMessage(db, {
    tenantId,
    raw,
    links: userIds.map((userId) => ({ userId, folder: "inbox" as const })),
  });
  return { ...archived, messageId };
}

/** The folders a person has a message in, sorted. */
export async function foldersOf(db: Kysely<Database>, messageId: string, userId: string) {
  const rows = await db
    .selectFrom("mailbox_links")
    .select("folder")
    .where("message_id", "=", messageId)
    .where("user_id", "=", userId)
    .execute();
  return rows.map((r) => r.folder).sort();
}

/** How many notices (system mail with purpose "notification") were queued for an address. */
export async function noticeCount(db: Kysely<Database>, email: string) {
  const rows = await db
    .selectFrom("deliveries")
    .select("id")
    .where("recipient", "=", email)
    .where("purpose", "=", "notification")
    .execute();
  return rows.length;
}
