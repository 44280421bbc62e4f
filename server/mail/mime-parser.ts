import { createRequire } from "node:module";
import type * as Mailparser from "mailparser";

/** What this module uses of html-to-text (its CommonJS build; the package ships no types). */
interface HtmlToTextModule {
  compile(options?: object): (html: string, metadata?: unknown) => string;
  htmlToText(html: string, options?: object, metadata?: unknown): string;
}

const requireCommonJs = createRequire(import.meta.url);
const htmlToText = requireCommonJs("html-to-text") as HtmlToTextModule;
const convertEachTime = htmlToText.htmlToText;

/** Options made of data alone (no functions, no class instances): two of them with one JSON are the same options. */
function isPlainData(value: unknown): boolean {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(isPlainData);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every(isPlainData);
}

/** Converters compiled so far, by their options' JSON (mailparser asks with one set of options). */
const converters = new Map<string, (html: string, metadata?: unknown) => string>();
/** Enough for every caller's own options; a caller making up new ones each time converts without the cache. */
const MAX_CONVERTERS = 16;

/**
 * html-to-text's conversion with its converter compiled once per set of options. `htmlToText(html, options)`
 * compiles the options' selectors (parseley, selderee) anew on every call, and mailparser calls it for every HTML
 * part it turns into text: that compile was 13–16 % of everything the gateway allocated per message and 2.5–5 % of
 * its main thread (BENCHMARKS.md, "Ingest", sessions 37 and 45). html-to-text's own `compile` is the documented way
 * to convert many documents with one set of options, and gives the same text.
 */
function convertCompiledOnce(html: string, options?: object, metadata?: unknown): string {
  if (options !== undefined && !isPlainData(options)) return convertEachTime(html, options, metadata);
  const key = JSON.stringify(options ?? {});
  let converter = converters.get(key);
  if (!converter) {
    if (converters.size >= MAX_CONVERTERS) return convertEachTime(html, options, metadata);
    converter = htmlToText.compile(options);
    converters.set(key, converter);
  }
  return converter(html, metadata);
}

// mailparser's CommonJS build looks `htmlToText` up on this module's exports at each call (its ES module build binds
// it at load, beyond reach), so the parser below converts through the compiled converters.
htmlToText.htmlToText = convertCompiledOnce;
const mailparser = requireCommonJs("mailparser") as typeof Mailparser;

/**
 * mailparser's `simpleParser` (its CommonJS build), converting HTML to text with html-to-text's converter compiled
 * once per set of options instead of on every HTML part. Every parse of a message in the server goes through it (and
 * through the module's own export at each call, where a test can watch the parses).
 */
export function simpleParser(
  input: Buffer | string,
  options?: Mailparser.SimpleParserOptions,
): Promise<Mailparser.ParsedMail> {
  return mailparser.simpleParser(input, options);
}

/**
 * mailparser's reading of address header values, from the same CommonJS build as `simpleParser`, so the server loads
 * one build of mailparser (and of html-to-text) rather than both.
 */
export const parseAddressHeader: typeof Mailparser.parseAddressHeader = mailparser.parseAddressHeader;
