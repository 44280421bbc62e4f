import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema";

/**
 * How long a directory round is one instance's before another may take it over: long enough for a large
 * directory's listing through Graph's throttling, short enough that a crashed instance holds nobody up for long.
 */
export const DIRECTORY_LEASE_MS = 15 * 60 * 1000;

/** Why a tenant's directory round did not run here. */
export type DirectoryClaim = "claimed" | "held_elsewhere" | "done_elsewhere";

/**
 * Takes an organisation's directory round for `holder` (one per process), so that of several instances sharing the
 * database only one reads the directory at a time, and a round another instance finished less than `quietMs` ago
 * is not read again at once (each instance's sweep timer would otherwise start a round of its own). The holder's own
 * last round never holds it back: its timer, or a caller, decides when it runs again. A lease whose holder died runs
 * out after DIRECTORY_LEASE_MS.
 */
export async function claimDirectoryRound(
  db: Kysely<Database>,
  input: { tenantId: string; holder: string; now: Date; quietMs: number },
): Promise<DirectoryClaim> {
  const until = new Date(input.now.getTime() + DIRECTORY_LEASE_MS);
  const quietSince = new Date(input.now.getTime() - input.quietMs);
  const taken = await sql<{ tenant_id: string }>`
    INSERT INTO directory_leases (tenant_id, holder, until)
    VALUES (${input.tenantId}, ${input.holder}, ${until})
    ON CONFLICT (tenant_id) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
    WHERE directory_leases.until <= ${input.now}
      AND (directory_leases.finished_at IS NULL
        OR directory_leases.finished_by = ${input.holder}
        OR directory_leases.finished_at <= ${quietSince})
    RETURNING tenant_id`.execute(db);
  if (taken.rows.length > 0) return "claimed";
  const lease = await db
    .selectFrom("directory_leases")
    .select(["until"])
    .where("tenant_id", "=", input.tenantId)
    .executeTakeFirst();
  return lease && new Date(lease.until) > input.now ? "held_elsewhere" : "done_elsewhere";
}

/**
 * Keeps a round that is still running ours for another DIRECTORY_LEASE_MS (a large directory's groups and members can
 * take longer than one lease); false when the lease is no longer this holder's.
 */
export async function renewDirectoryRound(
  db: Kysely<Database>,
  input: { tenantId: string; holder: string; now: Date },
): Promise<boolean> {
  const result = await db
    .updateTable("directory_leases")
    .set({ until: new Date(input.now.getTime() + DIRECTORY_LEASE_MS) })
    .where("tenant_id", "=", input.tenantId)
    .where("holder", "=", input.holder)
    .where("until", ">", input.now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Gives the round back: `finished` when it ran to its end (its report recorded), so other instances leave the
 * directory alone for their quiet period; otherwise (it threw) the next sweep anywhere may try at once.
 */
export async function releaseDirectoryRound(
  db: Kysely<Database>,
  input: { tenantId: string; holder: string; now: Date; finished: boolean },
): Promise<void> {
  await db
    .updateTable("directory_leases")
    .set({
      until: input.now,
      ...(input.finished ? { finished_by: input.holder, finished_at: input.now } : {}),
    })
    .where("tenant_id", "=", input.tenantId)
    .where("holder", "=", input.holder)
    .execute();
}
