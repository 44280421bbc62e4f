import { randomUUID } from "node:crypto";
import { MAIL_READ, requirePermission } from "./auth";
import { deliverNotification, type NotificationRecord } from "./notifier";
import type { ResolvedGraphOptions } from "./router";
import type { MailStore, StoreChange } from "./store";
import {
  checkCreateFields,
  checkExpiration,
  checkNotificationUrl,
  handshake,
  parseSubscriptionResource,
} from "./subscription-checks";
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
    for (const [id, subscription] of this.subscriptions)
      if (subscription.expiresAt <= this.now()) this.subscriptions.delete(id);
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
  async create(
    principal: Principal | undefined,
    body: Record<string, unknown>,
    immutableIds: boolean,
  ): Promise<Subscription> {
    const { changeType, clientState } = checkCreateFields(body);
    const notificationUrl = checkNotificationUrl(body.notificationUrl, "notificationUrl", this.options);
    const lifecycleNotificationUrl =
      body.lifecycleNotificationUrl === undefined || body.lifecycleNotificationUrl === null
        ? undefined
        : checkNotificationUrl(body.lifecycleNotificationUrl, "lifecycleNotificationUrl", this.options);
    const expiresAt = checkExpiration(
      body.expirationDateTime,
      this.now(),
      this.options.maxSubscriptionMinutes,
    );
    const { userId, folderId } = parseSubscriptionResource(this.store, String(body.resource), principal);
    requirePermission(principal, MAIL_READ, userId);
    await handshake(notificationUrl, this.options, this.notifications);
    if (lifecycleNotificationUrl !== undefined)
      await handshake(lifecycleNotificationUrl, this.options, this.notifications);
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
    const expiresAt = checkExpiration(
      body.expirationDateTime,
      this.now(),
      this.options.maxSubscriptionMinutes,
    );
    const notificationUrl =
      body.notificationUrl === undefined
        ? subscription.notificationUrl
        : checkNotificationUrl(body.notificationUrl, "notificationUrl", this.options);
    if (this.options.validateOnRenew || notificationUrl !== subscription.notificationUrl)
      await handshake(notificationUrl, this.options, this.notifications);
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
  async lifecycle(
    id: string,
    event: LifecycleEvent,
    options: { pauseDelivery?: boolean } = {},
  ): Promise<NotificationRecord> {
    const subscription = this.get(id, undefined);
    if (!subscription.lifecycleNotificationUrl)
      throw new Error(`Subscription ${id} has no lifecycleNotificationUrl`);
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
    return this.track(
      deliverNotification(
        subscription.lifecycleNotificationUrl,
        "lifecycle",
        payload,
        this.deliveryOptions(),
        this.notifications,
      ),
    );
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
      if (
        !type ||
        !subscription.changeType
          .split(",")
          .map((t) => t.trim())
          .includes(type)
      )
        continue;
      const id = subscription.immutableIds ? change.message.immutableId : change.restIdInFolder;
      const resource = `Users/${change.user.id}/Messages/${id}`;
      const entry = {
        subscriptionId: subscription.id,
        subscriptionExpirationDateTime: new Date(subscription.expiresAt).toISOString(),
        changeType: type,
        resource,
        resourceData: {
          "@odata.type": "#Microsoft.Graph.Message",
          "@odata.id": resource,
          "@odata.etag": `W/"${change.message.changeKey}"`,
          id,
        },
        clientState: subscription.clientState ?? null,
        tenantId: this.options.tenantId,
      };
      if (this.deliveryPaused || subscription.paused) {
        this.notifications.push({
          at: Date.now(),
          kind: "change",
          url: subscription.notificationUrl,
          subscriptionIds: [subscription.id],
          payload: { value: [entry] },
          attempt: 0,
          status: undefined,
          durationMs: 0,
          ok: false,
          error: "not delivered: delivery paused",
        });
        continue;
      }
      batches.set(subscription.notificationUrl, [
        ...(batches.get(subscription.notificationUrl) ?? []),
        entry,
      ]);
    }
    for (const [url, value] of batches) {
      const payload = { value: value as { subscriptionId: string }[] };
      void this.track(
        deliverNotification(url, "change", payload, this.deliveryOptions(), this.notifications),
      );
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
}
