import type { ParsedMail } from "mailparser";

/** Why a message was held; stored on the held item and shown to people (DESIGN §5). */
export type HoldReason =
  "blocked_sender" | "spam" | "phish" | "impersonation" | "auth_fail" | "dangerous_attachment" | "policy";

/** One piece of evidence behind a verdict, written so that a person can read why a message was held. */
export interface Signal {
  id: string;
  /** Plain words for a person. */
  label: string;
  weight: number;
  detail?: string;
}

/** What the gateway (or Graph path) hands to a scanner: the exact raw bytes plus the parsed view. */
export interface ScanInput {
  raw: Buffer;
  parsed: ParsedMail;
  envelope: {
    mailFrom: string;
    rcptTo: string[];
    clientIp: string;
    helo: string;
    /** The sender signed in with SMTP AUTH (one of our users): their own IP's reputation is not asked about. */
    authenticated?: boolean;
  };
  tenant: TenantContext;
}

/** The tenant facts a scanner needs: its own domains and people (for impersonation and lookalikes). */
export interface TenantContext {
  domains: string[];
  people: { displayName: string; email: string }[];
}

/** Authentication results in the vocabulary of Authentication-Results (pass, fail, none, temperror, ...). */
export interface AuthResults {
  spf: string;
  dkim: string;
  dmarc: string;
  arc: string;
}

/** Our authentication results as an ARC set records them, and the incoming chain's validation state (cv). */
export interface ArcInput {
  authResults: string;
  chain: string;
}

/** The authserv-id our Authentication-Results carry when no gateway name is given (tests, the CLI). */
export const DEFAULT_AUTHSERV_ID = "mailward";

/** A scanner's view of one message: the signals, their sum, and the facts `decide` needs. */
export interface Assessment {
  signals: Signal[];
  score: number;
  /** 0..1 probability that the content is unwanted (spam or phish). */
  contentScore: number;
  malware: boolean;
  phishConfidence: "none" | "low" | "high";
  auth: AuthResults;
  from: {
    address: string;
    domain: string;
    displayName: string;
    /**
     * Every address From names (all From fields, group members), canonical like `address` and starting with it:
     * a block applies when any of them matches, so naming an innocent sender first does not hide a blocked one.
     */
    addresses: string[];
  };
  /** Received-SPF and Authentication-Results fields for the relayed copy (built-in engine; CRLF-terminated). */
  authenticationHeaders?: string;
  /** Our results as an ARC set records them, and the incoming ARC chain's state (built-in engine). */
  arc?: ArcInput;
}

/** An allow/block entry from the organisation's or one person's sender list. */
export interface SenderRule {
  id: string;
  scope: "tenant" | "user";
  userId?: string;
  kind: "block" | "permit";
  pattern: string;
  expiresAt?: Date | null;
}

/** The verdict for one message and one recipient, with the rule that decided it when one did. */
export interface Decision {
  action: "deliver" | "hold" | "reject";
  reason: HoldReason | null;
  rule?: { id: string; scope: string; kind: string };
  explanation: string;
}

/** Anything that can assess a message: the built-in engine or the rspamd adapter. */
export interface Scanner {
  assess(input: ScanInput): Promise<Assessment>;
}

/** Options for `decide`: what an organisation block does, and the score at which a message is held. */
export interface DecideOptions {
  orgBlockAction?: "reject" | "hold";
  holdThreshold?: number;
}

/** The two sender lists `decide` consults: the organisation's and the recipient's own. */
export interface SenderRuleSets {
  org: SenderRule[];
  personal: SenderRule[];
}
