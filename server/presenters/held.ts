import type { Actor } from "../context";
import { displayAddress } from "./addresses";
import type { HeldDetail, HeldItem, VerdictSignal } from "../../shared/schemas/held";
import { HELD_REASONS, HELD_STATUSES } from "../../shared/schemas/held";
import { heldActionsFor } from "../commands/held/policy";
import { heldResourceOf, isExpired, type HeldRow } from "../commands/held/queries";
import type { HeldPreview } from "../commands/held/detail";

type Reason = (typeof HELD_REASONS)[number];
type Status = (typeof HELD_STATUSES)[number];

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}

/**
 * "Name <address>" when the sender gave a name (so display-name impersonation is visible), else the address, as
 * `displayAddress` shows it.
 */
export function formatSender(name: string, address: string): string {
  const clean = name.replace(/[\r\n]/g, " ").trim();
  const shown = displayAddress(address);
  const same = [address, shown].some((a) => a.toLowerCase() === clean.toLowerCase());
  return clean && !same ? `${clean} <${shown}>` : shown;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === "string" && value !== "" ? value.slice(0, max) : undefined;
}

/** One stored signal (the engine's `{id,label,weight,detail}` or the contract's `{name,score,detail}`) in the contract's shape. */
export function presentSignal(raw: unknown): VerdictSignal | null {
  if (!raw || typeof raw !== "object") return null;
  const s = raw as Record<string, unknown>;
  const name = text(s.id, 100) ?? text(s.name, 100);
  if (!name) return null;
  const weight = typeof s.weight === "number" ? s.weight : typeof s.score === "number" ? s.score : 0;
  const label = text(s.label, 500);
  const detail = text(s.detail, 500);
  return { name, score: weight, ...(detail ? { detail } : {}), ...(label ? { label } : {}) };
}

/** The stored signals, strongest first, keeping only those that pushed towards holding. */
export function presentSignals(raw: unknown): VerdictSignal[] {
  const list = Array.isArray(raw) ? raw : [];
  return list
    .map(presentSignal)
    .filter((s): s is VerdictSignal => s !== null && s.score > 0)
    .sort((a, b) => b.score - a.score);
}

/** A held item as lists show it, with the actions the actor may take now. */
export function presentHeldItem(row: HeldRow, actor: Actor, now: Date): HeldItem {
  const expired = isExpired(row, now);
  const resource = heldResourceOf(row, actor);
  return {
    id: row.id,
    from: formatSender(row.from_name, row.from_address),
    to: row.recipient,
    subject: row.subject,
    receivedAt: iso(row.created_at),
    reason: (HELD_REASONS as readonly string[]).includes(row.reason) ? (row.reason as Reason) : "policy",
    status: expired ? "expired" : (row.status as Status),
    expiresAt: iso(row.expires_at),
    score: row.score,
    toGroup: resource.groupMember,
    orgBlock: resource.orgBlock,
    actions: heldActionsFor(actor, resource, row.status, expired),
  };
}

/**
 * A held item with its signals in plain words, headers, authentication results, attachments and safe preview
 * (`previewUrl`: where the frame loads it, with the actor's ticket).
 */
export function presentHeldDetail(
  row: HeldRow,
  actor: Actor,
  now: Date,
  preview: HeldPreview,
  previewUrl: string | null,
): HeldDetail {
  return {
    ...presentHeldItem(row, actor, now),
    messageId: preview.internetMessageId ?? "",
    cc: preview.cc,
    signals: presentSignals(row.signals),
    ...(preview.auth ? { auth: preview.auth } : {}),
    html: preview.html,
    previewUrl,
    text: preview.text,
    remoteImagesBlocked: preview.remoteImagesBlocked,
    attachments: preview.attachments,
    ...(preview.explanation ? { explanation: preview.explanation } : {}),
    headers: preview.headers,
    links: preview.links,
    releaseRequest: preview.releaseRequest,
  };
}
