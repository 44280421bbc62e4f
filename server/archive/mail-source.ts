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

/**
 * The raw messages of an mbox file or of a folder of .eml files (subfolders included, in natural order), one at a
 * time: what the CLI's `import` and `train` read, whatever the size of the source.
 */
export async function* messagesIn(source: string): AsyncGenerator<Buffer> {
  const stat = await fs.promises.stat(source).catch(() => null);
  if (!stat) throw new ApiError("not_found", `${source} does not exist.`);
  if (stat.isDirectory()) {
    for await (const file of emlFiles(source)) yield await fs.promises.readFile(file);
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
    yield* readMbox(source);
  }
}
