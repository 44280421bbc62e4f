import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";
import { CLASS_LABELS, DEFAULT_CLASSIFIER_OPTIONS, type ClassLabel } from "../../mail/scan/classifier/index";

/** Counts per class. */
export type PerClass = Record<ClassLabel, number>;

/** What the tenant's classifier has learnt, read from the stored model (not a process's copy). */
export interface ClassifierStatus {
  messages: PerClass;
  tokens: number;
  minimumPerSide: number;
  learntFrom: { feedback: PerClass; labelledMail: PerClass };
  updatedAt: Date | null;
}

async function labelCounts(
  db: Kysely<Database>,
  table: "classifier_training" | "classifier_corpus",
  tenantId: string,
): Promise<PerClass> {
  const rows = await db
    .selectFrom(table)
    .select(["label", (eb) => eb.fn.countAll<number>().as("n")])
    .where("tenant_id", "=", tenantId)
    .groupBy("label")
    .execute();
  const counts: PerClass = { ham: 0, spam: 0, phish: 0 };
  for (const row of rows) if (CLASS_LABELS.includes(row.label)) counts[row.label] = Number(row.n);
  return counts;
}

/**
 * Reads the tenant's stored classifier: messages per class, distinct tokens, and how many messages reports and
 * releases taught it against labelled mail, so IT can see whether content counts in verdicts yet.
 */
export async function classifierStatus(db: Kysely<Database>, tenantId: string): Promise<ClassifierStatus> {
  const [head, tokens, feedback, labelledMail] = await Promise.all([
    db
      .selectFrom("classifier_states")
      .select(["ham", "spam", "phish", "updated_at"])
      .where("tenant_id", "=", tenantId)
      .executeTakeFirst(),
    db
      .selectFrom("classifier_tokens")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("tenant_id", "=", tenantId)
      .where(sql<boolean>`ham + spam + phish > 0`)
      .executeTakeFirstOrThrow(),
    labelCounts(db, "classifier_training", tenantId),
    labelCounts(db, "classifier_corpus", tenantId),
  ]);
  return {
    messages: head ? { ham: head.ham, spam: head.spam, phish: head.phish } : { ham: 0, spam: 0, phish: 0 },
    tokens: Number(tokens.n),
    minimumPerSide: DEFAULT_CLASSIFIER_OPTIONS.minMessagesPerClass,
    learntFrom: { feedback, labelledMail },
    updatedAt: head ? head.updated_at : null,
  };
}
