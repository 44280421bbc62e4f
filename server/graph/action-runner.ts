import type { Services } from "../context";
import type { GraphConnection } from "./connection";
import { describeError } from "./errors";
import { byMailbox, claimDueJobs, jobRetryAt } from "./job-claim";
import { loadMailbox, type GraphMailbox } from "./mailboxes";
import { runMoves, type ActionOutcome, type ActionRow } from "./action-moves";
import { AwaitingSentItemsError, sendArchivedMessage } from "./archive-send";
import { sweepSender, sweptRuleOf } from "./sweep";

const CLAIM_LIMIT = 100;
const MAX_ATTEMPTS = 10;
const MOVES = new Set(["quarantine", "release", "move"]);

/**
 * Works through graph_actions, mailbox by mailbox: moves (batched), sender
 * sweeps, sends (archive-send.ts) and inbox rules. A row is claimed by one
 * worker at a time (SKIP LOCKED, with a lease); an action that fails is retried
 * with backoff and given up (state failed, logged) after 10 attempts.
 */
export class ActionRunner {
  constructor(
    private readonly services: Services,
    private readonly connection: GraphConnection,
  ) {}

  /** One round; returns how many actions it handled. */
  async runOnce(): Promise<number> {
    const rows = await claimDueJobs(this.services, "graph_actions", CLAIM_LIMIT);
    if (rows.length === 0) return 0;
    await Promise.all([...byMailbox(rows)].map(([mailboxId, list]) => this.runMailbox(mailboxId, list)));
    return rows.length;
  }

  private async runMailbox(mailboxId: string, rows: ActionRow[]): Promise<void> {
    const mailbox = await loadMailbox(this.services, mailboxId);
    if (!mailbox || mailbox.disabled_at) {
      for (const row of rows) await this.settle(row, { done: true, outcome: "mailbox_disabled" });
      return;
    }
    const api = this.connection.api(mailbox.directory_id);
    for (const row of rows.filter((r) => !MOVES.has(r.kind)))
      await this.settle(row, await this.runOne(mailbox, row));
    const moves = rows.filter((r) => MOVES.has(r.kind));
    if (moves.length === 0) return;
    let outcomes: Map<number, ActionOutcome>;
    try {
      outcomes = await runMoves(
        this.services,
        api,
        mailbox,
        moves,
        this.connection.settings.quarantineFolderName,
      );
    } catch (error) {
      outcomes = new Map(
        moves.map((m) => [
          m.id,
          { done: false, error: error instanceof Error ? error : new Error("moves failed") },
        ]),
      );
    }
    for (const row of moves)
      await this.settle(row, outcomes.get(row.id) ?? { done: false, error: new Error("no outcome") });
  }

  private async runOne(mailbox: GraphMailbox, row: ActionRow): Promise<ActionOutcome> {
    const api = this.connection.api(mailbox.directory_id);
    try {
      switch (row.kind) {
        case "sweep_sender": {
          const pattern = typeof row.details.pattern === "string" ? row.details.pattern : "";
          const hold = row.details.hold !== false;
          const rule = sweptRuleOf(row.details);
          const count = await sweepSender(this.services, this.connection, mailbox, pattern, hold, rule);
          return { done: true, outcome: `${hold ? "held" : "junked"} ${count}` };
        }
        case "send":
          return await sendArchivedMessage(this.services, api, mailbox, row);
        case "inbox_rule": {
          await this.createInboxRule(mailbox, row);
          return { done: true, outcome: "rule_created" };
        }
        default:
          return { done: true, outcome: "unsupported" };
      }
    } catch (error) {
      return { done: false, error: error instanceof Error ? error : new Error("action failed") };
    }
  }

  /** An Outlook rule that moves the blocked sender's new mail to Junk before anyone sees it (MailboxSettings.ReadWrite). */
  private async createInboxRule(mailbox: GraphMailbox, row: ActionRow): Promise<void> {
    const api = this.connection.api(mailbox.directory_id);
    const pattern = typeof row.details.pattern === "string" ? row.details.pattern : "";
    const junk = await api.get<{ id: string }>(`/users/${mailbox.graph_user_id}/mailFolders/junkemail`, {
      query: { $select: "id" },
    });
    const domain = pattern.replace(/^\*\./, "");
    const senderContains = pattern.startsWith("*.") ? [`@${domain}`, `.${domain}`] : [`@${domain}`];
    await api.post(`/users/${mailbox.graph_user_id}/mailFolders/inbox/messageRules`, {
      displayName: `Mailward: blocked ${pattern}`.slice(0, 255),
      sequence: 1,
      isEnabled: true,
      conditions: pattern.includes("@")
        ? { fromAddresses: [{ emailAddress: { address: pattern } }] }
        : { senderContains },
      actions: { moveToFolder: junk.id, stopProcessingRules: true },
    });
  }

  private async settle(row: ActionRow, outcome: ActionOutcome): Promise<void> {
    const now = this.services.now();
    this.connection.metrics.actions.inc({ kind: row.kind, outcome: outcome.done ? "done" : "retry" });
    if (outcome.done) {
      await this.services.db
        .updateTable("graph_actions")
        .set({ state: "done", outcome: outcome.outcome, done_at: now, locked_until: null, last_error: null })
        .where("id", "=", row.id)
        .execute();
      return;
    }
    // Waiting for Sent Items is no failed attempt: it does not count, and the next one comes when the wait is over.
    const waiting = outcome.error instanceof AwaitingSentItemsError ? outcome.error.until : null;
    const failed = waiting === null && row.attempts >= MAX_ATTEMPTS;
    await this.services.db
      .updateTable("graph_actions")
      .set({
        state: failed ? "failed" : "pending",
        next_attempt_at: waiting ?? jobRetryAt(now, row.attempts),
        ...(waiting ? { attempts: Math.max(0, row.attempts - 1) } : {}),
        locked_until: null,
        last_error: describeError(outcome.error),
      })
      .where("id", "=", row.id)
      .execute();
    const log = {
      action: row.id,
      kind: row.kind,
      mailbox: row.mailbox_id,
      error: describeError(outcome.error),
    };
    if (failed) this.services.logger.error(log, "graph action given up");
    else this.services.logger.warn(log, "graph action failed; will retry");
  }
}
