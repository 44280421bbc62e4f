import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema";

/**
 * How long a folder's subscription change is one instance's before another may take it over: far longer than a
 * create or renewal through Graph's throttling takes, short enough that a crashed instance holds nobody up for long.
 */
export const SUBSCRIPTION_CLAIM_MS = 5 * 60 * 1000;

/** One mailbox folder's subscription, claimed by one instance (`holder`, one per process). */
export interface SubscriptionClaim {
  mailboxId: string;
  folder: string;
  holder: string;
}

/**
 * Takes a folder's subscription change for `holder`, so that of several instances sharing the database only one
 * creates, renews or re-creates it at a time: false when another holds it (its claim not yet run out). The holder
 * may take its own claim again. A claim whose holder died runs out after SUBSCRIPTION_CLAIM_MS.
 */
export async function claimSubscriptionChange(
  db: Kysely<Database>,
  claim: SubscriptionClaim,
  now: Date,
): Promise<boolean> {
  const until = new Date(now.getTime() + SUBSCRIPTION_CLAIM_MS);
  const taken = await sql<{ mailbox_id: string }>`
    INSERT INTO graph_subscription_claims (mailbox_id, folder, holder, until)
    VALUES (${claim.mailboxId}, ${claim.folder}, ${claim.holder}, ${until})
    ON CONFLICT (mailbox_id, folder) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
    WHERE graph_subscription_claims.until <= ${now} OR graph_subscription_claims.holder = ${claim.holder}
    RETURNING mailbox_id`.execute(db);
  return taken.rows.length > 0;
}

/** Gives a claim back once the change is over, whatever its end, so the next sweep anywhere may act at once. */
export async function releaseSubscriptionChange(
  db: Kysely<Database>,
  claim: SubscriptionClaim,
  now: Date,
): Promise<void> {
  await db
    .updateTable("graph_subscription_claims")
    .set({ until: now })
    .where("mailbox_id", "=", claim.mailboxId)
    .where("folder", "=", claim.folder)
    .where("holder", "=", claim.holder)
    .execute();
}
