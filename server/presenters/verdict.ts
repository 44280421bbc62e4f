import type { Actor } from "../context";
import type { VerdictLookup } from "../commands/archive/lookup-verdict";
import { HELD_REASONS } from "../../shared/schemas/held";
import type { MessageVerdict } from "../../shared/schemas/archive";
import { presentSignals } from "./held";

type Reason = (typeof HELD_REASONS)[number];

function text(value: unknown, fallback: string): string {
  return typeof value === "string" && value.length > 0 ? value.slice(0, 40) : fallback;
}

/** The JSON for GET /api/archive/lookup: this recipient's verdict with the signals in plain words. */
export function presentVerdict(found: VerdictLookup, actor: Actor): MessageVerdict {
  const assessment = found.assessment ?? {};
  const decisions = Array.isArray(assessment.decisions)
    ? (assessment.decisions as Array<Record<string, unknown>>)
    : [];
  const mine =
    decisions.find(
      (d) => typeof d.recipient === "string" && d.recipient.toLowerCase() === actor.email.toLowerCase(),
    ) ?? decisions[0];
  const action = mine?.action === "hold" || mine?.action === "reject" ? mine.action : "deliver";
  const reason =
    typeof mine?.reason === "string" && (HELD_REASONS as readonly string[]).includes(mine.reason)
      ? (mine.reason as Reason)
      : null;
  const auth = (assessment.auth ?? {}) as Record<string, unknown>;
  return {
    archiveId: found.archiveId,
    messageId: found.messageId.slice(0, 998),
    scannedAt:
      typeof assessment.scannedAt === "string" ? assessment.scannedAt : found.receivedAt.toISOString(),
    verdict: action,
    score: typeof assessment.score === "number" ? assessment.score : 0,
    reason,
    signals: presentSignals(assessment.signals),
    auth: {
      spf: text(auth.spf, "none"),
      dkim: text(auth.dkim, "none"),
      dmarc: text(auth.dmarc, "none"),
      arc: text(auth.arc, "none"),
    },
    heldId: found.heldId,
  };
}
