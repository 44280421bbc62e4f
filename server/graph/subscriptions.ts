import { randomBytes } from "node:crypto";
import type { Selectable } from "kysely";
import type { Services } from "../context";
import type { GraphSubscriptionsTable } from "../db/schema";
import type { GraphConnection } from "./connection";
import { describeError, isNotFound } from "./errors";
import type { GraphMailbox } from "./mailboxes";
import { FolderChanges } from "./subscription-claims";

/** A stored subscription row. */
export type GraphSubscriptionRow = Selectable<GraphSubscriptionsTable>;

/** The two folders watched per mailbox: new mail in the inbox, and Sent Items for the outbound archive. */
export const WATCHED_FOLDERS = ["inbox", "sentitems"] as const;
/** A watched folder. */
export type WatchedFolder = (typeof WATCHED_FOLDERS)[number];

/** Where Graph posts: change notifications and lifecycle events. */
export interface WebhookUrls {
  notificationUrl: string;
  lifecycleUrl: string;
}

/** The subscription ids Graph had in a directory, and when they were asked for (what was made since is not in them). */
export interface LiveSubscriptions {
  ids: Set<string>;
  listedAt: Date;
}

/** What `ensure` did; every outcome but `kept` and `renewed` leaves a gap that a delta catch-up must fill. */
export type EnsureOutcome = "kept" | "renewed" | "created" | "recreated";

interface SubscriptionResource {
  id: string;
  expirationDateTime: string;
}

const MARGIN_MS = 60_000;
/** How long a subscription our database does not know is left alone: an instance may be storing it after its create. */
const ORPHAN_GRACE_MS = 10 * 60_000;

/** What `ensure` is to do with a folder's subscription. */
type SubscriptionPlan =
  | { action: "create" }
  | { action: "recreate"; reason: string }
  | { action: "renew"; row: GraphSubscriptionRow }
  | { action: "keep" };

/** When a subscription is renewed: at half of its lifetime (from the last renewal to its expiry). */
export function renewalDueAt(row: Pick<GraphSubscriptionRow, "renewed_at" | "expires_at">): Date {
  const from = new Date(row.renewed_at).getTime();
  const to = new Date(row.expires_at).getTime();
  return new Date(from + (to - from) / 2);
}

/**
 * Subscriptions per mailbox folder: created with a random clientState and the
 * lifecycle URL, renewed at half their lifetime (PATCH), re-created when Graph
 * no longer has them (expired, removed) or the notification URL changed. The
 * caller runs a delta catch-up after anything but `kept`/`renewed`.
 */
