import { sql } from "kysely";
import type { Services } from "../../context";
import type { SettingsImpact, SettingsImpactQuery } from "../../../shared/schemas/settings";
import { HOLDS_ALONE_IDS } from "../../mail/scan/weights";
import { assertThresholdsInOrder, readOrganisationSettings } from "./organisation-settings";

const DAY_MS = 86_400_000;

/**
 * Counts the organisation's inbound mail of the last `days` by where its stored score falls against the thresholds
 * asked about and those in effect: held (at or above the hold threshold) and suspect (from the suspect score up to
 * it). Mail with a signal that holds it whatever the score (our own domain forged) counts as held under any
 * threshold. One pass over the window, through the (tenant, direction, received_at) index. Reads only.
 */
export async function settingsImpact(
  services: Services,
  tenantId: string,
  query: SettingsImpactQuery,
): Promise<SettingsImpact> {
  assertThresholdsInOrder(query.holdThreshold, query.suspectScore);
  const current = await readOrganisationSettings(services, tenantId);
  const since = new Date(services.now().getTime() - query.days * DAY_MS);
  const score = sql<number>`(assessment->>'score')::float8`;
  const heldAnyway =
    HOLDS_ALONE_IDS.length === 0
      ? sql`false`
      : sql.join(
          HOLDS_ALONE_IDS.map((id) => sql`assessment->'signals' @> ${JSON.stringify([{ id }])}::jsonb`),
          sql` OR `,
        );
  const band = (hold: number, suspect: number) => ({
    held: sql<number>`count(*) FILTER (WHERE ${score} >= ${hold} OR ${heldAnyway})`,
    suspect: sql<number>`count(*) FILTER (WHERE ${score} >= ${suspect} AND ${score} < ${hold} AND NOT (${heldAnyway}))`,
  });
  const now = band(current.holdThreshold, current.suspectScore);
  const then = band(query.holdThreshold, query.suspectScore);
  const row = await services.db
    .selectFrom("messages")
    .select([
      sql<number>`count(*)`.as("messages"),
      now.held.as("held_now"),
      now.suspect.as("suspect_now"),
      then.held.as("held_then"),
      then.suspect.as("suspect_then"),
    ])
    .where("tenant_id", "=", tenantId)
    .where("direction", "=", "inbound")
    .where("received_at", ">=", since)
    .where(sql<boolean>`jsonb_typeof(assessment->'score') = 'number'`)
    .executeTakeFirstOrThrow();
  return {
    days: query.days,
    since: since.toISOString(),
    messages: Number(row.messages),
    current: {
      holdThreshold: current.holdThreshold,
      suspectScore: current.suspectScore,
      held: Number(row.held_now),
      suspect: Number(row.suspect_now),
    },
    proposed: {
      holdThreshold: query.holdThreshold,
      suspectScore: query.suspectScore,
      held: Number(row.held_then),
      suspect: Number(row.suspect_then),
    },
  };
}
