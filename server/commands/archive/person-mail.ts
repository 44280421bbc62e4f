import type { AliasableExpression, Expression, ExpressionBuilder, SqlBool } from "kysely";
import type { Database, MessagesTable } from "../../db/schema";

type MessageBuilder = ExpressionBuilder<Database & { m: MessagesTable }, "m">;

/** The message (aliased `m`) is linked to this person's own mailbox. */
export function ownLink(eb: MessageBuilder, userId: string): AliasableExpression<SqlBool> {
  return eb.exists(
    eb
      .selectFrom("mailbox_links as l")
      .select("l.message_id")
      .whereRef("l.message_id", "=", "m.id")
      .where("l.user_id", "=", userId),
  );
}

/**
 * The message (aliased `m`) is in a person's mail: linked to their own mailbox, or sent to one of their groups
 * (`groupAddresses`: Actor.groupAddresses), which Microsoft 365 expanded into their mailbox.
 */
export function inPersonsMail(
  eb: MessageBuilder,
  userId: string,
  groupAddresses: readonly string[],
): Expression<SqlBool> {
  if (groupAddresses.length === 0) return ownLink(eb, userId);
  return eb.or([ownLink(eb, userId), eb("m.envelope_to", "&&", eb.val([...groupAddresses]))]);
}
