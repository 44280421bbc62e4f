import {
  DEFAULT_CLAMD_STREAM_LIMIT,
  clamdAddressOf,
  clamdScan,
  type ClamdAddress,
  type ClamdVerdict,
} from "./clamd";
import type { Assessment, ScanInput, Scanner, Signal } from "./types";
import { signal, sumWeights } from "./weights";

/** How long a scan may take before the message is deferred (clamd's own default limit is 120 s). */
export const DEFAULT_CLAMD_TIMEOUT_MS = 60_000;

/** How the antivirus step is wired: where clamd is, and how long a scan may take. */
export interface AntivirusOptions {
  clamd: string;
  timeoutMs?: number;
  /** clamd's StreamMaxLength (MAILWARD_CLAMD_STREAM_LIMIT): longer messages are marked unscanned without asking. */
  streamLimit?: number | undefined;
  /** The scan itself (clamdScan; replaceable in unit tests of the merge). */
  scan?: (
    address: ClamdAddress,
    raw: Buffer,
    timeoutMs: number,
    streamLimit: number,
  ) => Promise<ClamdVerdict>;
}

/** The signal for a verdict, or none for a clean message. */
function antivirusSignal(verdict: ClamdVerdict, size: number): Signal | null {
  if (verdict.kind === "infected")
    return signal(
      "antivirus.infected",
      `The antivirus found malware in this message (${verdict.signature}).`,
      verdict.signature,
    );
  if (verdict.kind === "too_large")
    return signal(
      "antivirus.unscanned",
      `The antivirus did not scan this message: at ${size} bytes it is larger than its limit.`,
    );
  return null;
}

/**
 * Runs ClamAV (clamd) beside another scanner and adds its finding: a virus is malware, which
 * DESIGN §6 row 1 holds whatever the allow lists say. When clamd cannot answer, `assess` rejects
 * (ClamdUnavailableError) instead of passing the message unscanned: the gateway then answers 451
 * and the sender retries, so nothing is lost and nothing goes through unchecked; the Graph
 * connector retries on its next sweep; an import counts it as failed, and importing again files it.
 */
export class AntivirusScanner implements Scanner {
  private readonly address: ClamdAddress;
  private readonly timeoutMs: number;
  private readonly streamLimit: number;
  private readonly scan: NonNullable<AntivirusOptions["scan"]>;

  constructor(
    private readonly inner: Scanner,
    options: AntivirusOptions,
  ) {
    this.address = clamdAddressOf(options.clamd);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CLAMD_TIMEOUT_MS;
    this.streamLimit = options.streamLimit ?? DEFAULT_CLAMD_STREAM_LIMIT;
    this.scan = options.scan ?? clamdScan;
  }

  /** The inner scanner's assessment, with clamd's finding added. */
  async assess(input: ScanInput): Promise<Assessment> {
    const [assessment, verdict] = await Promise.all([
      this.inner.assess(input),
      this.scan(this.address, input.raw, this.timeoutMs, this.streamLimit),
    ]);
    const found = antivirusSignal(verdict, input.raw.length);
    if (!found) return assessment;
    const signals = [...assessment.signals, found];
    return {
      ...assessment,
      signals,
      score: sumWeights(signals),
      malware: assessment.malware || verdict.kind === "infected",
    };
  }
}
