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
}

interface MessageParserClass {
  new (): MailauthMessageParser & Writable;
  prototype: MailauthMessageParser;
}

const requireFromHere = createRequire(import.meta.url);
const { MessageParser } = requireFromHere("mailauth/lib/dkim/message-parser.js") as {
  MessageParser: MessageParserClass;
};
const { parseHeaders } = requireFromHere("mailauth/lib/tools.js") as {
  parseHeaders: (block: Buffer) => unknown;
};

/** mailauth's own header scan, kept for the equivalence tests and for putting it back. */
export const originalProcessChunk = MessageParser.prototype.processChunk;

/** SHA-256 of the source of mailauth 4.13.3's `processChunk`, the one the replacement was checked against. */
const CHECKED_SOURCE_SHA256 = "d1ffdac11b5b24e0b712b09808441aadfea2ee370f0a3742e145e9c1978c670a";

/**
 * Whether this mailauth's `processChunk` is the one the replacement below was checked against. After an upgrade that
 * changed it, mailauth keeps its own (and the wiring test fails, asking for the replacement to be checked again).
 */
export const headerScanReplaceable =
  createHash("sha256").update(originalProcessChunk.toString()).digest("hex") === CHECKED_SOURCE_SHA256;

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
    this.headers = parseHeaders(Buffer.concat(this.headerChunks));
    await this.messageHeaders(this.headers);
    if (end === chunk.length - 1) return;
    chunk = chunk.subarray(end + 1);
  }
  await this.nextChunk(chunk);
}

/** Our header scan in mailauth's DKIM/ARC/DMARC parsing (idempotent; every thread that authenticates calls it). */
export function useLineHeaderScan(): void {
  if (headerScanReplaceable) MessageParser.prototype.processChunk = processChunkByLines;
}

/** mailauth's own scan again (tests compare the two). */
export function useOriginalHeaderScan(): void {
  MessageParser.prototype.processChunk = originalProcessChunk;
}

/** mailauth's parser class itself, so tests can subclass it and record what its hooks receive. */
export const MailauthMessageParserClass: MessageParserClass = MessageParser;
