import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ApiError } from "../http/errors";
import { EXPORT_LIMIT, exportManifestHashes } from "./export";
import { readMbox } from "./mbox";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/**
 * The hashes a manifest may list for a message read from an mbox export: its own, and (when it ends with a line
 * feed) without it, since the export ends a message that lacks one with one before its blank line.
 */
function exportedHashes(raw: Buffer): string[] {
  const own = sha256(raw);
  return raw[raw.length - 1] === 10 ? [own, sha256(raw.subarray(0, -1))] : [own];
}

/** Whether `listed` (a manifest's hashes) are exactly the messages read since the previous manifest, in order. */
function listsExactly(listed: string[], read: string[][]): boolean {
  return listed.length === read.length && listed.every((hash, i) => read[i]?.includes(hash) === true);
}

/** A file of a folder source, or a (sub)folder that could not be listed. */
type FolderEntry = { file: string } | { unlisted: string; error: Error };

/**
 * The .eml files under `dir` in natural order, following symbolic links (a folder of links to a mail store is still
 * that mail; each real folder is read once, so a link back up ends). A link whose target is gone is yielded: reading
 * it reports it, rather than skipping it unsaid.
 */
async function* emlFiles(dir: string, seen = new Set<string>()): AsyncGenerator<FolderEntry> {
  const real = await fs.promises.realpath(dir).catch(() => dir);
  if (seen.has(real)) return;
  seen.add(real);
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (err) {
    yield { unlisted: dir, error: err as Error };
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const target = entry.isSymbolicLink() ? await fs.promises.stat(full).catch(() => null) : entry;
    const isEml = entry.name.toLowerCase().endsWith(".eml");
    if (target?.isDirectory()) yield* emlFiles(full, seen);
    else if (isEml && (target === null || target.isFile())) yield { file: full };
  }
}

/** Why a message of `size` bytes is not imported: the same words for an .eml as for a message of an mbox. */
function tooLarge(size: number, maxMessageBytes: number): string {
  return `it is ${size} bytes, more than the ${maxMessageBytes} a message may be`;
}

/**
 * An .eml file's bytes, or its size when it is larger than `maxMessageBytes` (then never read into memory, as an
 * mbox's oversize message is not). Its size is taken from the open file, so the check and the read see one file.
 */
async function readEml(file: string, maxMessageBytes: number): Promise<Buffer | number> {
  const handle = await fs.promises.open(file, "r");
  try {
    const { size } = await handle.stat();
    if (size > maxMessageBytes) return size;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** One message of a source: `where` names it (its file, or its place in the mbox) for a report of what failed. */
export type SourcedMessage =
  | {
      where: string;
      raw: Buffer;
      /**
       * The same message as readers before 2026-11-30 took it from an mbox: with the blank line that ends it in the
       * file, so with another SHA-256. `import` and `train` look it up too, so mail they filed or learnt from an
       * mbox then is not taken again as new. Null for an .eml, or when the file had no such line.
       */
      earlierForm: Buffer | null;
    }
  /** A file of a folder that could not be read: the others are still read, and this one is counted as failed. */
  | { where: string; raw: null; unreadable: string };

/**
 * The raw messages of an mbox file or of a folder of .eml files (subfolders included, in natural order), one at a
 * time: what the CLI's `import` and `train` read, whatever the size of the source. A message (of an mbox, or an .eml
 * file of a folder) larger than `maxMessageBytes` comes as unreadable, without being held in memory.
 */
export async function* messagesIn(
  source: string,
  maxMessageBytes = Infinity,
): AsyncGenerator<SourcedMessage> {
  const stat = await fs.promises.stat(source).catch(() => null);
  if (!stat) throw new ApiError("not_found", `${source} does not exist.`);
  if (stat.isDirectory()) {
    for await (const entry of emlFiles(source)) {
      if ("unlisted" in entry) {
        yield { where: entry.unlisted, raw: null, unreadable: entry.error.message };
        continue;
      }
      const raw = await readEml(entry.file, maxMessageBytes).catch((err: Error) => err);
      if (typeof raw === "number")
        yield { where: entry.file, raw: null, unreadable: tooLarge(raw, maxMessageBytes) };
      else
        yield raw instanceof Error
          ? { where: entry.file, raw: null, unreadable: raw.message }
          : { where: entry.file, raw, earlierForm: null };
    }
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
    let index = 0;
    // Our own export ends with a manifest: skipped when it lists exactly the messages before it (since the start, or
    // since the previous manifest when exports were concatenated), so a re-import files the export's messages only.
    // An export holds at most EXPORT_LIMIT messages: past that many, an mbox is no export and needs no hashes kept.
    let read = 0;
    let hashes: string[][] = [];
    for await (const { raw, separator, oversize } of readMbox(source, maxMessageBytes)) {
      index += 1;
      if (oversize !== null) {
        read += 1;
        if (read <= EXPORT_LIMIT) hashes.push([]);
        yield {
          where: `${source}, message ${index}`,
          raw: null,
          unreadable: tooLarge(oversize, maxMessageBytes),
        };
        continue;
      }
      const listed = read <= EXPORT_LIMIT ? exportManifestHashes(raw) : null;
      if (listed && listed.length === read && listsExactly(listed, hashes)) {
        read = 0;
        hashes = [];
        continue;
      }
      read += 1;
      if (read <= EXPORT_LIMIT) hashes.push(exportedHashes(raw));
      yield {
        where: `${source}, message ${index}`,
        raw,
        earlierForm: separator ? Buffer.concat([raw, separator]) : null,
      };
    }
  }
}
