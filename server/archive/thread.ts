import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema";
import type { ArchiveScope } from "./scope";

/** One message of a conversation, as the detail view lists it. */
export interface ThreadEntry {
  id: string;
  messageId: string;
  from: string;
  subject: string;
  date: Date;
}

/** Most messages a thread lists (a long mailing-list thread stays bounded). */
export const THREAD_LIMIT = 200;

/**
 * The conversation a message belongs to, by References/In-Reply-To (RFC 5322 §3.6.4): its
 * ancestors, and every message that refers to any of them or to it, followed for a few rounds
 * so replies-to-replies join. Only messages inside the caller's scope are listed.
 */
export async function threadOf(
  db: Kysely<Database>,
  scope: ArchiveScope,
  start: { messageId: string | null; inReplyTo: string | null; references: string[] },
): Promise<ThreadEntry[]> {
  const known = new Set<string>(
    [start.messageId, start.inReplyTo, ...start.references].filter((v): v is string => !!v),
  );
  if (known.size === 0) return [];
  const scopeFilter =
    scope.kind === "tenant"
      ? sql``
      : sql`AND EXISTS (SELECT 1 FROM mailbox_links l WHERE l.message_id = m.id AND l.tenant_id = ${scope.tenantId} AND l.user_id IN (${sql.join(scope.userIds)}))`;
  let rows: Array<{
    id: string;
    message_id: string | null;
    in_reply_to: string | null;
    reference_ids: string[];
    from_address: string;
    subject: string;
    date: Date | string;
  }> = [];
  for (let round = 0; round < 4; round++) {
    const ids = [...known];
    const result = await sql<
      (typeof rows)[number]
    >`SELECT m.id, m.message_id, m.in_reply_to, m.reference_ids, m.from_address, m.subject, m.date
      FROM messages m
      WHERE m.tenant_id = ${scope.tenantId}
        AND (m.message_id IN (${sql.join(ids)}) OR m.in_reply_to IN (${sql.join(ids)}) OR m.reference_ids && ${sql.val(ids)}::text[])
        ${scopeFilter}
      ORDER BY m.date, m.id
      LIMIT ${THREAD_LIMIT}`.execute(db);
    rows = result.rows;
    const before = known.size;
    for (const row of rows) if (row.message_id) known.add(row.message_id);
    if (known.size === before || rows.length >= THREAD_LIMIT) break;
  }
  return rows.map((r) => ({
    id: r.id,
    messageId: r.message_id ?? "",
    from: r.from_address,
    subject: r.subject,
    date: new Date(r.date),
  }));
}
