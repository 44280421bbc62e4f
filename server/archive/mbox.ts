import fs from "node:fs";

/** One message of an mbox file. */
export interface MboxMessage {
  /** The message's bytes, without the mbox format's own "From " line and blank line; empty when it is `oversize`. */
  raw: Buffer;
  /**
   * The blank line that ended it before the next "From " line or the end of the file ("\n" or "\r\n"), which is
   * the mbox format's, not the message's; null when there was none. Readers before 2026-11-30 kept it in the message.
   */
  separator: Buffer | null;
  /** Its size in bytes when it is larger than the reader's `maxBytes`: its bytes were not kept. Null otherwise. */
  oversize: number | null;
}

/** An mboxrd-escaped body line: one or more '>' (as many as the writer left, plus its own) and then "From ". */
function isEscapedFromLine(line: Buffer): boolean {
  let quotes = 0;
  while (line[quotes] === 0x3e) quotes += 1;
  return quotes > 0 && line.subarray(quotes, quotes + 5).toString("latin1") === "From ";
}

const isBlankLine = (line: Buffer | undefined): line is Buffer =>
  line !== undefined &&
  ((line.length === 1 && line[0] === 10) || (line.length === 2 && line[0] === 13 && line[1] === 10));

/**
 * Splits an mbox file into raw messages (RFC 4155 "From " separators, mboxrd ">From " unescaping). Each message
 * ends with a blank line before the next "From " line, which writers add and readers drop (as Python's `mailbox`
 * and our own export do): so a message exported as mbox reads back as the same bytes, with the same SHA-256 as its
 * .eml. A message larger than `maxBytes` is not kept in memory: it comes as `oversize`, and the next ones still come.
 * Reading is linear in the file's size, whatever its lines' lengths: a line is gathered from its chunks once it
 * ends (gathering it anew with each chunk read a 20 MB line without a newline in 8 s, 46 times a 5 MB one's time).
 * Written here because the npm mbox readers drop a final line without a newline and use the deprecated Buffer
 * constructor.
 */
export async function* readMbox(file: string, maxBytes = Infinity): AsyncGenerator<MboxMessage> {
  let current: Buffer[] = [];
  let size = 0;
  // The length of the message's last line when it is blank (the mbox's, not the message's), else 0.
  let lastBlank = 0;
  let started = false;
  const flush = (): MboxMessage => {
    const last = current[current.length - 1];
    const separator = size > maxBytes ? null : isBlankLine(last) ? last : null;
    const message =
      size > maxBytes
        ? { raw: Buffer.alloc(0), separator: null, oversize: size - lastBlank }
        : { raw: Buffer.concat(separator ? current.slice(0, -1) : current), separator, oversize: null };
    current = [];
    size = 0;
    lastBlank = 0;
    return message;
  };
  const handleLine = (line: Buffer, length = line.length): MboxMessage | null => {
    if (length === line.length && line.subarray(0, 5).toString("latin1") === "From ") {
      const done = started ? flush() : null;
      started = true;
      return done;
    }
    if (!started) throw new Error(`${file} is not an mbox file: it does not start with a "From " line.`);
    size += length;
    lastBlank = isBlankLine(line) ? length : 0;
    // Too large already: its lines are counted, not kept.
    if (size > maxBytes) current = [];
    // mboxrd: a body line ">From ", ">>From " ... was escaped by one '>'.
    else current.push(isEscapedFromLine(line) ? line.subarray(1) : line);
    return null;
  };
  // The start of a line that has not ended yet: its pieces, and its length. Pieces of a line longer than `maxBytes`
  // are not kept (such a line is no "From " line, and its message is too large): `line` then keeps its first bytes.
  let pieces: Buffer[] = [];
  let pending = 0;
  for await (const read of fs.createReadStream(file)) {
    const chunk = read as Buffer;
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(10, start)) !== -1) {
      const end = chunk.subarray(start, newline + 1);
      const line = pieces.length > 0 ? Buffer.concat([...pieces, end]) : end;
      const done = handleLine(line, pending + end.length);
      pieces = [];
      pending = 0;
      start = newline + 1;
      if (done && (done.raw.length > 0 || done.oversize !== null)) yield done;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (pending + rest.length <= maxBytes || pieces.length === 0) pieces.push(rest);
      pending += rest.length;
    }
  }
  if (pending > 0) {
    // A last line without a newline; if it is a "From " line, the message before it ends there.
    const done = handleLine(Buffer.concat(pieces), pending);
    if (done && (done.raw.length > 0 || done.oversize !== null)) yield done;
  }
  if (started) {
    const last = flush();
    if (last.raw.length > 0 || last.oversize !== null) yield last;
  }
}
