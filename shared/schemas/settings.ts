import { z } from "zod";

/** A local time of day, "HH:MM" (24 hours). */
const timeOfDay = z.string().regex(/^([01][0-9]|2[0-3]):([0-5][0-9])$/, "a time of day as HH:MM (24 hours)");

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The organisation's verdict and self-service settings, as GET /api/admin/settings answers them (defaults filled in)
 * and PUT changes them: IT tunes how strict the gateway is and how long held mail waits, without a database console.
 */
export const organisationSettings = z.object({
  /** Score at or above which inbound mail is held (the built-in engine's scale; SpamAssassin's 5.0 by design). */
  holdThreshold: z.number().min(0).max(1000),
  /** Score at or above which delivered inbound mail is suspect: marked for Microsoft 365's Junk, or moved there. */
  suspectScore: z.number().min(0).max(1000),
  /** What an organisation block does at SMTP time: refuse the mail (550) or hold it for review. */
  orgBlockAction: z.enum(["reject", "hold"]),
  /** Days held mail waits for a decision before it expires. */
  quarantineRetentionDays: z.number().int().min(1).max(3650),
  /** Days a permit made by "release and permit" lasts. */
  autoPermitDays: z.number().int().min(1).max(3650),
  /** IANA time zone of the digest times. */
  timeZone: z.string().min(1).max(64).refine(isTimeZone, "an IANA time zone, e.g. Europe/Berlin"),
  /** Local times the held-mail digest goes out (none: no digests). */
  digestTimes: z.array(timeOfDay).max(24),
});
/** The organisation's settings. */
export type OrganisationSettings = z.infer<typeof organisationSettings>;

/** PUT /api/admin/settings: the settings to change (at least one; the others stay). */
export const organisationSettingsChange = organisationSettings
  .partial()
  .strict()
  .refine((change) => Object.keys(change).length > 0, "name at least one setting to change")
  .refine(
    (change) =>
      change.holdThreshold === undefined ||
      change.suspectScore === undefined ||
      change.suspectScore <= change.holdThreshold,
    {
      message: "suspectScore must not be above holdThreshold: suspect mail is mail that is not held",
      path: ["suspectScore"],
    },
  );
/** A change of the organisation's settings. */
export type OrganisationSettingsChange = z.infer<typeof organisationSettingsChange>;

/** GET /api/admin/settings/impact: thresholds to try against the organisation's recent mail, and how far back. */
export const settingsImpactQuery = z.object({
  holdThreshold: z.coerce.number().min(0).max(1000),
  suspectScore: z.coerce.number().min(0).max(1000),
  /** Days of inbound mail to count (default 7). */
  days: z.coerce.number().int().min(1).max(90).default(7),
});
/** Thresholds to try. */
export type SettingsImpactQuery = z.infer<typeof settingsImpactQuery>;

const outcome = z.object({
  holdThreshold: z.number(),
  suspectScore: z.number(),
  /** Messages scoring at or above the hold threshold. */
  held: z.number().int().nonnegative(),
  /** Messages scoring from the suspect score up to the hold threshold. */
  suspect: z.number().int().nonnegative(),
});

/**
 * What thresholds would have done to the organisation's inbound mail of the last days, next to the settings in
 * effect, by score alone (sender rules and malware holds do not depend on the score): so IT can tune before saving.
 */
export const settingsImpact = z.object({
  days: z.number().int(),
  since: z.iso.datetime({ offset: true }),
  /** Inbound messages received since then with a score. */
  messages: z.number().int().nonnegative(),
  current: outcome,
  proposed: outcome,
});
/** The effect of thresholds on recent mail. */
export type SettingsImpact = z.infer<typeof settingsImpact>;
