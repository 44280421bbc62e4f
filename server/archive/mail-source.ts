import fs from "node:fs";
import path from "node:path";
import { ApiError } from "../http/errors";
import { readMbox } from "./mbox";

async function* emlFiles(dir: string): AsyncGenerator<string> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* emlFiles(full);
    else if (entry.isFile() && entry.name.toLowerCase().endsWith(".eml")) yield full;
  }
}

/** One message of a source. */
export interface SourcedMessage {
  raw: Buffer;
  /**
   * The same message as readers before 2026-11-30 took it from an mbox: with the blank line that ends it in the
   * file, so with another SHA-256. `import` and `train` look it up too, so mail they filed or learnt from an mbox
   * then is not taken again as new. Null for an .eml, or when the file had no such line.
   */
  earlierForm: Buffer | null;
}

/**
 * The raw messages of an mbox file or of a folder of .eml files (subfolders included, in natural order), one at a
 * time: what the CLI's `import` and `train` read, whatever the size of the source.
 */
export async function* messagesIn(source: string): AsyncGenerator<SourcedMessage> {
  const stat = await fs.promises.stat(source).catch(() => null);
  if (!stat) throw new ApiError("not_found", `${source} does not exist.`);
  if (stat.isDirectory()) {
    for await (const file of emlFiles(source))
      yield { raw: await fs.promises.readFile(file), earlierForm: null };
  } else {
    const handle = await fs.promises.open(source, "r");
    const start = Buffer.alloc(5);
    const { bytesRead } = await handle.read(start, 0, 5, 0).finally(() => handle.close());
    if (bytesRead === 0) return; // an empty mailbox
    if (start.toString("latin1") !== "From ")
      throw new ApiError(
        "invalid_request",
        `${source} is neither a folder of .eml files nor an mbox file (an mbox starts with a "From " line).`,
      );
    for await (const { raw, separator } of readMbox(source))
      yield { raw, earlierForm: separator ? Buffer.concat([raw, separator]) : null };
  }
}
