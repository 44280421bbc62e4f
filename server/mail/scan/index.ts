import { BuiltinScanner, type BuiltinScannerOptions } from "./scanner";
import { RspamdScanner } from "./rspamd";
import { AntivirusScanner } from "./antivirus";
import type { Scanner } from "./types";

export type * from "./types";
export { decide, PRECEDENCE } from "./decide";
export { BuiltinScanner } from "./scanner";
export type { BuiltinScannerOptions } from "./scanner";
export { RspamdScanner, assessmentFromRspamd } from "./rspamd";
export { AntivirusScanner, DEFAULT_CLAMD_TIMEOUT_MS } from "./antivirus";
export { ClamdUnavailableError, clamdScan, clamdAddressOf } from "./clamd";
export type { RspamdScannerOptions } from "./rspamd";
export { parseForScan, parseHeadersOnly, isIncompleteParse, SCAN_PARSER_OPTIONS } from "./parse";
export { createOfflineResolver, createSystemResolver, guardResolver } from "./dns";
export { cachingResolver, type DnsCacheOptions } from "./dns-cache";
export type { DnsResolver } from "./dns";
export {
  normalizeSenderPattern,
  readSenderPattern,
  senderMatchesPattern,
  isRuleActive,
  normalizeAddress,
  normalizeDomain,
  SENDER_PATTERN_MAX_LENGTH,
} from "./sender-patterns";
export type {
  NormalizedSenderPattern,
  SenderPatternError,
  SenderPatternErrorCode,
  SenderPatternResult,
} from "./sender-patterns";
export { ContentClassifier, messageTokens, tokenize, tokenizerInput, CLASS_LABELS } from "./classifier/index";
export type { ClassLabel, ClassifierState, Classification } from "./classifier/index";
export { DEFAULT_HOLD_THRESHOLD, SIGNALS, contentWeight, reasonForSignal } from "./weights";

/** The settings that choose the scanner: rspamd instead of the built-in engine, ClamAV beside either. */
export interface ScannerChoice {
  RSPAMD_URL?: string | undefined;
  /** ClamAV's daemon (MAILWARD_CLAMD): host:port or a Unix socket. */
  MAILWARD_CLAMD?: string | undefined;
  /** clamd's StreamMaxLength (MAILWARD_CLAMD_STREAM_LIMIT, bytes). */
  MAILWARD_CLAMD_STREAM_LIMIT?: number | undefined;
}

/**
 * The scanner the server should use: rspamd when `RSPAMD_URL` is set (with the
 * built-in engine as its fallback), otherwise the built-in engine; with ClamAV
 * beside it when `MAILWARD_CLAMD` is set.
 */
export function createScanner(env: ScannerChoice, builtin: BuiltinScannerOptions = {}): Scanner {
  const engine = new BuiltinScanner(builtin);
  const url = env.RSPAMD_URL?.trim();
  const scanner = url
    ? new RspamdScanner({
        url,
        fallback: engine,
        ...(builtin.authservId ? { authservId: builtin.authservId } : {}),
      })
    : engine;
  const clamd = env.MAILWARD_CLAMD?.trim();
  return clamd
    ? new AntivirusScanner(scanner, { clamd, streamLimit: env.MAILWARD_CLAMD_STREAM_LIMIT })
    : scanner;
}

/** The name a verdict records for the scanner that made it ("builtin" or "rspamd", "+clamav" with ClamAV beside it). */
export function scannerNameOf(env: ScannerChoice): string {
  const engine = env.RSPAMD_URL?.trim() ? "rspamd" : "builtin";
  return env.MAILWARD_CLAMD?.trim() ? `${engine}+clamav` : engine;
}
