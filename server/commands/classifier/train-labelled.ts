import path from "node:path";
import type { Transaction } from "kysely";
import { auditActor, type Actor, type Services } from "../../context";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { messagesIn } from "../../archive/mail-source";
import { parseMessage } from "../../archive/parse";
import { sha256Of } from "../../archive/store";
import { classifierRegistryFor } from "../../mail/pipeline/classifiers";
import { commitClassifierChange, type ClassifierChange } from "../../mail/pipeline/classifier-store";
import { lessonsHeld, settleLesson, type Lesson } from "../../mail/pipeline/classifier-lessons";
import { messageTokens, type ClassLabel } from "../../mail/scan/index";

/** Counts of a training run: new mail learnt, mail moved from another label, mail already learnt so, unreadable mail. */
export interface TrainResult {
  learned: number;
  relabelled: number;
  unchanged: number;
  failed: number;
}

/** Messages learnt per transaction: bounds the tokens held in memory and how long feedback waits for the lock. */
const CHUNK_MESSAGES = 500;

interface LabelledMessage {
  sha256: string;
  /** The SHA-256 under which a reader before 2026-11-30 took it from an mbox (SourcedMessage.earlierForm), if any. */
  earlierSha256: string | null;
  tokens: string[];
}

/** What one chunk did: messages learnt new, moved from another label, and already learnt so. */
type ChunkCounts = Omit<TrainResult, "failed">;

/** Learns one chunk under `label` and records each message's label. */
async function learnChunk(
  trx: Transaction<Database>,
  change: ClassifierChange,
  tenantId: string,
  chunk: ReadonlyMap<string, LabelledMessage>,
  label: ClassLabel,
  now: Date,
): Promise<ChunkCounts> {
  const messages = [...chunk.values()];
  const held = await lessonsHeld(
    trx,
    tenantId,
    messages.flatMap((m) => (m.earlierSha256 ? [m.sha256, m.earlierSha256] : [m.sha256])),
  );
  const lessonsOf = (m: LabelledMessage) => [
    ...(held.get(m.sha256) ?? []),
    ...(m.earlierSha256 ? (held.get(m.earlierSha256) ?? []) : []),
  ];
  const counts: ChunkCounts = { learned: 0, relabelled: 0, unchanged: 0 };
  const replaced: Lesson[] = [];
  const changed: LabelledMessage[] = [];
  for (const message of messages) {
    const lessons = lessonsOf(message);
    const outcome = settleLesson(change, message.tokens, lessons, label);
    counts[outcome] += 1;
    if (outcome === "unchanged") continue;
    changed.push(message);
    replaced.push(...lessons);
  }
  if (changed.length === 0) return counts;
  // The labelled mail now holds these lessons, including those an agent's report or release, or an earlier key, held.
  const feedbackIds = replaced.flatMap((l) => (l.source === "feedback" ? [l.messageId] : []));
  if (feedbackIds.length > 0)
    await trx
      .deleteFrom("classifier_training")
      .where("tenant_id", "=", tenantId)
      .where("message_id", "in", feedbackIds)
      .execute();
  const earlierKeys = replaced.flatMap((l) =>
    l.source === "corpus" && !chunk.has(l.sha256) ? [l.sha256] : [],
  );
  if (earlierKeys.length > 0)
    await trx
      .deleteFrom("classifier_corpus")
      .where("tenant_id", "=", tenantId)
      .where("sha256", "in", earlierKeys)
      .execute();
  await trx
    .insertInto("classifier_corpus")
    .values(changed.map((m) => ({ tenant_id: tenantId, sha256: m.sha256, label, learned_at: now })))
    .onConflict((oc) => oc.columns(["tenant_id", "sha256"]).doUpdateSet({ label, learned_at: now }))
    .execute();
  return counts;
}

/**
 * Trains the tenant's content classifier on labelled mail: an mbox or a folder of .eml that an administrator knows to
 * be all ham, all spam or all phish (a spam trap's catch, an old junk folder, a set of known-good mail). A new tenant's
 * classifier otherwise has no opinion until agents have reported and released enough mail. Each message counts once
 * by its SHA-256, an agent's report or release of the same bytes included: training it again changes nothing,
 * training it under another label moves it. Nothing is archived.
 * Each chunk commits the model, the labels and its audit event together.
 */
export async function trainFromLabelledMail(
  services: Services,
  actor: Actor,
  source: string,
  label: ClassLabel,
): Promise<TrainResult> {
  const result: TrainResult = { learned: 0, relabelled: 0, unchanged: 0, failed: 0 };
  const flush = async (chunk: Map<string, LabelledMessage>) => {
    if (chunk.size === 0) return;
    let counts: ChunkCounts = { learned: 0, relabelled: 0, unchanged: 0 };
    const stored = await services.db.transaction().execute(async (trx) => {
      const saved = await commitClassifierChange(trx, actor.tenantId, async (change) => {
        counts = await learnChunk(trx, change, actor.tenantId, chunk, label, services.now());
        return counts.learned + counts.relabelled > 0;
      });
      if (saved)
        await appendAudit(trx, {
          tenantId: actor.tenantId,
          ...auditActor(actor),
          action: "classifier.trained",
          targetType: "tenant",
          targetId: actor.tenantId,
          details: {
            source: path.basename(source),
            label,
            learned: counts.learned,
            relabelled: counts.relabelled,
          },
          at: services.now(),
        });
      return saved;
    });
    result.learned += counts.learned;
    result.relabelled += counts.relabelled;
    result.unchanged += counts.unchanged;
    if (stored) await classifierRegistryFor(services).refreshNow(actor.tenantId);
    chunk.clear();
  };
  const chunk = new Map<string, LabelledMessage>();
  // The gateway's size limit, as for `import`: a larger file or mbox message is counted as failed, never read whole.
  for await (const message of messagesIn(source, services.config.MAILWARD_SMTP_MAX_SIZE)) {
    if (message.raw === null) {
      result.failed += 1;
      continue;
    }
    const { raw, earlierForm } = message;
    const parsed = await parseMessage(raw);
    if (!parsed) {
      result.failed += 1;
      continue;
    }
    const sha256 = sha256Of(raw);
    // The same bytes twice in one source are one message.
    if (chunk.has(sha256)) result.unchanged += 1;
    else
      chunk.set(sha256, {
        sha256,
        earlierSha256: earlierForm ? sha256Of(earlierForm) : null,
        tokens: messageTokens(parsed),
      });
    if (chunk.size >= CHUNK_MESSAGES) await flush(chunk);
  }
  await flush(chunk);
  return result;
}
