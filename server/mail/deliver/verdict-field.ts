import type { StoredVerdict } from "../../archive/stored-verdict";
import type { RelayVerdict } from "../../../shared/schemas/trace";

/**
 * The field that tells Microsoft 365 what the gateway decided for the copy it relays, so IT can act on it there with
 * a mail flow rule (README, "Gateway mode"): set SCL -1 for `permitted` and `released` (a person's decision is not
 * undone by Exchange's own spam filter moving the mail to Junk), and SCL 6 for `suspect` (Junk Email instead of the
 * inbox). Any field of this name in the incoming mail is removed before ours goes on (trace.ts), so a sender cannot
 * claim a verdict.
 */
export const VERDICT_FIELD = "X-Mailward-Verdict";

/** The facts of a claimed delivery that decide its verdict field. */
export interface RelayVerdictFacts {
  /** The message came from outside the organisation (its archived direction). */
  inbound: boolean;
  /** The delivery's purpose: only `inbound` (as it came in) and `release` (out of quarantine) carry a verdict. */
  purpose: string;
  /** The message's score, or null when it was not scored. */
  score: number | null;
  /** A permit rule (the organisation's or the recipient's) decided this recipient's copy. */
  permitted: boolean;
}

/** The facts of one delivery of an archived message: its direction, the delivery, and the message's stored verdict. */
export function relayFactsOf(
  stored: Pick<StoredVerdict, "score" | "decisions">,
  delivery: { direction: string; purpose: string; recipient: string },
): RelayVerdictFacts {
  const recipient = delivery.recipient.toLowerCase();
  return {
    inbound: delivery.direction === "inbound",
    purpose: delivery.purpose,
    score: stored.score,
    permitted: stored.decisions.some((d) => d.recipient === recipient && d.permitted),
  };
}

/**
 * The verdict of one relayed copy, or null for mail that is not inbound (submissions and their releases, forwards,
 * digests, bounces: Microsoft 365 has no spam decision to take on those, and outside recipients must not see one).
 * `suspectScore` is MAILWARD_SUSPECT_SCORE: at or above it, mail the gateway delivers is `suspect`.
 */
export function relayVerdictOf(facts: RelayVerdictFacts, suspectScore: number): RelayVerdict | null {
  if (!facts.inbound) return null;
  if (facts.purpose === "release") return "released";
  if (facts.purpose !== "inbound") return null;
  if (facts.permitted) return "permitted";
  return facts.score !== null && facts.score >= suspectScore ? "suspect" : "clean";
}

/** The field as relayed, e.g. `X-Mailward-Verdict: suspect; score=3.40` (CRLF-terminated). */
export function verdictField(verdict: RelayVerdict, score: number | null): string {
  return `${VERDICT_FIELD}: ${verdict}${score === null ? "" : `; score=${score.toFixed(2)}`}\r\n`;
}
