import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";
import { takeToken, type QuotaAnswer } from "./limits";

const HOUR_MS = 3_600_000;

/**
 * Recipients per hour for each signed-in sender: a stolen SMTP password or a compromised account sending spam
 * through us is slowed to the limit (451, the client queues and retries) instead of getting the gateway's IP
 * blocklisted. A token bucket holding one hour's allowance, refilled continuously, kept in the database
 * (`sender_allowances`), so every gateway instance on it counts against the same allowance and a restart does not
 * refill it. The first refusal of a run is reported, so security admins hear of it once, not per message.
 */
export class SenderAllowances {
  /** @param perHour recipients per sender per hour; 0 turns the limit off */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly perHour: number,
  ) {}

  /** Takes one recipient from the sender's allowance (its row locked meanwhile, so concurrent sessions queue). */
  async takeRecipient(userId: string, now = new Date()): Promise<QuotaAnswer> {
    if (this.perHour <= 0) return { allowed: true, firstRefusal: false };
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("sender_allowances")
        .select(["tokens", "updated_at", "refusing"])
        .where("user_id", "=", userId)
        .forUpdate()
        .executeTakeFirst();
      const before = row
        ? { tokens: row.tokens, updatedAt: row.updated_at.getTime(), refusing: row.refusing }
        : undefined;
      const { bucket, answer } = takeToken(before, this.perHour, HOUR_MS, now.getTime());
      const values = {
        tokens: bucket.tokens,
        updated_at: new Date(bucket.updatedAt),
        refusing: bucket.refusing,
      };
      await trx
        .insertInto("sender_allowances")
        .values({ user_id: userId, ...values })
        .onConflict((oc) => oc.column("user_id").doUpdateSet(values))
        .execute();
      return answer;
    });
  }

  /**
   * Gives back recipients taken for a transaction we then answered with a 4xx at DATA (our database or clamd
   * failed): nothing was accepted and the client retries, so our own outage must not use up its hour.
   */
  async refundRecipients(userId: string, count: number): Promise<void> {
    if (this.perHour <= 0 || count <= 0) return;
    await this.db
      .updateTable("sender_allowances")
      .set({ tokens: sql<number>`least(${this.perHour}::double precision, tokens + ${count})` })
      .where("user_id", "=", userId)
      .execute();
  }
}
