import { timingSafeEqual } from "node:crypto";
import type { Services } from "../context";
import type { GraphMetrics } from "./metrics";

/** What Graph posts: a collection of change notifications or lifecycle events. */
export type NotificationKind = "change" | "lifecycle";

/** The outcome of one POST: how many entries were stored, and how many dropped (unknown subscription, wrong clientState). */
export interface AcceptOutcome {
  accepted: number;
  dropped: number;
}

interface Entry {
  subscriptionId: string;
  clientState: string | null;
  event: string;
  resourceId: string | null;
}

const LIFECYCLE_EVENTS = new Set(["reauthorizationRequired", "subscriptionRemoved", "missed"]);

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** The message id a notification names: resourceData.id, else the last segment of `resource`. */
function resourceIdOf(entry: Record<string, unknown>): string | null {
  const data = entry.resourceData;
  if (typeof data === "object" && data !== null) {
    const id = text((data as Record<string, unknown>).id);
    if (id) return id;
  }
  const resource = text(entry.resource);
  const last = resource?.split("/").pop();
  return last ? last.replace(/^Messages\('|'\)$/gi, "") : null;
}

function entriesOf(body: unknown, kind: NotificationKind): Entry[] | null {
  if (typeof body !== "object" || body === null) return null;
  const value = (body as { value?: unknown }).value;
  if (!Array.isArray(value)) return null;
  const entries: Entry[] = [];
  for (const raw of value as unknown[]) {
    if (typeof raw !== "object" || raw === null) continue;
    const entry = raw as Record<string, unknown>;
    const subscriptionId = text(entry.subscriptionId);
    const event = kind === "change" ? text(entry.changeType) : text(entry.lifecycleEvent);
    if (!subscriptionId || !event) continue;
    if (kind === "lifecycle" && !LIFECYCLE_EVENTS.has(event)) continue;
    entries.push({
      subscriptionId,
      clientState: text(entry.clientState),
      event,
      resourceId: kind === "change" ? resourceIdOf(entry) : null,
    });
  }
  return entries;
}

function sameSecret(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks every entry of a notification POST against the subscription it names:
 * an unknown subscription or a clientState that does not match (compared in
 * constant time) is dropped and logged (without the payload); the others are
 * written to graph_notifications in one statement, and processed later by the
 * job, so the answer goes back to Graph well within its 3 s.
 */
export async function acceptNotifications(
  services: Services,
  metrics: GraphMetrics,
  kind: NotificationKind,
  body: unknown,
): Promise<AcceptOutcome | null> {
  const entries = entriesOf(body, kind);
  if (entries === null) return null;
  if (entries.length === 0) return { accepted: 0, dropped: 0 };
  const ids = [...new Set(entries.map((e) => e.subscriptionId))];
  const subscriptions = await services.db
    .selectFrom("graph_subscriptions")
    .select(["subscription_id", "client_state", "tenant_id", "mailbox_id", "folder"])
    .where("subscription_id", "in", ids)
    .execute();
  const byId = new Map(subscriptions.map((s) => [s.subscription_id, s]));
  const rows = [];
  let dropped = 0;
  for (const entry of entries) {
    const subscription = byId.get(entry.subscriptionId);
    const reason = !subscription
      ? "unknown_subscription"
      : !sameSecret(entry.clientState, subscription.client_state)
        ? "wrong_client_state"
        : null;
    if (reason || !subscription) {
      dropped += 1;
      metrics.notifications.inc({ outcome: reason ?? "unknown_subscription" });
      services.logger.warn(
        { kind, subscriptionId: entry.subscriptionId, event: entry.event, reason },
        "graph notification dropped",
      );
      continue;
    }
    metrics.notifications.inc({ outcome: "accepted" });
    rows.push({
      tenant_id: subscription.tenant_id,
      mailbox_id: subscription.mailbox_id,
      kind,
      folder: subscription.folder,
      event: entry.event,
      resource_id: entry.resourceId,
      subscription_id: entry.subscriptionId,
    });
  }
  if (rows.length > 0) await services.db.insertInto("graph_notifications").values(rows).execute();
  return { accepted: rows.length, dropped };
}
