import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../../server/db/schema";
import { buildArchivedMessage, buildRawMessage } from "../../factories";

/** A word every fixture message carries, so one search finds all of them (if the caller may see them). */
export const FIXTURE_WORD = "isolationmarker";

/** An archived message in one person's mailbox (inbox), with a subject unique to it. */
export async function archivedFor(
  db: Kysely<Database>,
  owner: { id: string; email: string; tenantId: string },
): Promise<{ messageId: string }> {
  const raw = buildRawMessage({
    to: owner.email,
    subject: `${FIXTURE_WORD} ${randomBytes(4).toString("hex")}`,
    body: `Hello ${FIXTURE_WORD}`,
  });
  const message = await buildArchivedMessage(db, {
    tenantId: owner.tenantId,
    raw,
    links: [{ userId: owner.id, folder: "inbox" }],
  });
  return { messageId: message.id };
}

/** A message held for one person (spam, 14 days), in their quarantine folder. */
export async function heldFor(
  db: Kysely<Database>,
  owner: { id: string; email: string; tenantId: string },
  reason: "spam" | "phish" = "spam",
): Promise<{ heldId: string; messageId: string }> {
  const raw = buildRawMessage({
    to: owner.email,
    subject: `${FIXTURE_WORD} held ${randomBytes(4).toString("hex")}`,
  });
  const message = await buildArchivedMessage(db, {
    tenantId: owner.tenantId,
    raw,
    links: [{ userId: owner.id, folder: "quarantine" }],
  });
  const held = await db
    .insertInto("held_items")
    .values({
      tenant_id: owner.tenantId,
      message_id: message.id,
      user_id: owner.id,
      recipient: owner.email,
      reason,
      score: 9,
      signals: JSON.stringify([{ name: "fixture", score: 9 }]),
      expires_at: new Date(Date.now() + 14 * 86_400_000),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { heldId: held.id, messageId: message.id };
}
