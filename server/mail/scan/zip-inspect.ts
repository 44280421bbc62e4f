import type { Readable } from "node:stream";
import yauzl from "yauzl";

/** Bounds on how far we look into an archive, so hostile zips cost little. */
export interface ZipLimits {
  maxEntries: number;
  maxDepth: number;
  /** Sum of declared uncompressed sizes above which the archive counts as a zip bomb. */
  maxTotalUncompressed: number;
  /** Declared compression ratio above which an entry counts as a zip bomb (for entries over 1 MiB). */
  maxRatio: number;
  /** Largest entry we decompress to look inside (nested zips, Office files, web pages). */
  maxEntryBytes: number;
}

/** The default limits: 2,000 entries, 3 levels, 200 MiB declared, ratio 200, 8 MiB read per entry. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 2000,
  maxDepth: 3,
  maxTotalUncompressed: 200 * 1024 * 1024,
  maxRatio: 200,
  maxEntryBytes: 8 * 1024 * 1024,
};

/** One file inside an archive (path includes nested archive names: `outer.zip/inner.zip/x.exe`). */
export interface ZipMember {
  path: string;
  name: string;
  encrypted: boolean;
  uncompressedSize: number;
  /** The first bytes (or all, for small entries we chose to read); null when not read. */
  content: Buffer | null;
}

/** What looking into an archive found. */
export interface ZipReport {
  members: ZipMember[];
  encrypted: boolean;
  bomb: string | null;
  /** Set when the archive could not be read (corrupt, truncated); its members are then partial. */
  error: string | null;
  /** Set when the listing stopped before its end (here or in a nested archive): the files past it went unchecked. */
  truncated: boolean;
}

/** Members we decompress to look at: nested archives, Office documents, web pages, executables' headers. */
function wantsContent(name: string): boolean {
  return (
    /\.(zip|jar|docx|docm|xlsx|xlsm|pptx|pptm|dotm|xltm|xlam|doc|xls|ppt|htm|html|shtml|xhtml|svg|pdf|txt|bin|dat)$/i.test(
      name,
    ) || !/\.[^./]{1,8}$/.test(name)
  );
}

async function readBounded(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) {
      stream.destroy();
      throw new Error("entry larger than the read limit");
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

interface WalkState {
  report: ZipReport;
  entriesSeen: number;
  totalUncompressed: number;
}

/** Reads the next central-directory entry; null at the end. Errors reject instead of being thrown from an emitter. */
function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off("entry", onEntry);
      zip.off("end", onEnd);
      zip.off("error", onError);
    };
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: unknown) => {
      cleanup();
      reject(err instanceof Error ? err : new Error("zip error"));
    };
    zip.on("entry", onEntry);
    zip.on("end", onEnd);
    zip.on("error", onError);
    zip.readEntry();
  });
}

async function walk(
  buffer: Buffer,
  prefix: string,
  depth: number,
  limits: ZipLimits,
  state: WalkState,
): Promise<void> {
  const zip = await yauzl.fromBufferPromise(buffer, {
    lazyEntries: true,
    autoClose: false,
    validateEntrySizes: true,
    strictFileNames: false,
    // Names are decoded below without yauzl's check, which ends the listing at a `../` or absolute path: a program
    // after such an entry went unseen. A scanner extracts nothing, so any name is safe to read.
    decodeStrings: false,
  });
  // A late error with no listener would crash the process; keep one attached for the zip's lifetime.
  zip.on("error", () => undefined);
  try {
    if (zip.entryCount > limits.maxEntries) {
      state.report.bomb = `${zip.entryCount} entries (more than ${limits.maxEntries})`;
      return;
    }
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      state.entriesSeen += 1;
      if (state.entriesSeen > limits.maxEntries) {
        state.report.bomb = `more than ${limits.maxEntries} entries in nested archives`;
        return;
      }
      const fileName = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        false,
      );
      const path = `${prefix}${fileName}`;
      if (fileName.endsWith("/")) continue;
      const encrypted = entry.isEncrypted();
      state.totalUncompressed += entry.uncompressedSize;
      const ratio =
        entry.compressedSize > 0
          ? entry.uncompressedSize / entry.compressedSize
          : entry.uncompressedSize > 0
            ? Infinity
            : 0;
      if (state.totalUncompressed > limits.maxTotalUncompressed) {
        state.report.bomb = `expands to more than ${Math.round(limits.maxTotalUncompressed / 1048576)} MiB`;
      } else if (entry.uncompressedSize > 1024 * 1024 && ratio > limits.maxRatio) {
        state.report.bomb = `${fileName} is compressed ${Math.round(ratio)}:1`;
      }
      const member: ZipMember = {
        path,
        name: fileName.split("/").pop() ?? fileName,
        encrypted,
        uncompressedSize: entry.uncompressedSize,
        content: null,
      };
      state.report.members.push(member);
      if (encrypted) {
        state.report.encrypted = true;
        continue;
      }
      if (state.report.bomb) return;
      if (!wantsContent(fileName) || entry.uncompressedSize > limits.maxEntryBytes) continue;
      try {
        const stream = await zip.openReadStreamPromise(entry);
        member.content = await readBounded(stream, limits.maxEntryBytes);
      } catch (err) {
        // A member that lies about its size (validateEntrySizes) or is corrupt.
        state.report.error = err instanceof Error ? err.message.slice(0, 200) : "unreadable entry";
        continue;
      }
      if (/\.(zip|jar)$/i.test(fileName) && member.content) {
        if (depth + 1 >= limits.maxDepth) {
          state.report.bomb = `archives nested more than ${limits.maxDepth} deep`;
          return;
        }
        await walk(member.content, `${path}/`, depth + 1, limits, state).catch((err: unknown) => {
          state.report.error = err instanceof Error ? err.message.slice(0, 200) : "unreadable nested archive";
          state.report.truncated = true;
        });
        if (state.report.bomb) return;
      }
    }
  } finally {
    zip.close();
  }
}

/**
 * Lists what a zip holds, within `limits`: encrypted members, nested archives
 * (up to `maxDepth`), and signs of a zip bomb. Never throws; a broken archive is
 * reported in `error`.
 */
export async function inspectZip(buffer: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipReport> {
  const state: WalkState = {
    report: { members: [], encrypted: false, bomb: null, error: null, truncated: false },
    entriesSeen: 0,
    totalUncompressed: 0,
  };
  try {
    await walk(buffer, "", 0, limits, state);
  } catch (err) {
    state.report.error = err instanceof Error ? err.message.slice(0, 200) : "unreadable archive";
    state.report.truncated = true;
  }
  return state.report;
}
