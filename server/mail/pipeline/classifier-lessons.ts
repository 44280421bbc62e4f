import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { ClassLabel } from "../scan/classifier/index";
import type { ClassifierChange } from "./classifier-store";

/**
 * One thing the classifier learnt a message's bytes as, from either source: an agent's report or release of the
 * archived message (`classifier_training`, by message id) or an administrator's labelled mail (`classifier_corpus`,
 * by SHA-256). The same bytes can reach both: a message reported from the archive and then trained in an exported
 * mbox, or trained first and then received and reported.
 */
export type Lesson =
  | { source: "feedback"; sha256: string; messageId: string; label: ClassLabel }
  | { source: "corpus"; sha256: string; label: ClassLabel };

/** What a new label did to a message's lessons. */
export type LessonOutcome = "learned" | "relabelled" | "unchanged";

/** The lessons each SHA-256 holds in the tenant, from both sources (absent: never learnt). */
export async function lessonsHeld(
  trx: Transaction<Database>,
  tenantId: string,
  sha256s: readonly string[],
): Promise<Map<string, Lesson[]>> {
  const held = new Map<string, Lesson[]>();
  if (sha256s.length === 0) return held;
  const add = (lesson: Lesson) => held.set(lesson.sha256, [...(held.get(lesson.sha256) ?? []), lesson]);
  const feedback = await trx
    .selectFrom("classifier_training as t")
    .innerJoin("messages as m", (join) =>
      join.onRef("m.id", "=", "t.message_id").onRef("m.tenant_id", "=", "t.tenant_id"),
    )
    .select(["m.sha256", "t.message_id", "t.label"])
    .where("t.tenant_id", "=", tenantId)
    .where("m.sha256", "in", [...sha256s])
    .execute();
  const corpus = await trx
    .selectFrom("classifier_corpus")
    .select(["sha256", "label"])
    .where("tenant_id", "=", tenantId)
    .where("sha256", "in", [...sha256s])
    .execute();
  for (const row of feedback)
    add({ source: "feedback", sha256: row.sha256, messageId: row.message_id, label: row.label });
  for (const row of corpus) add({ source: "corpus", sha256: row.sha256, label: row.label });
  return held;
}

/**
 * Teaches `change` a message under `label` so that it counts once across both sources: unchanged when its one lesson
 * already says so; otherwise every earlier lesson is unlearnt before the new one is learnt (two lessons of the same
 * message, left by versions that did not look across sources, become one). The caller then records the new lesson in
 * its own table and deletes the earlier ones.
 */
export function settleLesson(
  change: ClassifierChange,
  tokens: readonly string[],
  held: readonly Lesson[],
  label: ClassLabel,
): LessonOutcome {
  if (held.length === 1 && held[0]?.label === label) return "unchanged";
  for (const earlier of held) change.unlearn(tokens, earlier.label);
  change.learn(tokens, label);
  return held.length === 0 ? "learned" : "relabelled";
}
