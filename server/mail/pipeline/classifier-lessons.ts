import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { ClassLabel } from "../scan/classifier/index";
import type { ClassifierChange } from "./classifier-store";

/**
 * What the classifier learnt a message's bytes as, from either source: an agent's report or release of the archived
 * message (`classifier_training`, by message id) and an administrator's labelled mail (`classifier_corpus`, by
 * SHA-256). The same bytes can reach both: a message reported from the archive and then trained in an exported
 * mbox, or trained first and then received and reported.
 */
export interface LessonsHeld {
  feedback: { messageId: string; label: ClassLabel } | null;
  corpus: ClassLabel | null;
}

/** What a new label did to a message's lessons. */
export type LessonOutcome = "learned" | "relabelled" | "unchanged";

/** The lessons each SHA-256 holds in the tenant, from both sources (absent: never learnt). */
export async function lessonsHeld(
  trx: Transaction<Database>,
  tenantId: string,
  sha256s: readonly string[],
): Promise<Map<string, LessonsHeld>> {
  const held = new Map<string, LessonsHeld>();
  if (sha256s.length === 0) return held;
  const entry = (sha256: string) => {
    let lessons = held.get(sha256);
    if (!lessons) held.set(sha256, (lessons = { feedback: null, corpus: null }));
    return lessons;
  };
  const [feedback, corpus] = [
    await trx
      .selectFrom("classifier_training as t")
      .innerJoin("messages as m", (join) =>
        join.onRef("m.id", "=", "t.message_id").onRef("m.tenant_id", "=", "t.tenant_id"),
      )
      .select(["m.sha256", "t.message_id", "t.label"])
      .where("t.tenant_id", "=", tenantId)
      .where("m.sha256", "in", [...sha256s])
      .execute(),
    await trx
      .selectFrom("classifier_corpus")
      .select(["sha256", "label"])
      .where("tenant_id", "=", tenantId)
      .where("sha256", "in", [...sha256s])
      .execute(),
  ];
  for (const row of feedback) entry(row.sha256).feedback = { messageId: row.message_id, label: row.label };
  for (const row of corpus) entry(row.sha256).corpus = row.label;
  return held;
}

/**
 * Teaches `change` a message under `label` so that it counts once across both sources: unchanged when its one lesson
 * already says so; otherwise every earlier lesson is unlearnt before the new one is learnt (two lessons of the same
 * bytes, left by versions that did not look across sources, become one). The caller then records the lesson in its
 * own table and deletes it from the other.
 */
export function settleLesson(
  change: ClassifierChange,
  tokens: readonly string[],
  held: LessonsHeld | undefined,
  label: ClassLabel,
): LessonOutcome {
  const earlier = [held?.feedback?.label, held?.corpus].filter((l): l is ClassLabel => l != null);
  if (earlier.length === 1 && earlier[0] === label) return "unchanged";
  for (const previous of earlier) change.unlearn(tokens, previous);
  change.learn(tokens, label);
  return earlier.length === 0 ? "learned" : "relabelled";
}
