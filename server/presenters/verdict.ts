import type { Actor } from "../context";
import type { VerdictLookup } from "../commands/archive/lookup-verdict";
import { HELD_REASONS } from "../../shared/schemas/held";
import type { MessageVerdict } from "../../shared/schemas/archive";
import { presentSignals } from "./held";
import { readStoredVerdict } from "../archive/stored-verdict";

type Reason = (typeof HELD_REASONS)[number];

function text(value: string | null, fallback: string): string {
  return value ? value.slice(0, 40) : fallback;
}

/** The JSON for GET /api/archive/lookup: this recipient's verdict with the signals in plain words. */
export function presentVerdict(found: VerdictLookup, actor: Actor): MessageVerdict {
  const stored = readStoredVerdict(found.assessment);
  const mine =
    stored.decisions.find((d) => d.recipient === actor.email.toLowerCase()) ??
    stored.decisions.find((d) => d.recipient === found.viaGroup) ??
    stored.decisions[0];
  const action = mine?.action === "hold" || mine?.action === "reject" ? mine.action : "deliver";
  const reason =
    mine?.reason && (HELD_REASONS as readonly string[]).includes(mine.reason)
      ? (mine.reason as Reason)
      : null;
  return {
    archiveId: found.archiveId,
    messageId: found.messageId.slice(0, 998),
    scannedAt: stored.scannedAt ?? found.receivedAt.toISOString(),
    verdict: action,
    score: stored.score ?? 0,
    reason,
    signals: presentSignals(stored.signals),
    auth: {
      spf: text(stored.auth.spf, "none"),
      dkim: text(stored.auth.dkim, "none"),
      dmarc: text(stored.auth.dmarc, "none"),
      arc: text(stored.auth.arc, "none"),
    },
    heldId: found.heldId,
  };
}
