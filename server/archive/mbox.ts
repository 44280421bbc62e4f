import fs from "node:fs";

/** One message of an mbox file. */
export interface MboxMessage {
  /** The message's bytes, without the mbox format's own "From " line and blank line. */
  raw: Buffer;
  /**
   * The blank line that ended it before the next "From " line or the end of the file ("\n" or "\r\n"), which is
   * the mbox format's, not the message's; null when there was none. Readers before 2026-11-30 kept it in the message.
   */
  separator: Buffer | null;
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
 * .eml. Written here because the npm mbox readers drop a final line without a newline and use the deprecated Buffer
 * constructor.
 */
export async function* readMbox(file: string): AsyncGenerator<MboxMessage> {
  let pending = Buffer.alloc(0);
  let current: Buffer[] = [];
  let started = false;
  const flush = (): MboxMessage => {
    const last = current[current.length - 1];
    const separator = isBlankLine(last) ? last : null;
    const message = { raw: Buffer.concat(separator ? current.slice(0, -1) : current), separator };
    current = [];
    return message;
  };
  const handleLine = (line: Buffer): MboxMessage | null => {
    if (line.subarray(0, 5).toString("latin1") === "From ") {
      const done = started ? flush() : null;
      started = true;
      return done;
    }
    if (!started) throw new Error(`${file} is not an mbox file: it does not start with a "From " line.`);
    // mboxrd: a body line ">From ", ">>From " ... was escaped by one '>'.
    current.push(isEscapedFromLine(line) ? line.subarray(1) : line);
    return null;
  };
  for await (const chunk of fs.createReadStream(file)) {
    pending = Buffer.concat([pending, chunk as Buffer]);
    let newline: number;
    while ((newline = pending.indexOf(10)) !== -1) {
      const done = handleLine(pending.subarray(0, newline + 1));
      pending = pending.subarray(newline + 1);
      if (done && done.raw.length > 0) yield done;
    }
  }
  if (pending.length > 0) handleLine(pending);
  if (started) {
    const last = flush();
    if (last.raw.length > 0) yield last;
  }
}
