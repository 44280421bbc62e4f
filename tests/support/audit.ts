import type { Kysely } from "kysely";
import type { Database } from "../../server/db/schema";

/** The details of every audit event of one action about one target, oldest first: what a test checks was recorded. */
export async function auditDetailsOf(
  db: Kysely<Database>,
  targetId: string,
  action: string,
): Promise<unknown[]> {
  const rows = await db
    .selectFrom("audit_events")
    .select("details")
    .where("target_id", "=", targetId)
    .where("action", "=", action)
    .orderBy("seq")
    .execute();
  return rows.map((row) => row.details);
}
