import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";

/**
 * The tenant settings the self-service features read, with their defaults (issue 5). Held-mail retention is not
 * here: `verdictSettingsOf` in the mail pipeline is its one reader.
 */
export interface SelfServiceSettings {
  /** IANA time zone the digest times are in (`timeZone`, default UTC). */
  timeZone: string;
  /** Local times of day ("HH:MM") a digest goes out (`digestTimes`, default 08:00 and 16:00). */
  digestTimes: string[];
  /** Days an auto-permit from release-and-permit lasts (`autoPermitDays`, default 120). */
  autoPermitDays: number;
}

/** Defaults when a tenant has not set anything. */
export const SELF_SERVICE_DEFAULTS: SelfServiceSettings = {
  timeZone: "UTC",
  digestTimes: ["08:00", "16:00"],
  autoPermitDays: 120,
};

const TIME_RE = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

function validTimeZone(zone: unknown): zone is string {
  if (typeof zone !== "string" || zone === "") return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function positiveDays(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 && value <= 3650
    ? value
    : fallback;
}

/** Reads the self-service settings out of `tenants.settings`, ignoring anything malformed (defaults win). */
export function selfServiceSettingsOf(
  settings: Record<string, unknown> | null | undefined,
): SelfServiceSettings {
  const s = settings ?? {};
  const times = Array.isArray(s.digestTimes)
    ? s.digestTimes.filter((t): t is string => typeof t === "string" && TIME_RE.test(t))
    : null;
  return {
    timeZone: validTimeZone(s.timeZone) ? s.timeZone : SELF_SERVICE_DEFAULTS.timeZone,
    digestTimes:
      times && (times.length > 0 || (s.digestTimes as unknown[]).length === 0)
        ? [...new Set(times)].sort()
        : SELF_SERVICE_DEFAULTS.digestTimes,
    autoPermitDays: positiveDays(s.autoPermitDays, SELF_SERVICE_DEFAULTS.autoPermitDays),
  };
}

/** Loads one tenant's self-service settings. */
export async function loadSelfServiceSettings(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
): Promise<SelfServiceSettings> {
  const row = await db.selectFrom("tenants").select("settings").where("id", "=", tenantId).executeTakeFirst();
  return selfServiceSettingsOf(row?.settings);
}
