import type { Kysely } from "kysely";
import type { Services } from "../../context";
import type { Database } from "../../db/schema";
import { parseMessage } from "../../archive/parse";
import { readRawMessage } from "../../archive/store";
import { messageTokens, type ClassLabel, type ContentClassifier } from "../scan/index";
import { lessonsHeld, settleLesson } from "./classifier-lessons";
import {
  commitClassifierChange,
  loadStoredClassifier,
  refreshStoredClassifier,
  type ClassifierDelta,
  type TokenCounts,
} from "./classifier-store";

const RECHECK_MS = 30_000;
/** Refreshes kept for scan workers to catch up from (a report's refresh is a few hundred rows). */
const MAX_LOGGED_CHANGES = 64;
/** Rows kept across them: past this, a worker that fell behind takes the whole model instead. */
const MAX_LOGGED_ROWS = 200_000;

interface Loaded {
  classifier: ContentClassifier;
  /** The stored revision this copy reflects (0: nothing stored yet). */
  revision: number;
  checkedAt: number;
}

/**
 * Each tenant's content classifier, loaded whole from the database on first use, then kept up to date with the
 * token rows other processes (or this one's feedback) changed since: checked at most every 30 s, so the per-message
 * cost is a map lookup, and a change costs a refresh the size of the change, not of the model.
 */
export class ClassifierRegistry {
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<Loaded>>();
  /** Per tenant, the last refreshes' deltas, oldest first, each starting where the one before ended. */
  private readonly changes = new Map<string, ClassifierDelta[]>();
  /** Tenants whose model this process is pruning: their copy is reloaded whole once, when the pruning ends. */
  private readonly pruning = new Set<string>();

  constructor(private readonly db: Kysely<Database>) {}

  /** The tenant's classifier, loading or refreshing it when due. */
  async get(tenantId: string, now = Date.now()): Promise<ContentClassifier> {
    const current = this.loaded.get(tenantId);
    if (current && now - current.checkedAt < RECHECK_MS) return current.classifier;
    return (await this.refresh(tenantId, now)).classifier;
  }

  /**
   * Loads every tenant's stored model, one after the other, so the first message after a start does not wait for it
   * (a large model takes seconds to read, on PGlite on the event loop). Tenants that never learnt anything are left;
   * a load that fails is left to the first message. Returns the tenants loaded.
   */
  async preloadAll(): Promise<number> {
    const rows = await this.db
      .selectFrom("classifier_states")
      .select("tenant_id")
      .where((eb) => eb(eb(eb("ham", "+", eb.ref("spam")), "+", eb.ref("phish")), ">", 0))
      .execute();
    let loaded = 0;
    for (const { tenant_id: tenantId } of rows) {
      if (this.loaded.has(tenantId)) continue;
      await this.refresh(tenantId, Date.now()).then(
        () => (loaded += 1),
        () => undefined,
      );
    }
    return loaded;
  }

  /** The copy already in memory, without touching the database (the scanner's synchronous hook). */
  peek(tenantId: string): ContentClassifier | undefined {
    return this.loaded.get(tenantId)?.classifier;
  }

  /** The version of the copy in memory ("none": nothing stored yet, "unloaded": not read yet); workers compare it. */
  versionOf(tenantId: string): string {
    const loaded = this.loaded.get(tenantId);
    return loaded ? (loaded.revision === 0 ? "none" : String(loaded.revision)) : "unloaded";
  }

  /**
   * What a copy at `version` (a `versionOf` value) needs to reach the copy in memory, from the recent refreshes: one
   * delta (later rows over earlier ones), or null when they do not reach back that far (the copy then needs the
   * whole model). Scan workers ask for this after each change, so a report costs them its rows, not the model.
   */
  changesSince(tenantId: string, version: string): ClassifierDelta | null {
    const loaded = this.loaded.get(tenantId);
    const from = version === "none" ? 0 : Number(version);
    if (!loaded || !Number.isInteger(from)) return null;
    if (from === loaded.revision)
      return { from, to: from, tokens: [], messages: loaded.classifier.messageCounts };
    const log = this.changes.get(tenantId) ?? [];
    const start = log.findIndex((delta) => delta.from === from);
    if (start < 0 || log[log.length - 1]?.to !== loaded.revision) return null;
    const tokens = new Map<string, TokenCounts>();
    for (const delta of log.slice(start)) for (const row of delta.tokens) tokens.set(row[0], row);
    return {
      from,
      to: loaded.revision,
      tokens: [...tokens.values()],
      messages: log[log.length - 1]!.messages,
    };
  }

  private remember(tenantId: string, delta: ClassifierDelta): void {
    const log = [...(this.changes.get(tenantId) ?? []), delta];
    let rows = log.reduce((sum, d) => sum + d.tokens.length, 0);
    while (log.length > MAX_LOGGED_CHANGES || (rows > MAX_LOGGED_ROWS && log.length > 1))
      rows -= log.shift()!.tokens.length;
    this.changes.set(tenantId, rows > MAX_LOGGED_ROWS ? [] : log);
  }

