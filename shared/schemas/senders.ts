import { z } from "zod";
import { listOf, pageQuery } from "./common";

const isoTime = z.iso.datetime({ offset: true });

/** Block or permit. */
export const SENDER_KINDS = ["block", "permit"] as const;
/** The kind of a sender rule. */
export type SenderKind = (typeof SENDER_KINDS)[number];

/** Whose rule it is: a person's own (/api/senders) or the organisation's (/api/admin/senders). */
export const SENDER_SCOPES = ["user", "tenant"] as const;
/** The scope of a sender rule. */
export type SenderScope = (typeof SENDER_SCOPES)[number];

const DOMAIN = "(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})";
// atext without `*`: `bob*@b.com` would be a wildcard no pattern form has, so it is no pattern (the server refuses it too).
const LOCAL_PART = "[a-z0-9!#$%&'+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'+/=?^_`{|}~-]+)*";
const ADDRESS_RE = new RegExp(`^${LOCAL_PART}@${DOMAIN}$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const WILDCARD_RE = new RegExp(`^\\*\\.${DOMAIN}$`);

/** How a pattern matches: one address, one exact domain, or a domain and all its subdomains. */
export type SenderPatternType = "address" | "domain" | "wildcard";

/** Classifies an already-normalised (trimmed, lower-case) pattern, or returns null when it is not one. */
export function senderPatternType(pattern: string): SenderPatternType | null {
  if (pattern.length > 320) return null;
  if (ADDRESS_RE.test(pattern)) return "address";
  if (WILDCARD_RE.test(pattern)) return "wildcard";
  if (DOMAIN_RE.test(pattern)) return "domain";
  return null;
}

/** A sender pattern: `a@b.com`, `b.com` or `*.b.com`; trimmed and lower-cased. IDN domains go in punycode. */
export const senderPattern = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .refine((value) => senderPatternType(value) !== null, {
    message: "Use an address (a@b.com), a domain (b.com) or a wildcard domain (*.b.com).",
  });

/** Where a sender rule came from (`auto_permit` is release-and-permit's rule, which expires after 120 days by default). */
export const SENDER_RULE_SOURCES = ["manual", "import", "auto_permit", "held_block", "report"] as const;

/** A sender rule as GET /api/senders lists it. `expiresAt` null means it never expires. */
export const senderRule = z.object({
  id: z.uuid(),
  pattern: z.string(),
  kind: z.enum(SENDER_KINDS),
  expiresAt: isoTime.nullable(),
  scope: z.enum(SENDER_SCOPES),
  createdAt: isoTime,
  /** Where the rule came from: typed in, imported, or created by a held-message action or a report. */
  source: z.enum(SENDER_RULE_SOURCES).optional(),
});
/** A sender rule. */
export type SenderRule = z.infer<typeof senderRule>;

/** The page GET /api/senders answers. */
export const senderRuleList = listOf(senderRule);
/** A page of sender rules. */
export type SenderRuleList = z.infer<typeof senderRuleList>;

/** Query string of GET /api/senders: filter by kind, or by a substring of the pattern. */
export const senderListQuery = pageQuery.extend({
  kind: z.enum(SENDER_KINDS).optional(),
  q: z.string().trim().toLowerCase().min(1).max(320).optional(),
});
/** Query of GET /api/senders as a client sends it. */
export type SenderListQueryInput = z.input<typeof senderListQuery>;

/** Body of POST /api/senders (and /api/admin/senders). The server refuses an `expiresAt` in the past. */
export const createSenderRuleBody = z.object({
  pattern: senderPattern,
  kind: z.enum(SENDER_KINDS),
  expiresAt: isoTime.optional(),
});
/** Body that creates a sender rule (parsed). */
export type CreateSenderRuleBody = z.infer<typeof createSenderRuleBody>;
/** Body that creates a sender rule, as a client writes it. */
export type CreateSenderRuleInput = z.input<typeof createSenderRuleBody>;

/** Answer of POST /api/senders: the rule created (201) or the existing identical one (200). */
export const createSenderRuleResult = senderRule;

/**
 * What the server accepts as a pattern before it canonicalises it: it also takes Unicode domains
 * (`a@bücher.de` → `a@xn--bcher-kva.de`) and `@b.com`, and answers `invalid_request` with a reason code.
 */
export const senderPatternInput = z.string().trim().min(1).max(320);

/** Body of POST /api/senders as the server validates it (the pattern is canonicalised by the server). */
export const createSenderRuleRequest = z.object({
  pattern: senderPatternInput,
  kind: z.enum(SENDER_KINDS),
  expiresAt: isoTime.optional(),
});

/** Body of POST /api/senders/import (and the admin twin): CSV with a header `pattern,kind,expires_at`. */
export const senderImportBody = z.object({
  csv: z.string().min(1).max(1_000_000),
});
/** Body of a CSV import. */
export type SenderImportBody = z.infer<typeof senderImportBody>;

/**
 * Answer of a CSV import: counts, and one entry per refused line (1-based, the header is line 1) with the error id a
 * single POST would answer (`already_exists` for a pattern already on the list of the other kind).
 */
export const senderImportResult = z.object({
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  errors: z.array(z.object({ line: z.number().int().positive(), error: z.string(), message: z.string() })),
});
/** Outcome of a CSV import. */
export type SenderImportResult = z.infer<typeof senderImportResult>;
