import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { selfServiceSettingsOf } from "../../mail/digest/settings";
import { verdictSettingsOf } from "../../mail/pipeline/directory";
import { DEFAULT_HOLD_THRESHOLD } from "../../mail/scan/weights";
import type { OrganisationSettings, OrganisationSettingsChange } from "../../../shared/schemas/settings";

/**
 * The settings in effect, read from `tenants.settings` the way the gateway, Graph and the digests read them, with
 * their defaults filled in (the engine's hold threshold, MAILWARD_SUSPECT_SCORE, the self-service defaults).
 */
export function effectiveSettings(
  stored: Record<string, unknown>,
  defaultSuspectScore: number,
): OrganisationSettings {
  const verdicts = verdictSettingsOf(stored);
  const selfService = selfServiceSettingsOf(stored);
  return {
    holdThreshold: verdicts.holdThreshold ?? DEFAULT_HOLD_THRESHOLD,
    suspectScore: verdicts.suspectScore ?? defaultSuspectScore,
    orgBlockAction: verdicts.orgBlockAction,
    quarantineRetentionDays: verdicts.quarantineRetentionDays,
    autoPermitDays: selfService.autoPermitDays,
    timeZone: selfService.timeZone,
    digestTimes: selfService.digestTimes,
  };
}

/** The organisation's settings in effect. */
export async function readOrganisationSettings(
  services: Services,
  tenantId: string,
): Promise<OrganisationSettings> {
  const row = await services.db
    .selectFrom("tenants")
    .select("settings")
    .where("id", "=", tenantId)
    .executeTakeFirstOrThrow();
  return effectiveSettings(row.settings ?? {}, services.config.MAILWARD_SUSPECT_SCORE);
}

/**
 * Refuses a suspect score above the hold threshold (suspect mail is mail that is delivered), for the thresholds a
 * change would put in effect and for those a preview tries.
 */
export function assertThresholdsInOrder(holdThreshold: number, suspectScore: number): void {
  if (suspectScore > holdThreshold)
    throw new ApiError(
      "invalid_request",
      `The suspect score (${suspectScore}) must not be above the hold threshold (${holdThreshold}): suspect mail is mail that is delivered, not held.`,
    );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Changes some of the organisation's settings; the rest stay. Audited (`tenant.settings_changed`, each changed
 * setting before and after) in the same transaction; a change to what is already in effect writes nothing. This
 * instance's gateway and Graph connector use the new settings from the next message, other instances too once the
 * signal relay (server/db/signal-relay.ts) has told them, else within 30 s.
 */
export async function changeOrganisationSettings(
  services: Services,
  actor: Actor,
  ip: string | null,
  change: OrganisationSettingsChange,
): Promise<OrganisationSettings> {
  const after = await runCommand(services, actor, ip, async ({ trx, now }) => {
    const row = await trx
      .selectFrom("tenants")
      .select("settings")
      .where("id", "=", actor.tenantId)
      // Not FOR UPDATE, which also holds off the foreign key check of each row naming the organisation: a change
      // holding the audit log while its event waited for that check deadlocked with this one (lockPeopleChanges).
      .forNoKeyUpdate()
      .executeTakeFirstOrThrow();
    const stored = row.settings ?? {};
    const before = effectiveSettings(stored, services.config.MAILWARD_SUSPECT_SCORE);
    // Read back through the one reading, so what is stored and compared is what takes effect (digest times sorted).
    const wanted = effectiveSettings({ ...stored, ...change }, services.config.MAILWARD_SUSPECT_SCORE);
    assertThresholdsInOrder(wanted.holdThreshold, wanted.suspectScore);
    const changed = (Object.keys(wanted) as Array<keyof OrganisationSettings>).filter(
      (key) => !same(before[key], wanted[key]),
    );
    if (changed.length === 0) return before;
    const next = { ...stored, ...Object.fromEntries(changed.map((key) => [key, wanted[key]])) };
    await trx
      .updateTable("tenants")
      .set({ settings: JSON.stringify(next) })
      .where("id", "=", actor.tenantId)
      .execute();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "tenant.settings_changed",
      targetType: "tenant",
      targetId: actor.tenantId,
      details: {
        before: Object.fromEntries(changed.map((key) => [key, before[key]])),
        after: Object.fromEntries(changed.map((key) => [key, wanted[key]])),
      },
      ip,
      at: now,
    });
    return wanted;
  });
  services.signals.organisationChanged(actor.tenantId);
  return after;
}
