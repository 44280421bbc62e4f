import { sql, type Kysely, type Transaction } from "kysely";
import type { Services } from "../../context";
import type { Database } from "../../db/schema";
import { parseMessage } from "../../archive/parse";
import { readRawMessage } from "../../archive/store";
import { ContentClassifier, messageTokens, type ClassLabel } from "../scan/index";

const RECHECK_MS = 30_000;

interface Loaded {
  classifier: ContentClassifier;
  /** updated_at of the stored state this copy reflects (null: nothing stored yet). */
  version: string | null;
  checkedAt: number;
}

/**
 * Each tenant's content classifier, loaded from `classifier_states` on first
 * use and re-read when another process (or feedback) changed it; checked at most
 * every 30 s so the per-message cost is a map lookup.
 */
export class ClassifierRegistry {
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<Loaded>>();

  constructor(private readonly db: Kysely<Database>) {}

  /** The tenant's classifier, loading or refreshing it when due. */
  async get(tenantId: string, now = Date.now()): Promise<ContentClassifier> {
    const current = this.loaded.get(tenantId);
    if (current && now - current.checkedAt < RECHECK_MS) return current.classifier;
    let pending = this.loading.get(tenantId);
    if (!pending) {
      pending = this.refresh(tenantId, current, now).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    return (await pending).classifier;
  }

  /** The copy already in memory, without touching the database (the scanner's synchronous hook). */
  peek(tenantId: string): ContentClassifier | undefined {
    return this.loaded.get(tenantId)?.classifier;
  }

  /** The version of the copy in memory ("none": nothing stored yet, "unloaded": not read yet); workers compare it. */
  versionOf(tenantId: string): string {
    const loaded = this.loaded.get(tenantId);
    return loaded ? (loaded.version ?? "none") : "unloaded";
  }

  /** Replaces the in-memory copy after this process stored a new state. */
  replace(tenantId: string, classifier: ContentClassifier, version: string): void {
    this.loaded.set(tenantId, { classifier, version, checkedAt: Date.now() });
  }

  private async refresh(tenantId: string, current: Loaded | undefined, now: number): Promise<Loaded> {
    const stamp = await this.db
      .selectFrom("classifier_states")
      .select(sql<string>`updated_at::text`.as("version"))
      .where("tenant_id", "=", tenantId)
      .executeTakeFirst();
    const version = stamp?.version ?? null;
    if (current && current.version === version) {
      current.checkedAt = now;
      return current;
    }
    let classifier = new ContentClassifier();
    if (version !== null) {
      const row = await this.db
        .selectFrom("classifier_states")
        .select("state")
        .where("tenant_id", "=", tenantId)
        .executeTakeFirst();
      try {
        classifier = ContentClassifier.fromJSON(row?.state);
      } catch {
        // A corrupt state must not stop mail: start from an untrained model (no content opinion).
        classifier = new ContentClassifier();
      }
    }
    const loaded: Loaded = { classifier, version, checkedAt: now };
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

/** A stored classifier after a change: the model and the version (`updated_at`) it was stored under. */
export interface StoredClassifier {
  classifier: ContentClassifier;
  version: string;
}

/**
 * Changes a tenant's stored classifier inside the caller's transaction: locks its row (created empty if missing) so
 * concurrent changes serialise, lets `change` learn into the model (and write what it learnt from), and stores the
 * model when `change` says it changed it. Null when nothing changed. Feedback and labelled-mail training both go
 * through here; the caller puts the new copy into the registry after its commit.
 */
export async function changeStoredClassifier(
  trx: Transaction<Database>,
  tenantId: string,
  change: (classifier: ContentClassifier) => Promise<boolean>,
): Promise<StoredClassifier | null> {
  await trx
    .insertInto("classifier_states")
    .values({ tenant_id: tenantId, state: JSON.stringify(new ContentClassifier().toJSON()) })
    .onConflict((oc) => oc.column("tenant_id").doNothing())
    .execute();
  const row = await trx
    .selectFrom("classifier_states")
    .select("state")
    .where("tenant_id", "=", tenantId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  let classifier: ContentClassifier;
  try {
    classifier = ContentClassifier.fromJSON(row.state);
  } catch {
    classifier = new ContentClassifier();
  }
  if (!(await change(classifier))) return null;
  const stored = await trx
    .updateTable("classifier_states")
    .set({ state: JSON.stringify(classifier.toJSON()), updated_at: sql<Date>`clock_timestamp()` })
    .where("tenant_id", "=", tenantId)
    .returning(sql<string>`updated_at::text`.as("version"))
    .executeTakeFirstOrThrow();
  return { classifier, version: stored.version };
}

/** What one piece of feedback changed. */
export interface FeedbackResult {
  learned: boolean;
  previousLabel: ClassLabel | null;
}

/**
 * Teaches a tenant's classifier from a person's judgement of an archived
 * message: a report (spam/phish) or a release (ham). Each message counts once:
 * the same label again is a no-op, a different label replaces the earlier one.
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
    const stored = await changeStoredClassifier(trx, tenantId, async (classifier) => {
      const row = await trx
        .selectFrom("classifier_training")
        .select("label")
        .where("tenant_id", "=", tenantId)
        .where("message_id", "=", messageId)
        .executeTakeFirst();
      if (row?.label === label) return false;
      previous = row?.label ?? null;
      if (previous) classifier.unlearn(tokens, previous);
      classifier.learn(tokens, label);
      await trx
        .insertInto("classifier_training")
        .values({ tenant_id: tenantId, message_id: messageId, label })
        .onConflict((oc) =>
          oc.columns(["tenant_id", "message_id"]).doUpdateSet({ label, learned_at: services.now() }),
        )
        .execute();
      return true;
    });
    return stored ? { ...stored, previous } : null;
  });
  if (!outcome) return { learned: false, previousLabel: label };
  classifierRegistryFor(services).replace(tenantId, outcome.classifier, outcome.version);
  return { learned: true, previousLabel: outcome.previous };
}
