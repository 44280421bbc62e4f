import type { Services } from "../context";
import type { GraphConnection } from "./connection";
import { catchUpFolder } from "./delta";
import { describeError, isNotFound } from "./errors";
import { ensureQuarantineFolder, ensureWellKnownFolders } from "./folders";
import type { DirectorySync } from "./directory-sync";
import {
  listMailboxes,
  retiredWithSubscriptions,
  type GraphMailbox,
  type MailboxDirectory,
} from "./mailboxes";
import type { LifecycleHandler } from "./processor";
import {
  WATCHED_FOLDERS,
  type LiveSubscriptions,
  type SubscriptionManager,
  type WatchedFolder,
} from "./subscriptions";

/**
 * Keeps watched mailboxes connected: enrolment, folders (the hidden quarantine
 * folder is created when missing), one subscription per folder (created,
 * renewed at half-life, re-created when Graph lost it), and delta catch-ups at
 * start-up and after every gap. Also answers lifecycle events.
 */
export class MailboxSync implements LifecycleHandler {
  /** Folders caught up since this process started (the first sweep that reaches a folder runs a delta round). */
  private readonly caughtUp = new Set<string>();

  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
    private readonly subscriptions: SubscriptionManager,
    private readonly directory: MailboxDirectory,
    private readonly onQueued: () => void,
    /** Reads the directory's people into accounts and aliases first (MAILWARD_GRAPH_DIRECTORY_SYNC), or null. */
    private readonly people: DirectorySync | null = null,
  ) {}

  /** One sweep over every mailbox; a folder not yet caught up since start-up, or with a new subscription, gets a delta round. */
  async sweep(): Promise<number> {
    // People new in the directory get their account first, so this round enrols their mailbox too.
    await this.people?.run().catch((error: unknown) => {
      this.services.logger.warn({ error: describeError(error) }, "directory sync failed; next sweep retries");
    });
    await this.directory.enrol();
    for (const retired of await retiredWithSubscriptions(this.services)) {
      await this.unsubscribe(retired).catch((error: unknown) => {
        this.services.logger.warn(
          { mailbox: retired.id, error: describeError(error) },
          "retired graph mailbox's subscriptions not deleted; next sweep retries",
        );
      });
    }
    const mailboxes = await listMailboxes(this.services);
    const live = new Map<string, LiveSubscriptions | null>();
    let catchUps = 0;
    for (const mailbox of mailboxes) {
      try {
        if (!mailbox.monitored) {
          await this.unsubscribe(mailbox);
          continue;
        }
        if (!live.has(mailbox.directory_id))
          live.set(
            mailbox.directory_id,
            await this.subscriptions.liveIds(mailbox.directory_id).catch(() => null),
          );
        const api = this.connection.api(mailbox.directory_id);
        const ready = await ensureWellKnownFolders(this.services, api, mailbox);
        const firstVisit = !this.caughtUp.has(`${mailbox.id}:inbox`);
        await ensureQuarantineFolder(
          this.services,
          api,
          ready,
          this.connection.settings.quarantineFolderName,
          { verify: firstVisit },
        );
        for (const folder of WATCHED_FOLDERS) {
          const outcome = await this.subscriptions.ensure(
            ready,
            folder,
            live.get(mailbox.directory_id) ?? null,
          );
          if (
            !this.caughtUp.has(`${mailbox.id}:${folder}`) ||
            outcome === "created" ||
            outcome === "recreated"
          ) {
            await this.catchUp(ready, folder);
            catchUps += 1;
          }
        }
      } catch (error) {
        this.services.logger.warn(
          { mailbox: mailbox.id, error: describeError(error) },
          "graph mailbox sync failed; next sweep retries",
        );
      }
    }
    return catchUps;
  }

  /** Lifecycle events: reauthorize or re-create the subscription, then fill the gap with a delta round. */
  async handle(mailbox: GraphMailbox, folder: WatchedFolder, event: string): Promise<void> {
    this.services.logger.info({ mailbox: mailbox.id, folder, event }, "graph lifecycle event");
    if (event === "reauthorizationRequired") await this.subscriptions.reauthorize(mailbox, folder);
    else if (event === "subscriptionRemoved")
      await this.subscriptions.recreate(mailbox, folder, "removed by Graph");
    else await this.subscriptions.ensure(mailbox, folder, null);
    await this.catchUp(mailbox, folder);
  }

  private async catchUp(mailbox: GraphMailbox, folder: WatchedFolder): Promise<void> {
    const result = await catchUpFolder(this.services, this.connection, mailbox, folder);
    this.caughtUp.add(`${mailbox.id}:${folder}`);
    if (result.queued > 0) this.onQueued();
  }

  /** A tenant switched to gateway mode, or a mailbox was retired: it is no longer watched. */
  private async unsubscribe(mailbox: GraphMailbox): Promise<void> {
    const rows = await this.services.db
      .selectFrom("graph_subscriptions")
      .select(["id", "subscription_id"])
      .where("mailbox_id", "=", mailbox.id)
      .execute();
    for (const row of rows) {
      await this.connection
        .api(mailbox.directory_id)
        .delete(`/subscriptions/${row.subscription_id}`)
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      await this.services.db.deleteFrom("graph_subscriptions").where("id", "=", row.id).execute();
      this.services.logger.info(
        { mailbox: mailbox.id },
        "graph subscription removed (mailbox no longer watched)",
      );
    }
  }
}
