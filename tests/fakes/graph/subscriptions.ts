import { randomUUID } from "node:crypto";
import { MAIL_READ, requirePermission } from "./auth";
import { deliverNotification, validateEndpoint, type NotificationRecord } from "./notifier";
import { normalizePath, type ResolvedGraphOptions } from "./router";
import type { MailStore, StoreChange } from "./store";
import { GraphError, type Principal } from "./types";

/** A change-notification subscription held by the fake. */
export interface Subscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | undefined;
  expiresAt: number;
  clientState: string | undefined;
  applicationId: string;
  creatorId: string;
  /** Created with `Prefer: IdType="ImmutableId"`: notifications carry immutable ids. */
  immutableIds: boolean;
  userId: string;
  /** Folder the resource names, or undefined for the whole mailbox (`/users/{id}/messages`). */
  folderId: string | undefined;
  /** Delivery paused after a reauthorizationRequired until reauthorize or renew. */
  paused: boolean;
}

/** The lifecycle events Graph sends to lifecycleNotificationUrl. */
export type LifecycleEvent = "reauthorizationRequired" | "subscriptionRemoved" | "missed";

const CHANGE_TYPES = new Set(["created", "updated", "deleted"]);

/** Subscriptions: creation with the validation handshake, expiry on a controllable clock, notification delivery. */
export class SubscriptionService {
  readonly subscriptions = new Map<string, Subscription>();
  readonly notifications: NotificationRecord[] = [];
  /** When true, change notifications are dropped (as if Graph lost them). */
  deliveryPaused = false;
  private clockOffsetMs = 0;
  private pending = new Set<Promise<unknown>>();

  constructor(
    private readonly store: MailStore,
    private readonly options: ResolvedGraphOptions,
  ) {
    store.onChange((change) => this.onChange(change));
  }

  /** The fake's clock (real time plus advanceTime offsets), in epoch ms. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Moves the clock forward; subscriptions past their expiration are removed, as Graph deletes them. */
  advanceTime(ms: number): void {
    this.clockOffsetMs += ms;
    this.sweep();
  }

  /** Drops expired subscriptions. */
  sweep(): void {
    for (const [id, subscription] of this.subscriptions) if (subscription.expiresAt <= this.now()) this.subscriptions.delete(id);
  }

  /** A live subscription, or Graph's 404. */
  get(id: string, principal: Principal | undefined): Subscription {
    this.sweep();
    const subscription = this.subscriptions.get(id);
    if (!subscription || (principal && principal.appId !== subscription.applicationId)) {
      throw new GraphError(404, "ResourceNotFound", "The object was not found.");
    }
    return subscription;
  }