export class SubscriptionManager {
  private readonly changes: FolderChanges;

  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
    private readonly urls: () => WebhookUrls,
  ) {
    this.changes = new FolderChanges(services);
  }

  private expiry(now: Date): string {
    const minutes = this.connection.settings.subscriptionMinutes;
    return new Date(now.getTime() + minutes * 60_000 - (minutes > 2 ? MARGIN_MS : 0)).toISOString();
  }

  /** Keeps one live subscription for the folder; `live` (from liveIds) lets it notice subscriptions Graph dropped. */
  ensure(
    mailbox: GraphMailbox,
    folder: WatchedFolder,
    live: LiveSubscriptions | null,
  ): Promise<EnsureOutcome> {
    return this.changes.run(
      mailbox.id,
      folder,
      "kept",
      () => this.ensureNow(mailbox, folder, live),
      () => this.unchanged(mailbox.id, folder, live),
    );
  }

  /** Replaces the folder's subscription (the old one is deleted at Graph when it still exists). */
  recreate(mailbox: GraphMailbox, folder: WatchedFolder, reason: string): Promise<void> {
    return this.changes.run(mailbox.id, folder, undefined, () => this.recreateNow(mailbox, folder, reason));
  }

  /** Answers reauthorizationRequired: reauthorize, or re-create when Graph no longer has it. */
  reauthorize(mailbox: GraphMailbox, folder: WatchedFolder): Promise<EnsureOutcome> {
    return this.changes.run(mailbox.id, folder, "kept", () => this.reauthorizeNow(mailbox, folder));
  }

  /**
   * The subscription ids Graph still has for this app in a directory (expired and removed ones are gone).
   * A subscription to our URL that our database does not know (a crash between create and store) is
   * deleted, so it does not keep posting notifications nobody accepts; not while it is younger than
   * ORPHAN_GRACE_MS (told by its expiry), for a create in flight, in this process or another instance
   * sharing the URL and database, has not stored its row yet.
   */
  async liveIds(directoryId: string): Promise<LiveSubscriptions> {
    const api = this.connection.api(directoryId);
    const listedAt = this.services.now();
    const listed = await api.collect<{ id: string; notificationUrl?: string; expirationDateTime?: string }>(
      "/subscriptions",
    );
    const youngAfter = new Date(this.expiry(listedAt)).getTime() - ORPHAN_GRACE_MS;
    const ours = listed.items.filter(
      (s) =>
        s.notificationUrl === this.urls().notificationUrl &&
        !(Date.parse(s.expirationDateTime ?? "") > youngAfter),
    );
    if (ours.length > 0) {
      const ids = ours.map((s) => s.id);
      const known = await this.services.db
        .selectFrom("graph_subscriptions")
        .select("subscription_id")
        .where("subscription_id", "in", ids)
        .execute();
      const stored = new Set(known.map((k) => k.subscription_id));
      for (const orphan of ids.filter((id) => !stored.has(id))) {
        await api.delete(`/subscriptions/${orphan}`).catch(() => undefined);
        this.services.logger.warn({ subscriptionId: orphan }, "orphaned graph subscription deleted");
      }
    }
    return { ids: new Set(listed.items.map((s) => s.id)), listedAt };
  }

  /** The stored row of a mailbox folder. */
  async row(mailboxId: string, folder: WatchedFolder): Promise<GraphSubscriptionRow | undefined> {
    return this.services.db
      .selectFrom("graph_subscriptions")
      .selectAll()
      .where("mailbox_id", "=", mailboxId)
      .where("folder", "=", folder)
      .executeTakeFirst();
  }

  /** What `ensure` does with a folder's stored subscription (or its absence): decided once, claimed or not. */
  private planFor(
    row: GraphSubscriptionRow | undefined,
    live: LiveSubscriptions | null,
    now: Date,
  ): SubscriptionPlan {
    if (!row) return { action: "create" };
    // One made or renewed since the listing is not in it (a sweep is long; lifecycle events and other instances go on).
    const reason =
      row.notification_url !== this.urls().notificationUrl
        ? "notification URL changed"
        : new Date(row.expires_at).getTime() <= now.getTime()
          ? "expired"
          : live && !live.ids.has(row.subscription_id) && new Date(row.renewed_at) < live.listedAt
            ? "gone at Graph"
            : null;
    if (reason) return { action: "recreate", reason };
    return now.getTime() < renewalDueAt(row).getTime() ? { action: "keep" } : { action: "renew", row };
  }

  /** Whether `ensure` would leave the folder's subscription as it is: most rounds, decided without taking a claim. */
  private async unchanged(
    mailboxId: string,
    folder: WatchedFolder,
    live: LiveSubscriptions | null,
  ): Promise<boolean> {
    return this.planFor(await this.row(mailboxId, folder), live, this.services.now()).action === "keep";
  }

  private async ensureNow(
    mailbox: GraphMailbox,
    folder: WatchedFolder,
    live: LiveSubscriptions | null,
  ): Promise<EnsureOutcome> {
    const now = this.services.now();
    const plan = this.planFor(await this.row(mailbox.id, folder), live, now);
    if (plan.action === "create") {
      await this.create(mailbox, folder, null);
      return "created";
    }
    if (plan.action === "recreate") {
      await this.recreateNow(mailbox, folder, plan.reason);
      return "recreated";
    }
    if (plan.action === "keep") return "kept";
    const { row } = plan;
    try {
      const renewed = await this.connection
        .api(mailbox.directory_id)
        .patch<SubscriptionResource>(`/subscriptions/${row.subscription_id}`, {
          expirationDateTime: this.expiry(now),
        });
      await this.services.db
        .updateTable("graph_subscriptions")
        .set({ expires_at: new Date(renewed.expirationDateTime), renewed_at: now })
        .where("id", "=", row.id)
        .execute();
      this.services.logger.info(
        { mailbox: mailbox.id, folder, expiresAt: renewed.expirationDateTime },
        "graph subscription renewed",
      );
      return "renewed";
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.recreateNow(mailbox, folder, "renewal found it gone");
      return "recreated";
    }
  }

  private async recreateNow(mailbox: GraphMailbox, folder: WatchedFolder, reason: string): Promise<void> {
    const row = await this.row(mailbox.id, folder);
    this.services.logger.warn({ mailbox: mailbox.id, folder, reason }, "graph subscription re-created");
    await this.create(mailbox, folder, row?.subscription_id ?? null);
  }

  private async reauthorizeNow(mailbox: GraphMailbox, folder: WatchedFolder): Promise<EnsureOutcome> {
    const row = await this.row(mailbox.id, folder);
    if (!row) {
      await this.create(mailbox, folder, null);
      return "created";
    }
    try {
      await this.connection
        .api(mailbox.directory_id)
        .post(`/subscriptions/${row.subscription_id}/reauthorize`, {});
      return "renewed";
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.recreateNow(mailbox, folder, "reauthorization found it gone");
      return "recreated";
    }
  }

  private async create(
    mailbox: GraphMailbox,
    folder: WatchedFolder,
    replacing: string | null,
  ): Promise<void> {
    const api = this.connection.api(mailbox.directory_id);
    if (replacing) {
      await api.delete(`/subscriptions/${replacing}`).catch((error: unknown) => {
        if (!isNotFound(error))
          this.services.logger.warn(
            { mailbox: mailbox.id, error: describeError(error) },
            "old graph subscription not deleted",
          );
      });
    }
    const now = this.services.now();
    const urls = this.urls();
    const clientState = randomBytes(32).toString("base64url");
    const created = await api.post<SubscriptionResource>("/subscriptions", {
      changeType: "created",
      notificationUrl: urls.notificationUrl,
      lifecycleNotificationUrl: urls.lifecycleUrl,
      resource: `users/${mailbox.graph_user_id}/mailFolders('${folder}')/messages`,
      expirationDateTime: this.expiry(now),
      clientState,
    });
    if (!created?.id) throw new Error("Graph created a subscription without an id");
    // Stamped once Graph has it: a sweep's listing taken before this time may not show it.
    const storedAt = this.services.now();
    const values = {
      subscription_id: created.id,
      client_state: clientState,
      notification_url: urls.notificationUrl,
      expires_at: new Date(created.expirationDateTime),
      created_at: storedAt,
      renewed_at: storedAt,
    };
    await this.services.db
      .insertInto("graph_subscriptions")
      .values({ tenant_id: mailbox.tenant_id, mailbox_id: mailbox.id, folder, ...values })
      .onConflict((oc) => oc.columns(["mailbox_id", "folder"]).doUpdateSet(values))
      .execute();
    if (folder === "inbox") {
      await this.services.db
        .updateTable("graph_mailboxes")
        .set({ subscription_id: created.id, subscription_expires_at: values.expires_at, client_state: null })
        .where("id", "=", mailbox.id)
        .execute();
    }
    this.services.logger.info(
      { mailbox: mailbox.id, folder, expiresAt: created.expirationDateTime },
      "graph subscription created",
    );
  }
}
