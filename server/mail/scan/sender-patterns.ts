import { domainToASCII } from "node:url";
import { withDotAtomLocalPart } from "./domains";
import type { SenderRule } from "./types";

/**
 * Sender list patterns (DESIGN §4 "sender lists", §5 "sender rule").
 *
 * Three forms, all matched case-insensitively against the From address, with
 * internationalised domains compared in punycode (`domainToASCII`):
 *
 * | pattern        | matches                                                     |
 * |----------------|-------------------------------------------------------------|
 * | `a@b.com`      | exactly that address                                        |
 * | `b.com`        | every address at b.com, NOT at its subdomains               |
 * | `*.b.com`      | every address at b.com AND at its subdomains (x.b.com, y.x.b.com) |
 *
 * Why `*.b.com` includes the apex: a person who writes `*.b.com` means "all of
 * b.com"; the apex-only form already exists as plain `b.com`. `@b.com` is accepted
 * as a spelling of `b.com`. Expired rules never match. A `*` anywhere else (`*@b.com`, `bob*@b.com`, `a.*.b.com`)
 * is refused (`misplaced_wildcard`): it would be taken literally and match nobody.
 */

/** Longest pattern we accept (RFC 5321 path limit). */
export const SENDER_PATTERN_MAX_LENGTH = 254;
const LOCAL_PART_MAX = 64;
const LABEL_MAX = 63;

/** The three pattern shapes a sender rule can take. */
export type SenderPatternKind = "address" | "domain" | "subdomains";

/** A validated pattern in its canonical (lower-case, punycode) spelling. */
export interface NormalizedSenderPattern {
  kind: SenderPatternKind;
  /** Canonical text to store, e.g. `a@xn--bcher-kva.com`, `b.com`, `*.b.com`. */
  pattern: string;
  /** The local part for addresses, else null. */
  localPart: string | null;
  /** The domain (without `*.`), punycode. */
  domain: string;
}

/** Why a pattern was refused; the API maps it to `invalid_request` with these details. */
export type SenderPatternErrorCode =
  | "empty"
  | "too_long"
  | "local_part_too_long"
  | "invalid_characters"
  | "invalid_local_part"
  | "invalid_domain"
  | "label_too_long"
  | "misplaced_wildcard";

/** The typed error `normalizeSenderPattern` returns for a bad pattern. */
export interface SenderPatternError {
  /** Stable id in shared/errors.ts that the API answers with. */
  error: "invalid_request";
  code: SenderPatternErrorCode;
  message: string;
}

/** Either a canonical pattern or the reason it was refused. */
export type SenderPatternResult =
  { ok: true; value: NormalizedSenderPattern } | { ok: false; error: SenderPatternError };

const MESSAGES: Record<SenderPatternErrorCode, string> = {
  empty: "Enter an address (a@b.com), a domain (b.com) or *.b.com.",
  too_long: `The pattern is longer than ${SENDER_PATTERN_MAX_LENGTH} characters.`,
  local_part_too_long: `The part before @ is longer than ${LOCAL_PART_MAX} characters.`,
  invalid_characters: "The pattern contains characters that cannot appear in an email address.",
  invalid_local_part: "The part before @ is not valid.",
  invalid_domain: "The domain is not valid.",
  label_too_long: `A part of the domain is longer than ${LABEL_MAX} characters.`,
  misplaced_wildcard:
    "A * is only allowed at the start of a domain, as in *.b.com (b.com and its subdomains). A pattern is an address (a@b.com), a domain (b.com) or *.b.com: no * in an address.",
};

function fail(code: SenderPatternErrorCode): SenderPatternResult {
  return { ok: false, error: { error: "invalid_request", code, message: MESSAGES[code] } };
}

// RFC 5322 atext plus dots, and Unicode letters/digits for SMTPUTF8 local parts.
const LOCAL_PART_RE = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// Control characters, whitespace inside, quotes, angle brackets, commas and friends.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_RE = /[\u0000-\u0020\u007f<>()[\]\\,;:"\s]/u;

/** Canonical ASCII (punycode, lower-case) spelling of a domain, or null when it is not a valid host name. */
export function normalizeDomain(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, "");
  if (trimmed === "" || trimmed.length > 253) return null;
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (!ascii) return null;
  const labels = ascii.split(".");
  if (labels.length < 2) return null;
  for (const label of labels) {
    if (label.length > LABEL_MAX || !LABEL_RE.test(label)) return null;
  }
  const tld = labels[labels.length - 1] ?? "";
  if (/^[0-9]+$/.test(tld)) return null; // IP addresses are not sender domains
  return ascii;
}

