import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { Writable } from "node:stream";

/** The part of mailauth's internal `MessageParser` (lib/dkim/message-parser.js, 4.13.x) that the scan below replaces. */
export interface MailauthMessageParser {
  state: "header" | "body";
  stateBytes: number[];
  headerChunks: Buffer[];
  headers: unknown;
  messageHeaders(headers: unknown): Promise<void>;
  nextChunk(chunk: Buffer): Promise<void>;
  processChunk(chunk: Buffer): Promise<void>;
  finalChunk(): Promise<void>;
  finish(): Promise<void>;
}

interface MessageParserClass {
  new (): MailauthMessageParser & Writable;
  prototype: MailauthMessageParser;
}

const requireFromHere = createRequire(import.meta.url);
const { MessageParser } = requireFromHere("mailauth/lib/dkim/message-parser.js") as {
  MessageParser: MessageParserClass;
};
/** mailauth's own header-block parser (lib/tools.js), kept for the equivalence tests. */
export const { parseHeaders: originalParseHeaders } = requireFromHere("mailauth/lib/tools.js") as {
  parseHeaders: (block: Buffer) => unknown;
};

/** mailauth's own header scan and end of stream, kept for the equivalence tests and for putting them back. */
export const originalProcessChunk = MessageParser.prototype.processChunk;
const originalFinish = MessageParser.prototype.finish;

/** SHA-256 of the source of mailauth 4.13.3's `processChunk` and `finish`, the ones the replacements were checked against. */
const CHECKED_SOURCE_SHA256 = "d1ffdac11b5b24e0b712b09808441aadfea2ee370f0a3742e145e9c1978c670a";
const CHECKED_FINISH_SHA256 = "bd0e543b458e72e8db1f1eb5d6e76c0f649957a4816c869b6063ddb9dba954b1";
const sha256 = (source: string) => createHash("sha256").update(source).digest("hex");

/**
 * Whether this mailauth's `processChunk` and `finish` are the ones the replacements below were checked against. After
 * an upgrade that changed them, mailauth keeps its own (and the wiring test fails, asking for a check again).
 */
export const headerScanReplaceable =
  sha256(originalProcessChunk.toString()) === CHECKED_SOURCE_SHA256 &&
  sha256(originalFinish.toString()) === CHECKED_FINISH_SHA256;

/** One header field as mailauth's `parseHeaders` gives it: the name (lower case, and as written) and its raw lines. */
interface MailauthHeader {
  key: string | null;
  casedKey: string | undefined;
  line: Buffer;
}

/**
 * mailauth's `parseHeaders`, with the same result in linear time. Theirs joins each continuation line to the field
 * before it by copying the field's lines so far and splicing the array, from the end: quadratic in the lines of one
 * field, so a Subject folded over 20,000 lines (120 KB) held the thread for 5 s, and a 1 MB header for minutes.
 * Its trim of trailing line breaks was a regular expression that is quadratic on a run of bare CRs, too.
 */
export function parseHeaderBlock(block: Buffer): { parsed: MailauthHeader[]; original: Buffer } {
  const text = block.toString("binary");
  let end = text.length;
  while (end > 0 && (text[end - 1] === "\r" || text[end - 1] === "\n")) end--;
  const fields: string[][] = [];
  text
    .slice(0, end)
    .split(/\r?\n/)
    .forEach((line, i) => {
      // A line starting with white space continues the field before it (the first line starts a field whatever it is).
      if (i > 0 && /^\s/.test(line)) fields[fields.length - 1]?.push(line);
      else fields.push([line]);
    });
  const parsed = fields.map((lines) => {
    const row = lines.join("\r\n");
    const casedKey = /^[^:]+/.exec(row)?.[0].trim();
    return {
      key: casedKey === undefined ? null : casedKey.toLowerCase(),
      casedKey,
      line: Buffer.from(row, "binary"),
    };
  });
  return { parsed, original: block };
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Where the header block ends in `chunk`: the index of the LF that completes "\n\n" or "\n\r\n", counting the
 * up to four bytes carried over from earlier chunks (`carried`), or -1. Jumps from LF to LF with indexOf.
 */
export function headerEndIn(carried: readonly number[], chunk: Buffer): number {
  const before = (i: number): number | undefined => (i >= 0 ? chunk[i] : carried[carried.length + i]);
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    const b1 = before(i - 1);
    if (b1 === LF || (b1 === CR && before(i - 2) === LF)) return i;
  }
  return -1;
}

function lastFourBytes(carried: readonly number[], chunk: Buffer): number[] {
  if (chunk.length >= 4) return Array.from(chunk.subarray(chunk.length - 4));
  return [...carried, ...chunk].slice(-4);
}

/**
 * The same header/body split as mailauth's `MessageParser.processChunk`, with the same header block, body chunks
 * and calls (the last four bytes are carried only while the header is read: nothing reads them after), without
 * its byte-by-byte loop: that loop pushed every header byte into an array and copied the array's last four
 * bytes for each, about 1 MB of garbage per message and 55 % of everything the gateway allocated (BENCHMARKS.md).
 */
async function processChunkByLines(this: MailauthMessageParser, input: Buffer): Promise<void> {
  if (!input || !input.length) return;
  let chunk = input;
  if (this.state === "header") {
    const end = headerEndIn(this.stateBytes, chunk);
    if (end === -1) {
      this.stateBytes = lastFourBytes(this.stateBytes, chunk);
      this.headerChunks.push(chunk);
      return;
    }
    this.state = "body";
    this.headerChunks.push(chunk.subarray(0, end + 1));
    this.headers = parseHeaderBlock(Buffer.concat(this.headerChunks));
    await this.messageHeaders(this.headers);
    if (end === chunk.length - 1) return;
    chunk = chunk.subarray(end + 1);
  }
  await this.nextChunk(chunk);
}

/** mailauth's `finish`, parsing a header block that never ended (a message of headers alone) in linear time. */
async function finishByLines(this: MailauthMessageParser): Promise<void> {
  await this.finalChunk();
  if (!this.headers && this.headerChunks.length) {
    this.headers = parseHeaderBlock(Buffer.concat(this.headerChunks));
    await this.messageHeaders(this.headers);
  }
}

/** Our header scan in mailauth's DKIM/ARC/DMARC parsing (idempotent; every thread that authenticates calls it). */
export function useLineHeaderScan(): void {
  if (!headerScanReplaceable) return;
  MessageParser.prototype.processChunk = processChunkByLines;
  MessageParser.prototype.finish = finishByLines;
}

/** mailauth's own scan again (tests compare the two). */
export function useOriginalHeaderScan(): void {
  MessageParser.prototype.processChunk = originalProcessChunk;
  MessageParser.prototype.finish = originalFinish;
}

/** mailauth's parser class itself, so tests can subclass it and record what its hooks receive. */
export const MailauthMessageParserClass: MessageParserClass = MessageParser;
