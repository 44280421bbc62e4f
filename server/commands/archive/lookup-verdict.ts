import type { Kysely } from "kysely";
import type { Actor } from "../../context";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";

/** What the add-in's "This message" view needs: the stored assessment and this person's verdict and hold. */
export interface VerdictLookup {
  archiveId: string;
  messageId: string;
  receivedAt: Date;
  assessment: Record<string, unknown> | null;
  heldId: string | null;
}

/** Both spellings of a Message-ID: Outlook sends it with angle brackets, some clients without. */
function messageIdForms(messageId: string): string[] {
  const bare = messageId.trim().replace(/^<|>$/g, "");
  return [`<${bare}>`, bare];
}

/**
 * Finds a message by its Internet Message-ID among the caller's own mailbox
 * links (never anyone else's): mail that did not pass through Mailward is a 404.
 */
export async function lookupVerdict(
  db: Kysely<Database>,
  actor: Actor,
  messageId: string,
): Promise<VerdictLookup> {
  const row = await db
    .selectFrom("messages as m")
    .innerJoin("mailbox_links as l", (join) =>
      join.onRef("l.message_id", "=", "m.id").on("l.user_id", "=", actor.userId),
    )
    .select(["m.id", "m.message_id", "m.received_at", "m.assessment"])
    .where("m.tenant_id", "=", actor.tenantId)
    .where("m.message_id", "in", messageIdForms(messageId))
    .orderBy("m.received_at", "desc")
    .executeTakeFirst();
  if (!row) throw new ApiError("not_found", "Mailward has no record of this message in your mailbox.");
  const held = await db
    .selectFrom("held_items")
    .select("id")
    .where("message_id", "=", row.id)
    .where("user_id", "=", actor.userId)
    .executeTakeFirst();
  return {
    archiveId: row.id,
    messageId: row.message_id ?? messageId,
    receivedAt: row.received_at,
    assessment: row.assessment,
    heldId: held?.id ?? null,
  };
}
