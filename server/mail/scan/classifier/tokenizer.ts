/**
 * Turns a message into the set of tokens the content classifier counts.
 * Built to survive anything: binary bodies, megabyte lines, odd charsets and
 * missing headers all yield a bounded token set, never an exception.
 *
 * What is left out on purpose: recipient addresses, dates and Received lines.
 * They describe where and when a message was collected, not what it says, so a
 * classifier trained on them learns the collection instead of the mail.
 */
import { tagsToSpaces } from "../html-anchors";

/** The parts of a message the tokenizer reads (mailparser's ParsedMail provides them). */
export interface TokenizerInput {
  subject?: string | undefined;
  text?: string | undefined;
  html?: string | false | undefined;
  headers?: ReadonlyMap<string, unknown> | undefined;
  fromAddress?: string | undefined;
  fromName?: string | undefined;
  attachments?:
    ReadonlyArray<{ filename?: string | undefined; contentType?: string | undefined }> | undefined;
}

const MAX_BODY_CHARS = 200_000;
const MAX_TOKENS = 4000;
const MIN_WORD = 3;
const MAX_WORD = 14;
const HTML_TAGS = [
  "font",
  "table",
  "img",
  "form",
  "script",
  "style",
  "center",
  "iframe",
  "map",
  "area",
  "blink",
  "input",
  "base",
];

// The patterns applied to every word, tag and attachment name live here, once: a literal inside those functions made
// a new RegExp object at each use (four a word), and TurboFan's code for `tokenize` left itself at the attachment
// name's literal again and again ("wrong map"), finishing such messages in the interpreter.
const LEADING_PUNCTUATION = /^[^\p{L}\p{N}$€£]+/u;
const TRAILING_PUNCTUATION = /[^\p{L}\p{N}$%!€£]+$/u;
const WEB_ADDRESS = /^(https?:\/\/|www\.)/;
const SCHEME = /^https?:\/\//;
const HOST_END = /[/?#:]/;
const NUMBER = /^[0-9][0-9,.]*$/;
const WHITESPACE = /\s+/;
const WHITESPACE_RUNS = /\s+/g;
const FILE_EXTENSION = /\.([a-z0-9]{1,8})$/i;

function clip(text: unknown, max: number): string {
  if (typeof text !== "string") return "";
  return text.length > max ? text.slice(0, max) : text;
}

function normalize(text: string): string {
  // NFKC folds fullwidth and compatibility forms; replacement chars and controls become spaces.
  // eslint-disable-next-line no-control-regex
  return text.normalize("NFKC").replace(/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]+/g, " ");
}

/** Tokens for one word-ish chunk of text: words, URL and address pieces, long-token summaries. */
function wordTokens(raw: string, prefix: string, out: string[]): string | null {
  const word = raw.replace(LEADING_PUNCTUATION, "").replace(TRAILING_PUNCTUATION, "");
  if (word === "") return null;
  const lower = word.toLowerCase();
  if (WEB_ADDRESS.test(lower)) {
    const host = lower.replace(SCHEME, "").split(HOST_END)[0] ?? "";
    out.push(`${prefix}proto:${lower.startsWith("https") ? "https" : "http"}`);
    for (const part of host
      .split(".")
      .filter((p) => p.length > 0)
      .slice(-4))
      out.push(`${prefix}url:${part}`);
    return null;
  }
  const at = lower.indexOf("@");
  if (at > 0 && at < lower.length - 1) {
    out.push(`${prefix}email:dom:${lower.slice(at + 1)}`.slice(0, 80));
    return null;
  }
  if (NUMBER.test(lower)) {
    if (lower.length >= 5) out.push(`${prefix}num:${Math.min(lower.length, 12)}`);
    else out.push(`${prefix}${lower}`);
    return null;
  }
  if (lower.length < MIN_WORD) return null;
  if (lower.length > MAX_WORD) {
    out.push(`${prefix}skip:${lower[0]}${Math.floor(lower.length / 10) * 10}`);
    return null;
  }
  out.push(`${prefix}${lower}`);
  return lower;
}

/** Word and bigram tokens of free text. */
export function textTokens(text: string, prefix = ""): string[] {
  const out: string[] = [];
  let previous: string | null = null;
  for (const raw of normalize(text).split(WHITESPACE)) {
    if (raw.length > 200) {
      out.push(`${prefix}skip:long`);
      previous = null;
      continue;
    }
    const word = wordTokens(raw, prefix, out);
    if (word && previous) out.push(`${prefix}${previous} ${word}`);
    previous = word;
    if (out.length > MAX_TOKENS * 3) break;
  }
  return out;
}

function headerText(headers: ReadonlyMap<string, unknown> | undefined, name: string): string {
  const value = headers?.get(name);
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const v = (value as { value?: unknown; text?: unknown }).value ?? (value as { text?: unknown }).text;
    if (typeof v === "string") return v;
  }
  return "";
}

function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0
    ? ""
    : address
        .slice(at + 1)
        .toLowerCase()
        .replace(/[>\s]/g, "");
}

