import { actorLabel, runCommand, type Services } from "../../context";
import { systemActor } from "../../auth/actor";
import { appendAudit } from "../../audit/log";
import { formatSender } from "../../presenters/held";
import { isReviewOnlyHold } from "../../../shared/schemas/held";
import { addressedToPerson, memberGroupAddresses } from "../../commands/held/queries";
import { digestHtml, digestSubject, digestText, type DigestEntry } from "./compose";
import { createActionLink, linkSecret, type LinkAction } from "./links";
import { queueSystemMail } from "./outbound";
import { loadSelfServiceSettings } from "./settings";

/** The result of one person's digest run. */
export interface DigestResult {
  digestId: string | null;
  items: number;
}

/**
 * Holds younger than this wait for the next digest: a hold's created_at is its transaction's start, so one
 * still committing when the digest runs could otherwise fall behind the cutoff and never be listed.
 */
export const DIGEST_CUTOFF_LAG_MS = 60_000;

/** Most items one digest lists (the rest wait for the next digest). */
export const DIGEST_MAX_ITEMS = 100;

/**
 * The links of an entry: a group's mail gets release (or the request) only, as its members may do no more; a hold
 * only a security admin releases (phish, malware, the organisation's block) gets the request instead of release.
 */
function actionsFor(item: { reason: string; rule_scope: string | null }, toGroup: boolean): LinkAction[] {
  const reviewOnly = isReviewOnlyHold({ reason: item.reason, orgBlock: item.rule_scope === "tenant" });
  if (toGroup) return reviewOnly ? ["request-release"] : ["release"];
  return reviewOnly ? ["request-release", "block"] : ["release", "release-and-permit", "block"];
}

/** The public URL of a digest link. */
export function linkUrl(services: Services, token: string): string {
  return `${services.config.MAILWARD_PUBLIC_URL.replace(/\/$/, "")}/d/${token}`;
}

/**
 * Sends one person their digest: the holds that are new since their last digest
 * and still held (theirs, and their groups' mail), each with signed single-use links (Release, Release and permit,
 * Block; phish/malware and the organisation's blocks get "Ask security" instead of Release), their security
 * phrase on top. Queued through the delivery queue and audited, in one
 * transaction with the new cutoff, so a hold is listed in exactly one digest.
 * Nothing new → no mail.
 */
export async function sendDigest(
  services: Services,
  tenantId: string,
  userId: string,
  now: Date,
): Promise<DigestResult> {
  const actor = systemActor(tenantId, "digest");
  const outcome = await runCommand(services, actor, null, async ({ trx }) => {
    const user = await trx
      .selectFrom("users")
      .select(["id", "email", "display_name", "security_phrase", "disabled_at"])
      .where("id", "=", userId)
      .where("tenant_id", "=", tenantId)
      .executeTakeFirst();
    if (!user || user.disabled_at) return { digestId: null, items: 0 };
    const horizon = new Date(now.getTime() - DIGEST_CUTOFF_LAG_MS);
    const state = await trx
      .selectFrom("digest_state")
      .select("last_cutoff")
      .where("tenant_id", "=", tenantId)
      .where("user_id", "=", userId)
      .forUpdate()
      .executeTakeFirst();
    const groups = await memberGroupAddresses(trx, { tenantId, userId });
    let q = trx
      .selectFrom("held_items as h")
      .innerJoin("messages as m", "m.id", "h.message_id")
      .select([
        "h.id",
        "h.user_id",
        "h.recipient",
        "h.reason",
        "h.rule_scope",
        "h.created_at",
        "h.expires_at",
        "m.from_address",
        "m.from_name",
        "m.subject",
      ])
      .where("h.tenant_id", "=", tenantId)
      .where((eb) => addressedToPerson(eb, userId, groups))
      .where("h.status", "=", "held")
      .where("h.expires_at", ">", now)
      .where("h.created_at", "<=", horizon);
    if (state) q = q.where("h.created_at", ">", state.last_cutoff);
    const items = await q.orderBy("h.created_at").orderBy("h.id").limit(DIGEST_MAX_ITEMS).execute();
    // With more than fit, the cutoff stops at the last listed item so the rest come next time.
    const cutoff =
      items.length === DIGEST_MAX_ITEMS ? new Date(items[items.length - 1]!.created_at) : horizon;
    await trx
      .insertInto("digest_state")
      .values({ tenant_id: tenantId, user_id: userId, last_cutoff: cutoff })
      .onConflict((oc) => oc.columns(["tenant_id", "user_id"]).doUpdateSet({ last_cutoff: cutoff }))
      .execute();
    if (items.length === 0) return { digestId: null, items: 0 };

    const settings = await loadSelfServiceSettings(trx, tenantId);
    const digest = await trx
      .insertInto("digests")
      .values({ tenant_id: tenantId, user_id: userId, cutoff, item_count: items.length })
      .returning("id")
      .executeTakeFirstOrThrow();
    const secret = await linkSecret(trx, tenantId, services.secretKey);
    const entries: DigestEntry[] = [];
    for (const item of items) {
      const links: DigestEntry["links"] = [];
      const toGroup = item.user_id === null;
      for (const action of actionsFor(item, toGroup)) {
        const token = await createActionLink(trx, {
          tenantId,
          heldItemId: item.id,
          userId,
          action,
          digestId: digest.id,
          now,
          secret,
        });
        links.push({ action, url: linkUrl(services, token) });
      }
      entries.push({
        from: formatSender(item.from_name, item.from_address),
        subject: item.subject,
        reason: item.reason,
        receivedAt: new Date(item.created_at),
        expiresAt: new Date(item.expires_at),
        ...(toGroup ? { group: item.recipient } : {}),
        links,
      });
    }
    const content = {
      displayName: user.display_name || user.email,
      securityPhrase: user.security_phrase,
      entries,
      portalUrl: `${services.config.MAILWARD_PUBLIC_URL.replace(/\/$/, "")}/portal`,
      timeZone: settings.timeZone,
    };
    const messageId = await queueSystemMail(
      trx,
      {
        tenantId,
        to: user.email,
        subject: digestSubject(items.length),
        text: digestText(content),
        html: digestHtml(content),
        purpose: "digest",
        unsearchable: true,
        credentials: entries.flatMap((entry) => entry.links.map((link) => link.url)),
      },
      now,
    );
    await trx.updateTable("digests").set({ message_id: messageId }).where("id", "=", digest.id).execute();
    await appendAudit(trx, {
      tenantId,
      actorId: null,
      actorLabel: actorLabel(actor),
      action: "digest.sent",
      targetType: "user",
      targetId: userId,
      details: {
        digestId: digest.id,
        items: items.length,
        heldIds: items.map((i) => i.id),
        phraseShown: user.security_phrase !== null,
      },
      at: now,
    });
    return { digestId: digest.id, items: items.length };
  });
  if (outcome.digestId) services.signals.deliveriesQueued();
  return outcome;
}
