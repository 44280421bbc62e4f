import { messageTraceOf, type MessageTrace } from "./trace";
import { storedJsonObject } from "../../db/jsonb-safe";

/**
 * The SMTP transaction behind one queued or held copy, kept with it (migration 2600) when the archive already held
 * the copy's bytes from another transaction. The archive stores the same bytes once, with the first transaction's
 * trace and verdict; a later one (another recipient of a list's separate transactions, or the same bytes replayed
 * from another client) has its own client, envelope sender, authentication results and score, and its copy must be
 * relayed with those, not the first one's.
 */
export interface CopySession {
  /** Its Received and Authentication-Results facts (null: not from our SMTP gateway). */
  trace: MessageTrace | null;
  /** The envelope sender its checks were made for. */
  sender: string;
  score: number;
  /** This copy's recipient was let through by a permit. */
  permitted: boolean;
  spf: string;
}

/** The session as stored in `deliveries.session` and `held_items.session`. */
export function copySessionJson(session: CopySession): string {
  return JSON.stringify(session);
}

/** A stored session read back; null when the column is empty or malformed (the message's own facts then apply). */
export function copySessionOf(value: unknown): CopySession | null {
  const s = storedJsonObject(value);
  if (!s) return null;
  if (typeof s.sender !== "string" || typeof s.score !== "number" || typeof s.spf !== "string") return null;
  return {
    trace: messageTraceOf(s.trace),
    sender: s.sender,
    score: s.score,
    permitted: s.permitted === true,
    spf: s.spf,
  };
}
