import fs from "node:fs";

/**
 * Splits an mbox file into raw messages (RFC 4155 "From " separators, mboxrd
 * ">From " unescaping). Written here because the npm mbox readers drop a
 * final line without a newline and use the deprecated Buffer constructor.
 */
export async function* readMbox(file: string): AsyncGenerator<Buffer> {
  let pending = Buffer.alloc(0);
  let current: Buffer[] = [];
  let started = false;
  const flush = () => {
    const message = Buffer.concat(current);
    current = [];
    return message;
  };
  const handleLine = (line: Buffer): Buffer | null => {
    if (line.subarray(0, 5).toString("latin1") === "From ") {
      const done = started ? flush() : null;
      started = true;
      return done;
    }
    if (!started) throw new Error(`${file} is not an mbox file: it does not start with a "From " line.`);
    // mboxrd: a body line ">From ", ">>From " ... was escaped by one '>'.
    current.push(/^>+From /.test(line.subarray(0, 64).toString("latin1")) ? line.subarray(1) : line);
    return null;
  };
  for await (const chunk of fs.createReadStream(file)) {
    pending = Buffer.concat([pending, chunk as Buffer]);
    let newline: number;
    while ((newline = pending.indexOf(10)) !== -1) {
      const done = handleLine(pending.subarray(0, newline + 1));
      pending = pending.subarray(newline + 1);
      if (done && done.length > 0) yield done;
    }
  }
  if (pending.length > 0) handleLine(pending);
  if (started) {
    const last = flush();
    if (last.length > 0) yield last;
  }
}
