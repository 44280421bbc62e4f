import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../server/logger";

/** A logger whose every line is kept, to prove what is (not) logged. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}
