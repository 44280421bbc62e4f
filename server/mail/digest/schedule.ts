import { sql, type SqlBool } from "kysely";
import type { Services } from "../../context";
import { sendDigest } from "./generate";
import { selfServiceSettingsOf, type SelfServiceSettings } from "./settings";

/** The offset (ms) of a time zone from UTC at one instant (positive east of Greenwich). */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The instant a local wall-clock time happens in a time zone (DST-aware; a skipped time maps just after the gap). */
export function zonedTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string,
): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const first = guess - zoneOffsetMs(new Date(guess), timeZone);
  return new Date(guess - zoneOffsetMs(new Date(first), timeZone));
}

/** The latest scheduled digest time at or before `now` in the tenant's zone, or null when digests are off. */
export function latestDigestSlot(
  settings: Pick<SelfServiceSettings, "digestTimes" | "timeZone">,
  now: Date,
): Date | null {
  if (settings.digestTimes.length === 0) return null;
  let best: Date | null = null;
  for (const back of [0, 1]) {
    const day = new Date(now.getTime() + zoneOffsetMs(now, settings.timeZone) - back * 86_400_000);
    for (const time of settings.digestTimes) {
      const [h, m] = time.split(":").map(Number);
      const slot = zonedTime(
        day.getUTCFullYear(),
        day.getUTCMonth() + 1,
        day.getUTCDate(),
        h ?? 0,
        m ?? 0,
        settings.timeZone,
      );
      if (slot.getTime() <= now.getTime() && (!best || slot.getTime() > best.getTime())) best = slot;
    }
  }
  return best;
}

/** What one scheduler pass did. */
export interface DigestRun {
  slots: number;
  digests: number;
  items: number;
}

/**
 * Who has holds newer than their last digest: recipients of their own, and members of the groups that group mail
 * was held for.
 */
async function peopleWithNewHolds(services: Services, tenantId: string, now: Date): Promise<string[]> {
  const notInLastDigest = (userColumn: "h.user_id" | "gm.user_id") =>
    sql<SqlBool>`NOT EXISTS (SELECT 1 FROM digest_state s WHERE s.user_id = ${sql.ref(userColumn)}
      AND s.tenant_id = h.tenant_id AND s.last_cutoff >= h.created_at)`;
  const own = await services.db
    .selectFrom("held_items as h")
    .select("h.user_id")
    .distinct()
    .where("h.tenant_id", "=", tenantId)
    .where("h.status", "=", "held")
    .where("h.user_id", "is not", null)
    .where("h.expires_at", ">", now)
    .where(notInLastDigest("h.user_id"))
    .execute();
  const viaGroups = await services.db
    .selectFrom("held_items as h")
    .innerJoin("group_addresses as ga", (join) =>
      join.onRef("ga.address", "=", "h.recipient").onRef("ga.tenant_id", "=", "h.tenant_id"),
    )
    .innerJoin("group_members as gm", (join) =>
      join.onRef("gm.tenant_id", "=", "ga.tenant_id").onRef("gm.group_oid", "=", "ga.group_oid"),
    )
    .select("gm.user_id")
    .distinct()
    .where("h.tenant_id", "=", tenantId)
    .where("h.status", "=", "held")
    .where("h.user_id", "is", null)
    .where("h.expires_at", ">", now)
    .where(notInLastDigest("gm.user_id"))
    .execute();
  const ids = [...own.map((r) => r.user_id), ...viaGroups.map((r) => r.user_id)];
  return [...new Set(ids.filter((id): id is string => id !== null))];
}

/**
 * Runs every tenant's due digest slot once (a row in digest_slots claims it, so
 * several instances never send twice): each user with holds new since their last
 * digest gets one. After downtime only the latest missed slot runs; the very first
 * slot a tenant sees only sets the baseline.
 */
export async function runDueDigests(services: Services, now: Date): Promise<DigestRun> {
  const run: DigestRun = { slots: 0, digests: 0, items: 0 };
  const tenants = await services.db.selectFrom("tenants").select(["id", "settings"]).execute();
  for (const tenant of tenants) {
    const slot = latestDigestSlot(selfServiceSettingsOf(tenant.settings), now);
    if (!slot) continue;
    const seen = await services.db
      .selectFrom("digest_slots")
      .select("slot_at")
      .where("tenant_id", "=", tenant.id)
      .limit(1)
      .executeTakeFirst();
    const claimed = await services.db
      .insertInto("digest_slots")
      .values({ tenant_id: tenant.id, slot_at: slot })
      .onConflict((oc) => oc.columns(["tenant_id", "slot_at"]).doNothing())
      .returning("slot_at")
      .executeTakeFirst();
    if (!claimed) continue;
    // The first slot a tenant ever sees is a baseline, not a send: a fresh install does not mail everyone at once.
    if (!seen) continue;
    run.slots += 1;
    const users = await peopleWithNewHolds(services, tenant.id, now);
    for (const user_id of users) {
      try {
        const result = await sendDigest(services, tenant.id, user_id, now);
        if (result.digestId) {
          run.digests += 1;
          run.items += result.items;
        }
      } catch (err) {
        services.logger.error({ err, tenantId: tenant.id, userId: user_id }, "digest failed");
      }
    }
  }
  return run;
}
