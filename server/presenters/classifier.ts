import type { z } from "zod";
import type { classifierStatus } from "../../shared/schemas/classifier";
import type { ClassifierStatus } from "../commands/admin/classifier-status";

/**
 * The classifier's status as GET /api/admin/classifier answers it. Active and phish-aware follow the model's own
 * rule (model.ts `indicator`): each side of a comparison needs `minimumPerSide` messages.
 */
export function presentClassifierStatus(
  status: ClassifierStatus,
  tokenLimit: number,
): z.infer<typeof classifierStatus> {
  const { ham, spam, phish } = status.messages;
  const enough = (n: number) => n >= status.minimumPerSide;
  return {
    messages: status.messages,
    tokens: status.tokens,
    tokenLimit,
    active: enough(ham) && enough(spam + phish),
    minimumPerSide: status.minimumPerSide,
    separatesPhish: enough(spam) && enough(phish),
    learntFrom: status.learntFrom,
    updatedAt: ham + spam + phish > 0 ? (status.updatedAt?.toISOString() ?? null) : null,
  };
}