  /**
   * Reads the changes now, whenever the copy was last checked: after this process committed one. A refresh already
   * in flight may have read the head before that commit, so it is waited out, not joined. Nothing to do when this
   * process holds no copy (the CLI training a model it does not use): the first `get` loads it whole.
   */
  async refreshNow(tenantId: string): Promise<void> {
    await this.loading.get(tenantId)?.catch(() => undefined);
    if (this.loaded.has(tenantId)) await this.refresh(tenantId, Date.now());
  }

  /**
   * Runs this process's pruning of a tenant's model (pruneClassifier), then brings the copy up to it. Each of the
   * pruning's steps stamps a pruned revision, after which a copy can only be reloaded whole: a check falling between
   * two steps would read the whole model only to read it again at the end, so meanwhile the copy is kept as it is.
   */
  async whilePruning<T>(tenantId: string, prune: () => Promise<T>): Promise<T> {
    this.pruning.add(tenantId);
    try {
      return await prune();
    } finally {
      this.pruning.delete(tenantId);
      await this.refreshNow(tenantId);
    }
  }

  /** One refresh per tenant at a time: callers arriving meanwhile share it. */
  private refresh(tenantId: string, now: number): Promise<Loaded> {
    let pending = this.loading.get(tenantId);
    if (!pending) {
      pending = this.read(tenantId, now).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    return pending;
  }

  private async read(tenantId: string, now: number): Promise<Loaded> {
    const current = this.loaded.get(tenantId);
    if (current) {
      const delta = await refreshStoredClassifier(this.db, tenantId, current.classifier, current.revision);
      if (delta === "reload" && this.pruning.has(tenantId)) {
        const kept: Loaded = { ...current, checkedAt: now };
        this.loaded.set(tenantId, kept);
        return kept;
      }
      if (delta !== "reload") {
        if (delta) this.remember(tenantId, delta);
        const next: Loaded = { ...current, revision: delta ? delta.to : current.revision, checkedAt: now };
        this.loaded.set(tenantId, next);
        return next;
      }
      // Pruned since this copy's revision: a new copy, and scan workers take it whole (no log reaches back).
      this.changes.delete(tenantId);
    }
    const { classifier, head } = await loadStoredClassifier(this.db, tenantId);
    const loaded: Loaded = { classifier, revision: head.revision, checkedAt: now };
    this.loaded.set(tenantId, loaded);
    return loaded;
  }
}

const registries = new WeakMap<Services, ClassifierRegistry>();

/** The process-wide classifier registry of these services (shared by the pipeline and feedback). */
export function classifierRegistryFor(services: Services): ClassifierRegistry {
  let registry = registries.get(services);
  if (!registry) {
    registry = new ClassifierRegistry(services.db);
    registries.set(services, registry);
  }
  return registry;
}

/** What one piece of feedback changed. */
export interface FeedbackResult {
  learned: boolean;
  previousLabel: ClassLabel | null;
}

/**
 * Teaches a tenant's classifier from a person's judgement of an archived
 * message: a report (spam/phish) or a release (ham). Each message counts once,
 * labelled mail with the same bytes included: the same label again is a no-op,
 * a different label replaces the earlier one.
 * Reports and releases call this; it commits its own transaction.
 */
export async function learnFromFeedback(
  services: Services,
  tenantId: string,
  messageId: string,
  label: ClassLabel,
): Promise<FeedbackResult> {
  const message = await services.db
    .selectFrom("messages")
    .select("sha256")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", messageId)
    .executeTakeFirst();
  if (!message) throw new Error(`learnFromFeedback: no message ${messageId} in tenant ${tenantId}`);
  const raw = await readRawMessage(services.db, tenantId, message.sha256);
  const parsed = raw ? await parseMessage(raw) : null;
  if (!parsed) return { learned: false, previousLabel: null };
  const tokens = messageTokens(parsed);

  const outcome = await services.db.transaction().execute(async (trx) => {
    let previous: ClassLabel | null = null;
    const head = await commitClassifierChange(trx, tenantId, async (change) => {
      const held = (await lessonsHeld(trx, tenantId, [message.sha256])).get(message.sha256) ?? [];
      previous = held[0]?.label ?? null;
      if (settleLesson(change, tokens, held, label) === "unchanged") return false;
      // The person's judgement of this very message now holds the lesson, wherever it was before.
      if (held.some((lesson) => lesson.source === "corpus"))
        await trx
          .deleteFrom("classifier_corpus")
          .where("tenant_id", "=", tenantId)
          .where("sha256", "=", message.sha256)
          .execute();
      await trx
        .insertInto("classifier_training")
        .values({ tenant_id: tenantId, message_id: messageId, label })
        .onConflict((oc) =>
          oc.columns(["tenant_id", "message_id"]).doUpdateSet({ label, learned_at: services.now() }),
        )
        .execute();
      return true;
    });
    return head ? { previous } : null;
  });
  if (!outcome) return { learned: false, previousLabel: label };
  await classifierRegistryFor(services).refreshNow(tenantId);
  return { learned: true, previousLabel: outcome.previous };
}
