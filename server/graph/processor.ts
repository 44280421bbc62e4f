import type { Selectable } from "kysely";
import type { Services } from "../context";
import type { GraphNotificationsTable } from "../db/schema";
import type { GraphConnection } from "./connection";
import { describeError } from "./errors";
import { byMailbox, claimDueJobs, jobRetryAt } from "./job-claim";
import type { GraphIntake } from "./intake";
import { loadMailbox, watchesMailboxes, type GraphMailbox } from "./mailboxes";
import { claimLedger, fetchMessages, type FetchedMessage } from "./messages";
import type { WatchedFolder } from "./subscriptions";

/** A claimed notification row. */
export type NotificationRow = Selectable<GraphNotificationsTable>;

/** What the processor asks of the subscription side when Graph reports a gap or a problem. */
export interface LifecycleHandler {
  handle(mailbox: GraphMailbox, folder: WatchedFolder, event: string): Promise<void>;
}

const CLAIM_LIMIT = 200;
const MAX_ATTEMPTS = 12;
const CHUNK = 20;

/**
 * Works through graph_notifications: change and delta rows name messages to
 * scan and file (each at most once: the graph_messages ledger is claimed per
 * immutable id, and a second copy with the same internetMessageId is skipped),
 * lifecycle rows go to the subscription side. Metadata comes in $batch calls,
 * the MIME ($value) one message at a time. Failures are retried with backoff.
 * Rows of a mailbox no longer watched (retired, unwatched, or its organisation back
 * in gateway mode, even before the sweep has noticed) are settled untouched.
 */
export class NotificationProcessor {
  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
    private readonly intake: GraphIntake,
    private readonly lifecycle: LifecycleHandler,
  ) {}

  /** One round: claims due rows and processes them per mailbox. Returns how many rows it handled. */
  async runOnce(): Promise<number> {
    const rows = await claimDueJobs(this.services, "graph_notifications", CLAIM_LIMIT);
    if (rows.length === 0) return 0;
    await Promise.all([...byMailbox(rows)].map(([mailboxId, list]) => this.processMailbox(mailboxId, list)));
    return rows.length;
  }

  private async settle(rows: NotificationRow[], outcome: "done" | Error): Promise<void> {
    if (rows.length === 0) return;
    const now = this.services.now();
    if (outcome === "done") {
      await this.services.db
        .updateTable("graph_notifications")
        .set({ state: "done", processed_at: now, locked_until: null, last_error: null })
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      return;
    }
    for (const row of rows) {
      const failed = row.attempts >= MAX_ATTEMPTS;
      await this.services.db
        .updateTable("graph_notifications")
        .set({
          state: failed ? "failed" : "pending",
          next_attempt_at: jobRetryAt(now, row.attempts),
          locked_until: null,
          last_error: describeError(outcome),
        })
        .where("id", "=", row.id)
        .execute();
      if (failed)
        this.services.logger.error(
          { notification: row.id, mailbox: row.mailbox_id, error: describeError(outcome) },
          "graph notification given up",
        );
    }
  }

  private async processMailbox(mailboxId: string, rows: NotificationRow[]): Promise<void> {
    const mailbox = await loadMailbox(this.services, mailboxId);
    const tenant = mailbox
      ? await this.services.db
          .selectFrom("tenants")
          .select("mode")
          .where("id", "=", mailbox.tenant_id)
          .executeTakeFirst()
      : undefined;
    const mode = tenant?.mode ?? "gateway";
    if (!mailbox || mailbox.disabled_at || !mailbox.monitored || !watchesMailboxes(mode))
      return this.settle(rows, "done");
    for (const row of rows.filter((r) => r.kind === "lifecycle")) {
      try {
        await this.lifecycle.handle(mailbox, row.folder, row.event);
        await this.settle([row], "done");
      } catch (error) {
        await this.settle([row], error instanceof Error ? error : new Error("lifecycle failed"));
      }
    }
    const created = rows.filter((r) => r.kind !== "lifecycle" && r.event === "created" && r.resource_id);
    await this.settle(
      rows.filter((r) => r.kind !== "lifecycle" && !created.includes(r)),
      "done",
    );
    for (const folder of ["inbox", "sentitems"] as const) {
      const forFolder = created.filter((r) => r.folder === folder);
      const ids = [...new Set(forFolder.map((r) => r.resource_id as string))];
      for (let start = 0; start < ids.length; start += CHUNK) {
        const chunk = ids.slice(start, start + CHUNK);
        const outcomes = await this.processChunk(mailbox, mode, folder, chunk);
        for (const id of chunk) {
          const outcome = outcomes.get(id) ?? "done";
          await this.settle(
            forFolder.filter((r) => r.resource_id === id),
            outcome,
          );
        }
      }
    }
  }

  private async processChunk(
    mailbox: GraphMailbox,
    mode: string,
    folder: WatchedFolder,
    ids: string[],
  ): Promise<Map<string, "done" | Error>> {
    const outcomes = new Map<string, "done" | Error>();
    const claims = await claimLedger(this.services, mailbox, folder, ids);
    for (const [id, claim] of claims)
      if (claim.kind === "busy") outcomes.set(id, new Error("another worker is processing this message"));
    const mine = [...claims].flatMap(([id, claim]) =>
      claim.kind === "claimed" ? [{ graphMessageId: id, ledgerId: claim.ledgerId }] : [],
    );
    if (mine.length === 0) return outcomes;
    let fetched: Map<string, FetchedMessage>;
    try {
      fetched = await fetchMessages(this.services, this.connection, mailbox, folder, mine);
    } catch (error) {
      await this.services.db
        .deleteFrom("graph_messages")
        .where(
          "id",
          "in",
          mine.map((m) => m.ledgerId),
        )
        .where("state", "=", "claimed")
        .execute();
      for (const m of mine)
        outcomes.set(m.graphMessageId, error instanceof Error ? error : new Error("fetch failed"));
      return outcomes;
    }
    for (const m of mine) {
      const message = fetched.get(m.graphMessageId);
      if (!message) continue; // gone, duplicate or ours: settled by fetchMessages
      const started = Date.now();
      try {
        const result = await this.intake.intake(
          mailbox,
          folder,
          { id: m.ledgerId, graphMessageId: m.graphMessageId, conversationId: message.conversationId },
          message.raw,
          mode,
        );
        this.connection.metrics.messages.inc({ verdict: result.verdict });
        this.services.logger.debug(
          { mailbox: mailbox.id, folder, verdict: result.verdict, ms: Date.now() - started },
          "graph message processed",
        );
      } catch (error) {
        await this.services.db
          .deleteFrom("graph_messages")
          .where("id", "=", m.ledgerId)
          .where("state", "=", "claimed")
          .execute();
        outcomes.set(m.graphMessageId, error instanceof Error ? error : new Error("intake failed"));
        this.services.logger.warn(
          { mailbox: mailbox.id, error: describeError(error) },
          "graph message not processed; will retry",
        );
      }
    }
    return outcomes;
  }
}
