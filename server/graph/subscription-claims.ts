import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Services } from "../context";
import type { Database } from "../db/schema";
import { describeError } from "./errors";

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

/** Gives a claim back once the change is over, whatever its end, so the next sweep of every instance may act at once. */
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

/**
 * One subscription change at a time per mailbox folder: in this process (the sweep and lifecycle events may both
 * want one), and across the instances sharing the database (a claim). A change another instance is making now is
 * left to it.
 */
export class FolderChanges {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** This instance, as the holder of subscription claims (several instances share one database). */
  private readonly holder = randomUUID();

  constructor(private readonly services: Pick<Services, "db" | "now" | "logger">) {}

  /**
   * Runs `work` once the folder's changes before it in this process are over, under the folder's claim. `untouched`
   * is what the caller gets when nothing is changed here: another instance holds the claim, or `nothingToDo` (a
   * read, without a claim: most sweep rounds change nothing) says so.
   */
  run<T>(
    mailboxId: string,
    folder: string,
    untouched: T,
    work: () => Promise<T>,
    nothingToDo: () => Promise<boolean> = async () => false,
  ): Promise<T> {
    const key = `${mailboxId}:${folder}`;
    const claimed = async (): Promise<T> => {
      if (await nothingToDo()) return untouched;
      const claim = { mailboxId, folder, holder: this.holder };
      if (!(await claimSubscriptionChange(this.services.db, claim, this.services.now()))) return untouched;
      try {
        return await work();
      } finally {
        // Not given back (the database failed just now): it runs out, and this instance may take it again at once.
        await releaseSubscriptionChange(this.services.db, claim, this.services.now()).catch(
          (error: unknown) =>
            this.services.logger.warn(
              { mailbox: mailboxId, folder, error: describeError(error) },
              "graph subscription claim not given back; it runs out by itself",
            ),
        );
      }
    };
    const next = (this.queues.get(key) ?? Promise.resolve()).then(claimed, claimed);
    const settled = next.catch(() => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }
}