/** Validates and canonicalises what a person typed as a sender pattern (the API and the CSV import reuse this). */
export function normalizeSenderPattern(input: string): SenderPatternResult {
  return normalizePattern(input, false);
}

/**
 * Reads a stored pattern, or a real sender's address as one (block or permit from a held message or a report): like
 * `normalizeSenderPattern`, but a `*` in a local part is that character, as in the address it came from (`*` is
 * RFC 5322 atext), so "block this sender" works for `bob*@evil.test` and a rule stored before such patterns were
 * refused keeps matching what it always matched.
 */
export function readSenderPattern(pattern: string): SenderPatternResult {
  return normalizePattern(pattern, true);
}

function normalizePattern(input: string, literalStar: boolean): SenderPatternResult {
  const text = input.trim();
  if (text === "") return fail("empty");
  if (text.length > SENDER_PATTERN_MAX_LENGTH) return fail("too_long");
  if (FORBIDDEN_RE.test(text)) return fail("invalid_characters");

  const at = text.lastIndexOf("@");
  if (at > 0) {
    const local = text.slice(0, at);
    const domainText = text.slice(at + 1);
    if (local.includes("@")) return fail("invalid_characters");
    if (local.length > LOCAL_PART_MAX) return fail("local_part_too_long");
    if (domainText.includes("*")) return fail("misplaced_wildcard");
    // `*` is an atext character, but a person typing `bob*@b.com` means a wildcard, which no pattern form is: refused
    // rather than stored as a rule that matches nobody.
    if (!literalStar && local.includes("*")) return fail("misplaced_wildcard");
    if (!LOCAL_PART_RE.test(local)) return fail("invalid_local_part");
    const domain = domainOrError(domainText);
    if (typeof domain !== "string") return domain;
    const localPart = local.toLowerCase();
    return { ok: true, value: { kind: "address", pattern: `${localPart}@${domain}`, localPart, domain } };
  }

  const bare = at === 0 ? text.slice(1) : text;
  if (bare.startsWith("*.")) {
    const rest = bare.slice(2);
    if (rest.includes("*")) return fail("misplaced_wildcard");
    const domain = domainOrError(rest);
    if (typeof domain !== "string") return domain;
    return { ok: true, value: { kind: "subdomains", pattern: `*.${domain}`, localPart: null, domain } };
  }
  if (bare.includes("*")) return fail("misplaced_wildcard");
  const domain = domainOrError(bare);
  if (typeof domain !== "string") return domain;
  return { ok: true, value: { kind: "domain", pattern: domain, localPart: null, domain } };
}

function domainOrError(text: string): string | SenderPatternResult {
  if (text.split(".").some((label) => label.length > LABEL_MAX)) return fail("label_too_long");
  return normalizeDomain(text) ?? fail("invalid_domain");
}

/** Splits and canonicalises a sender address for matching; null when it has no usable domain. */
export function normalizeAddress(address: string): { localPart: string; domain: string } | null {
  const text = withDotAtomLocalPart(address.trim().replace(/^<|>$/g, ""));
  const at = text.lastIndexOf("@");
  if (at <= 0) return null;
  const domain = normalizeDomain(text.slice(at + 1));
  if (!domain) return null;
  return { localPart: text.slice(0, at).toLowerCase(), domain };
}

/** True when an address falls under a pattern (see the table at the top of this file). */
export function senderMatchesPattern(pattern: string | NormalizedSenderPattern, address: string): boolean {
  const normalized =
    typeof pattern === "string" ? readSenderPattern(pattern) : { ok: true as const, value: pattern };
  if (!normalized.ok) return false;
  const rule = normalized.value;
  const sender = normalizeAddress(address);
  if (!sender) return false;
  switch (rule.kind) {
    case "address":
      return sender.localPart === rule.localPart && sender.domain === rule.domain;
    case "domain":
      return sender.domain === rule.domain;
    case "subdomains":
      return sender.domain === rule.domain || sender.domain.endsWith(`.${rule.domain}`);
  }
}

/** True while a rule is in force: no expiry, or an expiry still in the future. */
export function isRuleActive(rule: Pick<SenderRule, "expiresAt">, now: Date): boolean {
  return rule.expiresAt == null || rule.expiresAt.getTime() > now.getTime();
}
