import { VALUE_FIELDS, type ValueField } from "./ast";
import { isRealDate } from "./dates";
import { QueryError } from "./errors";
import { suggestOperator } from "./suggest";

/** Longest query accepted, in UTF-16 code units (what an `<input maxlength>` counts). */
export const MAX_QUERY_LENGTH = 500;

/** A parenthesis, `OR`, `AND` or a leading `-`. */
export interface SyntaxToken {
  type: "lparen" | "rparen" | "or" | "and" | "not";
  position: number;
}

/** A token that becomes a leaf of the AST. */
export type TermToken =
  | { type: "word" | "phrase"; value: string; position: number }
  | { type: "field"; field: ValueField; value: string; quoted: boolean; position: number }
  | { type: "has_attachment"; position: number }
  | { type: "date"; bound: "after" | "before"; date: string; position: number };

/** One lexical unit of a query, with the offset where it starts. */
export type Token = SyntaxToken | TermToken;

const SYNTAX_TYPES: ReadonlySet<string> = new Set(["lparen", "rparen", "or", "and", "not"]);

/** Narrow a token to the syntax kinds (parentheses, OR, AND, `-`). */
export function isSyntaxToken(token: Token): token is SyntaxToken {
  return SYNTAX_TYPES.has(token.type);
}

const FIELD_SET: ReadonlySet<string> = new Set(VALUE_FIELDS);

function isValueField(name: string): name is ValueField {
  return FIELD_SET.has(name);
}

/** Whitespace and control characters separate terms (a NUL would break PostgreSQL). */
function isSeparator(ch: string): boolean {
  return /^[\s\p{Cc}]$/u.test(ch);
}

/** Replace lone surrogates (invalid UTF-16) with a space so offsets stay the same. */
function wellFormed(input: string): string {
  return input.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, " ");
}

/** Split a query into tokens, validating operators, values and dates. Throws `QueryError`. */
export function tokenize(rawInput: string): Token[] {
  if (rawInput.length > MAX_QUERY_LENGTH) {
    throw new QueryError(`Query too long (max ${MAX_QUERY_LENGTH} chars)`, MAX_QUERY_LENGTH);
  }
  const input = wellFormed(rawInput);
  const tokens: Token[] = [];
  let i = 0;
  let afterNot = false;
  while (i < input.length) {
    const ch = input.charAt(i);
    if (isSeparator(ch)) {
      i++;
      continue;
    }
    if (ch === "(" || ch === ")") {
      tokens.push({ type: ch === "(" ? "lparen" : "rparen", position: i });
      i++;
      afterNot = false;
      continue;
    }
    if (ch === '"') {
      const quoted = readQuoted(input, i);
      tokens.push({ type: "phrase", value: quoted.value, position: i });
      i = quoted.end;
      afterNot = false;
      continue;
    }
    const next = input.charAt(i + 1);
    if (ch === "-" && next !== "" && !isSeparator(next) && next !== ")") {
      tokens.push({ type: "not", position: i });
      i++;
      afterNot = true;
      continue;
    }
    const classified = classifyBare(input, readBare(input, i), i, afterNot);
    tokens.push(classified.token);
    i = classified.end;
    afterNot = false;
  }
  return tokens;
}

/** Read a `"..."` starting at `start` (which holds the quote). `\"` and `\\` are escapes. */
function readQuoted(input: string, start: number): { value: string; end: number } {
  let value = "";
  let j = start + 1;
  while (j < input.length) {
    const ch = input.charAt(j);
    const following = input.charAt(j + 1);
    if (ch === "\\" && (following === '"' || following === "\\")) {
      value += following;
      j += 2;
      continue;
    }
    if (ch === '"') return { value, end: j + 1 };
    value += ch;
    j++;
  }
  throw new QueryError(`Unclosed quote starting at ${start}`, start);
}

/** Read an unquoted run up to whitespace, a parenthesis or a quote. */
function readBare(input: string, start: number): { text: string; end: number } {
  let j = start;
  while (j < input.length) {
    const ch = input.charAt(j);
    if (isSeparator(ch) || ch === "(" || ch === ")" || ch === '"') break;
    j++;
  }
  return { text: input.slice(start, j), end: j };
}

/** Turn an unquoted run into a keyword, an operator with its value, or a plain word. */
function classifyBare(
  input: string,
  bare: { text: string; end: number },
  position: number,
  afterNot: boolean,
): { token: Token; end: number } {
  const { text } = bare;
  const plain = { token: { type: "word", value: text, position } as const, end: bare.end };
  if (!afterNot && text === "OR") return { token: { type: "or", position }, end: bare.end };
  if (!afterNot && text === "AND") return { token: { type: "and", position }, end: bare.end };
  const match = /^([A-Za-z]+):/.exec(text);
  if (!match?.[1]) return plain;
  const name = match[1].toLowerCase();
  const known = isValueField(name) || name === "has" || name === "after" || name === "before";
  if (!known) {
    const suggestion = suggestOperator(name);
    if (suggestion === null) return plain;
    throw new QueryError(
      `Unknown operator '${match[1]}:' at ${position} — did you mean ${suggestion}:?`,
      position,
    );
  }
  const valuePosition = position + match[0].length;
  const inlineValue = text.slice(match[0].length);
  const startsQuote = inlineValue === "" && input.charAt(bare.end) === '"';
  const quoted = startsQuote ? readQuoted(input, bare.end) : null;
  const value = quoted ? quoted.value : inlineValue;
  const end = quoted ? quoted.end : bare.end;
  return { token: operatorToken(name, value, startsQuote, position, valuePosition), end };
}

/** Validate an operator's value and build its token. */
function operatorToken(
  name: string,
  value: string,
  quoted: boolean,
  position: number,
  valuePosition: number,
): Token {
  if (value.trim() === "") {
    const message = quoted
      ? `Empty value for ${name}: at ${valuePosition}`
      : `Expected a value after ${name}: at ${valuePosition}`;
    throw new QueryError(message, valuePosition);
  }
  if (isValueField(name)) return { type: "field", field: name, value, quoted, position };
  if (name === "has") {
    if (/^attachments?$/i.test(value)) return { type: "has_attachment", position };
    throw new QueryError(
      `Unknown value '${value}' for has: at ${valuePosition} — only has:attachment is supported`,
      valuePosition,
    );
  }
  const bound = name === "after" ? "after" : "before";
  if (!isRealDate(value)) {
    throw new QueryError(
      `Invalid date '${value}' after ${name}: at ${valuePosition} (expected a real date as YYYY-MM-DD)`,
      valuePosition,
    );
  }
  return { type: "date", bound, date: value, position };
}