  /** Validates a create request, runs the handshake(s) and stores the subscription. */
  async create(principal: Principal | undefined, body: Record<string, unknown>, immutableIds: boolean): Promise<Subscription> {
    for (const field of ["changeType", "notificationUrl", "resource", "expirationDateTime"]) {
      if (typeof body[field] !== "string" || body[field] === "") {
        throw new GraphError(400, "InvalidRequest", `'${field}' is a required property for subscription creation.`);
      }
    }
    const changeType = String(body.changeType);
    if (!changeType.split(",").every((type) => CHANGE_TYPES.has(type.trim()))) {
      throw new GraphError(400, "InvalidRequest", `Invalid 'changeType' attribute: '${changeType}'.`);
    }
    const clientState = typeof body.clientState === "string" ? body.clientState : undefined;
    if (clientState !== undefined && clientState.length > 128) {
      throw new GraphError(400, "InvalidRequest", "The clientState is longer than the maximum of 128 characters.");
    }
    const notificationUrl = this.checkUrl(body.notificationUrl, "notificationUrl");
    const lifecycleNotificationUrl =
      body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null
        ? undefined
        : this.checkUrl(body.lifecycleNotificationUrl, "lifecycleNotificationUrl");
    const expiresAt = this.checkExpiration(body.expirationDateTime);
    const { userId, folderId } = this.parseResource(String(body.resource), principal);
    requirePermission(principal, MAIL_READ, userId);
    await this.handshake(notificationUrl);
    if (lifecycleNotificationUrl !== undefined) await this.handshake(lifecycleNotificationUrl);
    const subscription: Subscription = {
      id: randomUUID(),
      resource: String(body.resource),
      changeType,
      notificationUrl,
      lifecycleNotificationUrl,
      expiresAt,
      clientState,
      applicationId: principal?.appId ?? "",
      creatorId: principal?.oid ?? "",
      immutableIds,
      userId,
      folderId,
      paused: false,
    };
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  /** PATCH: renews (and reauthorizes); re-validates the notification URL when configured. */
  async renew(subscription: Subscription, body: Record<string, unknown>): Promise<void> {
    const expiresAt = this.checkExpiration(body.expirationDateTime);
    const notificationUrl = body.notificationUrl === undefined ? subscription.notificationUrl : this.checkUrl(body.notificationUrl, "notificationUrl");
    if (this.options.validateOnRenew || notificationUrl !== subscription.notificationUrl) await this.handshake(notificationUrl);
    subscription.expiresAt = expiresAt;
    subscription.notificationUrl = notificationUrl;
    subscription.paused = false;
  }

  /** The subscription resource as Graph returns it. */
  render(subscription: Subscription): Record<string, unknown> {
    return {
      id: subscription.id,
      resource: subscription.resource,
      applicationId: subscription.applicationId,
      changeType: subscription.changeType,
      clientState: subscription.clientState ?? null,
      notificationUrl: subscription.notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: subscription.lifecycleNotificationUrl ?? null,
      expirationDateTime: new Date(subscription.expiresAt).toISOString(),
      creatorId: subscription.creatorId,
      includeResourceData: false,
      latestSupportedTlsVersion: "v1_2",
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
  }

  /** Sends a lifecycle notification; subscriptionRemoved also deletes the subscription. */
  async lifecycle(id: string, event: LifecycleEvent, options: { pauseDelivery?: boolean } = {}): Promise<NotificationRecord> {
    const subscription = this.get(id, undefined);
    if (!subscription.lifecycleNotificationUrl) throw new Error(`Subscription ${id} has no lifecycleNotificationUrl`);
    if (event === "subscriptionRemoved") this.subscriptions.delete(id);
    if (event === "reauthorizationRequired" && options.pauseDelivery) subscription.paused = true;
    const payload = {
      value: [
        {
          subscriptionId: subscription.id,
          subscriptionExpirationDateTime: new Date(subscription.expiresAt).toISOString(),
          tenantId: this.options.tenantId,
          clientState: subscription.clientState ?? null,
          lifecycleEvent: event,
        },
      ],
    };
    return this.track(deliverNotification(subscription.lifecycleNotificationUrl, "lifecycle", payload, this.deliveryOptions(), this.notifications));
  }

  /** Resolves when every notification in flight has been delivered (or given up). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private deliveryOptions(): { timeoutMs: number; attempts: number; delayMs: number } {
    return { timeoutMs: this.options.notificationTimeoutMs, ...this.options.notificationRetry };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return tracked;
  }

  private onChange(change: StoreChange): void {
    this.sweep();
    const batches = new Map<string, Record<string, unknown>[]>();
    for (const subscription of this.subscriptions.values()) {
      if (subscription.userId !== change.user.id) continue;
      const type = this.changeTypeFor(subscription, change);
      if (!type || !subscription.changeType.split(",").map((t) => t.trim()).includes(type)) continue;
      const id = subscription.immutableIds ? change.message.immutableId : change.restIdInFolder;
      const resource = `Users/${change.user.id}/Messages/${id}`;
      const entry = {
        subscriptionId: subscription.id,
        subscriptionExpirationDateTime: new Date(subscription.expiresAt).toISOString(),
        changeType: type,
        resource,
        resourceData: { "@odata.type": "#Microsoft.Graph.Message", "@odata.id": resource, "@odata.etag": `W/"${change.message.changeKey}"`, id },
        clientState: subscription.clientState ?? null,
        tenantId: this.options.tenantId,
      };
      if (this.deliveryPaused || subscription.paused) {
        this.notifications.push({ at: Date.now(), kind: "change", url: subscription.notificationUrl, subscriptionIds: [subscription.id], payload: { value: [entry] }, attempt: 0, status: undefined, durationMs: 0, ok: false, error: "not delivered: delivery paused" });
        continue;
      }
      batches.set(subscription.notificationUrl, [...(batches.get(subscription.notificationUrl) ?? []), entry]);
    }
    for (const [url, value] of batches) {
      const payload = { value: value as { subscriptionId: string }[] };
      void this.track(deliverNotification(url, "change", payload, this.deliveryOptions(), this.notifications));
    }
  }

  private changeTypeFor(subscription: Subscription, change: StoreChange): string | undefined {
    if (subscription.folderId !== undefined) {
      if (subscription.folderId !== change.folderId) return undefined;
      return change.kind === "added" ? "created" : change.kind === "updated" ? "updated" : "deleted";
    }
    if (change.kind === "added") return change.isMove ? "updated" : "created";
    if (change.kind === "updated") return "updated";
    return change.isMove ? undefined : "deleted";
  }

  private async handshake(url: string): Promise<void> {
    const outcome = await validateEndpoint(url, this.options.validationTimeoutMs, this.notifications);
    if (outcome.ok) return;
    if (outcome.reason === "timeout") throw new GraphError(400, "InvalidRequest", "Subscription validation request timed out.");
    throw new GraphError(400, "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.");
  }

  private checkUrl(value: unknown, field: string): string {
    if (typeof value !== "string") throw new GraphError(400, "InvalidRequest", `'${field}' must be a string.`);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new GraphError(400, "InvalidRequest", `Invalid '${field}': '${value}' is not an absolute URL.`);
    }
    if (parsed.protocol !== "https:" && (this.options.requireHttpsNotificationUrl || parsed.protocol !== "http:")) {
      throw new GraphError(400, "InvalidRequest", `Invalid '${field}': the URL must use the HTTPS protocol.`);
    }
    return value;
  }

  private checkExpiration(value: unknown): number {
    const expiresAt = typeof value === "string" ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(expiresAt)) throw new GraphError(400, "InvalidRequest", "Invalid 'expirationDateTime'.");
    if (expiresAt <= this.now()) throw new GraphError(400, "InvalidRequest", "Subscription expiration must be in the future.");
    const max = this.options.maxSubscriptionMinutes;
    if (expiresAt > this.now() + max * 60_000) {
      throw new GraphError(400, "ExtensionError", `Subscription expiration can only be ${max} minutes in the future.`);
    }
    return expiresAt;
  }

  private parseResource(resource: string, principal: Principal | undefined): { userId: string; folderId: string | undefined } {
    let parts = normalizePath(resource).split("/").filter(Boolean);
    if (parts[0]?.toLowerCase() === "me" && principal?.kind === "user") parts = ["users", principal.oid, ...parts.slice(1)];
    const unsupported = (): GraphError => new GraphError(400, "InvalidRequest", `Resource '${resource}' is not supported by the fake.`);
    if (parts[0]?.toLowerCase() !== "users" || !parts[1]) throw unsupported();
    const user = this.store.findUser(parts[1]);
    if (!user) throw new GraphError(400, "ExtensionError", `Operation: Create; Exception: [Status Code: NotFound; Reason: The requested user '${parts[1]}' is invalid.]`);
    const rest = parts.slice(2).map((part) => part.toLowerCase());
    if (rest.length === 1 && rest[0] === "messages") return { userId: user.id, folderId: undefined };
    if (rest.length === 3 && rest[0] === "mailfolders" && rest[2] === "messages") {
      return { userId: user.id, folderId: this.store.folder(user, parts[3] ?? "").id };
    }
    throw unsupported();
  }
}
