import type { Transaction } from "kysely";
import type { Actor } from "../../context";
import type { Database } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { loadSelfServiceSettings } from "../../mail/digest/settings";
import { assertNotSpoofing, addressPatternOf } from "../senders/patterns";
import { upsertSenderRule } from "../senders/upsert";
import type { HeldRow } from "./queries";
import { releaseTargetFor, type ReleaseTarget } from "./release-target";

/** What a transition did, for the audit event and the work after the commit. */
export interface TransitionResult {
  changed: boolean;
  /** A delivery (or a Graph move) was queued: wake the worker after the commit. */
  queued: boolean;
  ruleId?: string;
}

const DAY_MS = 86_400_000;

async function targetFor(trx: Transaction<Database>, tenantId: string): Promise<ReleaseTarget> {
  const tenant = await trx.selectFrom("tenants").select("mode").where("id", "=", tenantId).executeTakeFirst();
  return releaseTargetFor(tenant?.mode ?? "gateway");
}

async function setStatus(
  trx: Transaction<Database>,
  row: HeldRow,
  status: string,
  actor: Actor,
  now: Date,
): Promise<void> {
  await trx
    .updateTable("held_items")
    .set({ status, acted_by: actor.via === "system" ? null : actor.userId, acted_at: now })
    .where("id", "=", row.id)
    .execute();
  row.status = status;
}

/** Closes a pending release request when the item is settled another way. */
export async function closePendingRequest(
  trx: Transaction<Database>,
  heldId: string,
  status: "approved" | "denied" | "expired",
  by: string | null,
  note: string | null,
  now: Date,
): Promise<void> {
  await trx
    .updateTable("release_requests")
    .set({ status, decided_by: by, decided_at: now, decision_note: note })
    .where("held_item_id", "=", heldId)
    .where("status", "=", "pending")
    .execute();
}

function senderPatternOf(row: HeldRow) {
  const pattern = addressPatternOf(row.from_address);
  if (!pattern)
    throw new ApiError("invalid_request", "This message has no usable sender address to block or permit.");
  return pattern;
}

/** Releases a held item once: status released, the release target queues it, a pending request is closed. */
export async function releaseTransition(
  trx: Transaction<Database>,
  row: HeldRow,
  actor: Actor,
  now: Date,
): Promise<TransitionResult> {
  if (row.status === "released") return { changed: false, queued: false };
  if (row.status === "deleted")
    throw new ApiError("conflict", "This message was deleted, so it cannot be released.");
  await setStatus(trx, row, "released", actor, now);
  await (
    await targetFor(trx, row.tenant_id)
  ).release(trx, {
    heldId: row.id,
    tenantId: row.tenant_id,
    messageId: row.message_id,
    userId: row.user_id,
    recipient: row.recipient,
  });
  await closePendingRequest(trx, row.id, "approved", actor.via === "system" ? null : actor.userId, null, now);
  return { changed: true, queued: true };
}

/**
 * Adds (or switches to) the recipient's personal permit for the sender, expiring after the tenant's auto-permit days;
 * a permit the person already has is only ever lengthened, never shortened or relabelled.
 */
export async function permitSender(
  trx: Transaction<Database>,
  row: HeldRow,
  actor: Actor,
  now: Date,
): Promise<string> {
  const pattern = senderPatternOf(row);
  await assertNotSpoofing(trx, row.tenant_id, actor.email, pattern);
  const settings = await loadSelfServiceSettings(trx, row.tenant_id);
  const upsert = await upsertSenderRule(
    trx,
    {
      tenantId: row.tenant_id,
      scope: "user",
      userId: actor.userId,
      kind: "permit",
      pattern: pattern.pattern,
      expiresAt: new Date(now.getTime() + settings.autoPermitDays * DAY_MS),
      createdBy: actor.userId,
      source: "auto_permit",
      onOtherKind: "switch",
      onSameKind: "extend",
    },
    now,
  );
  return upsert.rule.id;
}

/** Adds (or switches to) the recipient's personal block for the sender (no expiry). */
export async function blockSender(
  trx: Transaction<Database>,
  row: HeldRow,
  actor: Actor,
  now: Date,
  source = "held_block",
): Promise<string> {
  const pattern = senderPatternOf(row);
  const upsert = await upsertSenderRule(
    trx,
    {
      tenantId: row.tenant_id,
      scope: "user",
      userId: actor.userId,
      kind: "block",
      pattern: pattern.pattern,
      expiresAt: null,
      createdBy: actor.userId,
      source,
      onOtherKind: "switch",
    },
    now,
  );
  return upsert.rule.id;
}

/** Deletes a held item (the archive copy stays); a released item cannot be deleted from quarantine any more. */
export async function deleteTransition(
  trx: Transaction<Database>,
  row: HeldRow,
  actor: Actor,
  now: Date,
): Promise<TransitionResult> {
  if (row.status === "deleted") return { changed: false, queued: false };
  if (row.status === "released") throw new ApiError("conflict", "This message was already released.");
  await setStatus(trx, row, "deleted", actor, now);
  await closePendingRequest(
    trx,
    row.id,
    "denied",
    null,
    "Withdrawn: the recipient deleted the message.",
    now,
  );
  return { changed: true, queued: false };
}

/** Asks a security admin to release a held item; a second request while one is pending changes nothing. */
export async function requestReleaseTransition(
  trx: Transaction<Database>,
  row: HeldRow,
  actor: Actor,
  now: Date,
  note: string | null,
): Promise<TransitionResult> {
  if (row.status === "release_requested") return { changed: false, queued: false };
  if (row.status === "released") throw new ApiError("conflict", "This message was already released.");
  if (row.status === "deleted") throw new ApiError("conflict", "This message was deleted.");
  await setStatus(trx, row, "release_requested", actor, now);
  await trx
    .insertInto("release_requests")
    .values({ tenant_id: row.tenant_id, held_item_id: row.id, requester_id: actor.userId, note })
    .execute();
  return { changed: true, queued: false };
}
