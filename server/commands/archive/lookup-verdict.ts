import type { Kysely } from "kysely";
import type { Actor } from "../../context";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { addressedToPerson } from "../held/queries";
import { inPersonsMail, ownLink } from "./person-mail";
import { messageIdForms } from "../../archive/message-ids";

/** What the add-in's "This message" view needs: the stored assessment and this person's verdict and hold. */
export interface VerdictLookup {
  archiveId: string;
  messageId: string;
  receivedAt: Date;
  assessment: Record<string, unknown> | null;
  heldId: string | null;
  /** The group it came to the caller through (its address), when it is not in their own mailbox. */
  viaGroup: string | null;
}

/**
 * Finds a message by its Internet Message-ID among the caller's own mailbox links, or the mail sent to one of their
 * groups (Microsoft 365 put it in their mailbox by expanding the group), never anyone else's: mail that did not pass
 * through Mailward is a 404.
 */
export async function lookupVerdict(
  db: Kysely<Database>,
  actor: Actor,
  messageId: string,
): Promise<VerdictLookup> {
  const groups = actor.groupAddresses;
  const row = await db
    .selectFrom("messages as m")
    .select([
      "m.id",
      "m.message_id",
      "m.received_at",
      "m.assessment",
      "m.envelope_to",
      (eb) => ownLink(eb, actor.userId).as("own"),
    ])
    .where("m.tenant_id", "=", actor.tenantId)
    .where("m.message_id", "in", messageIdForms(messageId))
    .where((eb) => inPersonsMail(eb, actor.userId, groups))
    .orderBy("m.received_at", "desc")
    .executeTakeFirst();
  if (!row) throw new ApiError("not_found", "Mailward has no record of this message in your mailbox.");
  const held = await db
    .selectFrom("held_items as h")
    .select("h.id")
    .where("h.message_id", "=", row.id)
    .where((eb) => addressedToPerson(eb, actor.userId, groups))
    .orderBy("h.user_id")
    .executeTakeFirst();
  return {
    archiveId: row.id,
    messageId: row.message_id ?? messageId,
    receivedAt: row.received_at,
    assessment: row.assessment,
    heldId: held?.id ?? null,
    viaGroup: row.own ? null : (row.envelope_to.find((to) => groups.includes(to)) ?? null),
  };
}