function headerTokens(input: TokenizerInput, out: string[]): void {
  const headers = input.headers;
  const fromAddress = clip(input.fromAddress, 320).toLowerCase();
  const fromDomain = domainOf(fromAddress);
  out.push(fromAddress ? `from:addr:${fromAddress}` : "from:none");
  if (fromDomain) out.push(`from:dom:${fromDomain}`);
  const name = clip(input.fromName, 200);
  if (name.trim() === "") out.push("from:noname");
  for (const t of textTokens(name, "from:name:")) out.push(t);

  const replyTo = headerText(headers, "reply-to");
  if (replyTo) {
    const rd = domainOf(replyTo.match(/[^\s<>"]+@[^\s<>"]+/)?.[0] ?? "");
    out.push(`rt:dom:${rd}`);
    if (rd && rd !== fromDomain) out.push("rt:differs");
  }
  const messageId = headerText(headers, "message-id");
  out.push(messageId ? `mid:dom:${domainOf(messageId.replace(/>.*$/, ""))}` : "mid:none");
  for (const h of ["x-mailer", "user-agent"]) {
    const words = clip(headerText(headers, h), 200)
      .toLowerCase()
      .split(/[\s/;()]+/)
      .filter((w) => w.length > 1)
      .slice(0, 2);
    for (const w of words) out.push(`mailer:${w}`);
  }
  const contentType = headers?.get("content-type");
  if (contentType && typeof contentType === "object") {
    const ct = contentType as { value?: unknown; params?: Record<string, unknown> };
    if (typeof ct.value === "string") out.push(`ct:${ct.value.toLowerCase()}`);
    const charset = ct.params?.charset;
    if (typeof charset === "string") out.push(`charset:${charset.toLowerCase()}`);
  }
  if (headers?.has("list-id") || headers?.has("list-unsubscribe")) out.push("list:yes");
  const precedence = headerText(headers, "precedence").toLowerCase().trim();
  if (precedence) out.push(`precedence:${precedence.slice(0, 20)}`);
}

function subjectTokens(subject: string, out: string[]): void {
  if (subject.trim() === "") {
    out.push("s:none");
    return;
  }
  for (const t of textTokens(subject, "s:")) out.push(t);
  const letters = subject.replace(/[^\p{L}]/gu, "");
  if (letters.length >= 8 && letters === letters.toUpperCase()) out.push("s:allcaps");
  if (/[!?]{2,}/.test(subject)) out.push("s:bang");
  if (/\$\d/.test(subject)) out.push("s:money");
}

function htmlTokens(html: string, out: string[]): void {
  const sample = html.slice(0, MAX_BODY_CHARS).toLowerCase();
  for (const tag of HTML_TAGS) if (sample.includes(`<${tag}`)) out.push(`tag:${tag}`);
  // The start of each opening tag with its first attributes: how the HTML was made says a lot
  // (bulk-mail tools, hidden fonts, tracking images), whatever the words are.
  const tags = sample.match(/<[a-z][a-z0-9]*\b[^>]{0,40}/g) ?? [];
  for (const tag of tags.slice(0, 400)) out.push(`h:${tag.replace(WHITESPACE_RUNS, " ").slice(0, 30)}`);
  if (/display\s*:\s*none|font-size\s*:\s*[01]px|color\s*=\s*["']?#?fff/.test(sample))
    out.push("html:hidden_text");
}

/**
 * Tokens of the first 50 attachments' extensions and types. Read by index: `.slice` on the list, inside `tokenize`,
 * left TurboFan's code for `tokenize` again and again on the scan thread ("wrong map" at that property load), each
 * large message then finishing its tokens in the interpreter (BENCHMARKS.md, "Ingest", session 51).
 */
function attachmentTokens(attachments: TokenizerInput["attachments"], out: string[]): void {
  if (!attachments) return;
  const count = Math.min(attachments.length, 50);
  for (let i = 0; i < count; i++) {
    const att = attachments[i];
    if (!att) continue;
    const ext = FILE_EXTENSION.exec(att.filename ?? "")?.[1]?.toLowerCase();
    if (ext) out.push(`att:ext:${ext}`);
    if (att.contentType) out.push(`att:ct:${att.contentType.toLowerCase().slice(0, 60)}`);
  }
}

/**
 * The unique tokens of a message, capped at a few thousand. Safe on every input:
 * unknown shapes are skipped, never thrown on.
 */
export function tokenize(input: TokenizerInput): string[] {
  const out: string[] = [];
  try {
    headerTokens(input, out);
    subjectTokens(clip(input.subject, 1000), out);
    const text = clip(input.text, MAX_BODY_CHARS);
    if (text) for (const t of textTokens(text)) out.push(t);
    else out.push("body:empty");
    if (typeof input.html === "string" && input.html.length > 0) {
      htmlTokens(input.html, out);
      if (!text) for (const t of textTokens(tagsToSpaces(input.html.slice(0, MAX_BODY_CHARS)))) out.push(t);
    }
    attachmentTokens(input.attachments, out);
  } catch {
    out.push("tokenizer:error");
  }
  return [...new Set(out)].slice(0, MAX_TOKENS);
}
