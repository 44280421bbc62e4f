import { storedJsonObject } from "../db/jsonb-safe";

/** One recipient's decision as the stored verdict record holds it. */
export interface StoredDecision {
  /** Lower case. */
  recipient: string;
  /** deliver, hold or reject; "unknown" when the record does not say. */
  action: string;
  reason: string | null;
  explanation: string | null;
  /** A permit rule (the organisation's or the recipient's) decided it. */
  permitted: boolean;
}

/** The results of the sender checks as stored (each null when the record does not have it). */
export interface StoredAuth {
  spf: string | null;
  dkim: string | null;
  dmarc: string | null;
  arc: string | null;
}

/** The parts of a stored verdict record (`messages.assessment`) that the API, the trace and the bounce rules read. */
export interface StoredVerdict {
  decisions: StoredDecision[];
  auth: StoredAuth;
  score: number | null;
  scannedAt: string | null;
  summary: string | null;
  /** As stored; the presenters check each signal. */
  signals: unknown;
}

function objectOf(value: unknown): Record<string, unknown> | null {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function stringOf(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/**
 * Reads a stored verdict record field by field: the JSON a database driver returns (an object, or text), from any
 * version of Mailward (older records lack fields; a corrupt one reads as empty). Never throws, so one odd record
 * cannot fail a page of the trace or a bounce decision.
 */
export function readStoredVerdict(value: unknown): StoredVerdict {
  const record = storedJsonObject(value) ?? {};
  const auth = objectOf(record.auth) ?? {};
  const decisions = Array.isArray(record.decisions) ? record.decisions : [];
  return {
    decisions: decisions.flatMap((d: unknown) => {
      const decision = objectOf(d);
      const recipient = stringOf(decision?.recipient);
      if (!decision || recipient === null) return [];
      return [
        {
          recipient: recipient.toLowerCase(),
          action: stringOf(decision.action) ?? "unknown",
          reason: stringOf(decision.reason),
          explanation: stringOf(decision.explanation),
          permitted: objectOf(decision.rule)?.kind === "permit",
        },
      ];
    }),
    auth: {
      spf: stringOf(auth.spf),
      dkim: stringOf(auth.dkim),
      dmarc: stringOf(auth.dmarc),
      arc: stringOf(auth.arc),
    },
    score: typeof record.score === "number" && Number.isFinite(record.score) ? record.score : null,
    scannedAt: stringOf(record.scannedAt),
    summary: stringOf(record.summary),
    signals: record.signals,
  };
}
