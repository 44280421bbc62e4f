import { sql, type RawBuilder } from "kysely";
import { configSql } from "./sql-helpers";

/** Most characters of body + attachment text indexed per message (keeps a tsvector far below 1 MB). */
export const MAX_INDEXED_BODY_CHARS = 200_000;
/** Most distinct compound tokens (e.g. "INV-2024-0042") whose parts are added to the index. */
export const MAX_COMPOUND_TOKENS = 2_000;

/** What ingest knows about a message when it builds the search vector. */
export interface SearchVectorInput {
  subject: string;
  fromAddress: string;
  fromName: string;
  /** Recipient addresses or "Name <address>" strings. */
  toAddresses: readonly string[];
  ccAddresses: readonly string[];
  attachmentNames: readonly string[];
  bodyText: string;
  /** Text of text-like attachments (txt, csv, html, eml; PDF/Office later). */
  attachmentTexts?: readonly string[];
}

/** The four weighted texts of the vector, already cleaned. Exported so tests can inspect them. */
export interface SearchTexts {
  /** Weight A. */
  subject: string;
  /** Weight B: from/to/cc names and addresses. */
  people: string;
  /** Weight B: attachment file names. */
  attachmentNames: string;
  /** Weight D: body, then attachment text, then the split parts of compound tokens. */
  body: string;
}

/** NFC, no NUL or lone surrogates (PostgreSQL text cannot hold them). */
function clean(text: string): string {
  return text
    .normalize("NFC")
    .replaceAll("\u0000", " ")
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, " ");
}

/**
 * Parts of tokens joined by punctuation, so each part is findable on its own: the 'simple' parser keeps
 * "alice.smith@example.com", "Invoice_2024-03.pdf" or "INV-2024-0042" as whole tokens (or splits
 * them into signed numbers like "-2024"); a search for "alice", "example.com", "invoice" or "0042"
 * then finds them through these parts.
 */
export function compoundParts(text: string, limit = MAX_COMPOUND_TOKENS): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  // Only tokens with a joiner match. The lookbehind keeps it linear: a match starts only where a run of letters and
  // digits starts, so a long run without a joiner is tried once, not again from each of its letters (without it,
  // a 200 kB run held ingest for minutes).
  for (const match of text.matchAll(/(?<![\p{L}\p{N}])[\p{L}\p{N}]+(?:[-_.@+'/:#][\p{L}\p{N}]+)+/gu)) {
    const token = match[0];
    if (seen.has(token)) continue;
    seen.add(token);
    const at = token.indexOf("@");
    if (at > 0) parts.push(token.slice(0, at), token.slice(at + 1));
    parts.push(token.split(/[^\p{L}\p{N}]+/u).join(" "));
    if (seen.size >= limit) break;
  }
  return parts.join(" ");
}

/** Clean the message fields into the four texts the vector is built from (pure, no SQL). */
export function prepareSearchTexts(input: SearchVectorInput): SearchTexts {
  const subject = clean(input.subject);
  const peopleRaw = clean(
    [input.fromName, input.fromAddress, ...input.toAddresses, ...input.ccAddresses].join(" "),
  );
  const namesRaw = clean(input.attachmentNames.join(" "));
  const bodyRaw = clean([input.bodyText, ...(input.attachmentTexts ?? [])].join("\n")).slice(
    0,
    MAX_INDEXED_BODY_CHARS,
  );
  return {
    subject: `${subject} ${compoundParts(subject)}`.trim(),
    people: `${peopleRaw} ${compoundParts(peopleRaw)}`.trim(),
    attachmentNames: `${namesRaw} ${compoundParts(namesRaw)}`.trim(),
    body: `${bodyRaw} ${compoundParts(bodyRaw)}`.trim(),
  };
}

/**
 * The weighted tsvector expression ingest must store in `messages.search_vector`, so indexing and
 * querying use the same configuration and the same token treatment:
 * subject A, people B, attachment names B, body + text-like attachment text D. All text is bound as
 * parameters. Use it as a value: `insertInto("messages").values({ ..., search_vector: buildSearchVectorSql(x) })`.
 */
export function buildSearchVectorSql(input: SearchVectorInput): RawBuilder<string> {
  const texts = prepareSearchTexts(input);
  const config = configSql();
  return sql<string>`(setweight(to_tsvector(${config}, ${texts.subject}), 'A')
    || setweight(to_tsvector(${config}, ${texts.people}), 'B')
    || setweight(to_tsvector(${config}, ${texts.attachmentNames}), 'B')
    || setweight(to_tsvector(${config}, ${texts.body}), 'D'))`;
}
