import { z } from "zod";

const perClass = z.object({ ham: z.number().int(), spam: z.number().int(), phish: z.number().int() });

/**
 * GET /api/admin/classifier: what the organisation's content classifier has learnt, so IT can see whether content
 * counts in verdicts yet (it has no opinion until it knows enough wanted and unwanted mail) and what taught it.
 */
export const classifierStatus = z.object({
  /** Messages learnt per class. */
  messages: perClass,
  /** Distinct tokens it knows. */
  tokens: z.number().int(),
  /** The most tokens it keeps (MAILWARD_CLASSIFIER_MAX_TOKENS): past it, the least telling are pruned. */
  tokenLimit: z.number().int(),
  /** Whether it gives verdicts an opinion: enough ham and enough spam or phish learnt. */
  active: z.boolean(),
  /** How many messages of each side it needs before it is active. */
  minimumPerSide: z.number().int(),
  /** Whether it can tell phish from spam (enough of each learnt). */
  separatesPhish: z.boolean(),
  /** What taught it: agents' reports and releases, and labelled mail an administrator trained it on (`train`). */
  learntFrom: z.object({ feedback: perClass, labelledMail: perClass }),
  /** When it last changed; null when it never learnt anything. */
  updatedAt: z.iso.datetime({ offset: true }).nullable(),
});
