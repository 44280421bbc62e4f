import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Splitter, Streamer } from "@zone-eu/mailsplit";
import type { AttachmentLike } from "./attachments";

/** The most named text parts of one message we read. */
const MAX_PARTS = 50;
/** The most bytes of a named text part we read: one this long may have been cut. */
export const NAMED_PART_MAX_BYTES = 2 * 1024 * 1024;

/** mailparser reads these as body text unless their disposition says "attachment". */
const BODY_TYPES = new Set(["text/plain", "text/html"]);

// A text part's header naming a file: `Content-Type: text/plain; name="x.js"` or `Content-Disposition: inline;
// filename=…`, folded lines included. Only a gate, so that messages without one are not split a second time.
const NAMED_TEXT_HEADER =
  /^content-(?:type:[ \t]*text\/(?:plain|html)|disposition:[ \t]*inline)\b[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/gim;

function mayHaveNamedTextPart(raw: Buffer): boolean {
  const source = raw.toString("latin1");
  const re = new RegExp(NAMED_TEXT_HEADER.source, NAMED_TEXT_HEADER.flags);
  for (let m = re.exec(source); m; m = re.exec(source)) if (/name\*?[\d*]*\s*=/i.test(m[0])) return true;
  return false;
}

interface NodeShape {
  contentType: string | false;
  parentNode: NodeShape | false;
}

function insideAttachedMessage(node: NodeShape): boolean {
  for (let parent = node.parentNode; parent; parent = parent.parentNode)
    if (parent.contentType === "message/rfc822") return true;
  return false;
}

/** Each message's named text parts, by its bytes: the scanner and the archive both ask, and the split is made once. */
const splits = new WeakMap<Buffer, Promise<readonly AttachmentLike[]>>();

/**
 * The text parts that name a file but that mailparser reads as body text, for the attachment checks and the
 * archive's search text: a `text/plain; name="x.js"` part with no disposition (or `inline`) is shown as an
 * attachment by Outlook and Thunderbird, and saved and opened under that name, yet mailparser lists no attachment
 * for it. Parts inside an attached message are left to that message's own pass. Found once per message (the same
 * parts for every caller, which must not change them). Never throws: a message it cannot split yields what it read.
 */
export function namedTextParts(raw: Buffer): Promise<readonly AttachmentLike[]> {
  let split = splits.get(raw);
  if (!split) {
    split = splitNamedTextParts(raw);
    splits.set(raw, split);
  }
  return split;
}

async function splitNamedTextParts(raw: Buffer): Promise<AttachmentLike[]> {
  if (!mayHaveNamedTextPart(raw)) return [];
  const parts: AttachmentLike[] = [];
  const streamer = new Streamer(
    (node) =>
      parts.length < MAX_PARTS &&
      node.filename !== false &&
      node.contentType !== false &&
      BODY_TYPES.has(node.contentType) &&
      (node.disposition === false || node.disposition === "inline") &&
      !insideAttachedMessage(node),
  );
  streamer.on("node", ({ node, decoder, done }) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (): void => {
      if (!finished) done();
      finished = true;
    };
    decoder.on("data", (chunk: Buffer) => {
      if (size < NAMED_PART_MAX_BYTES) chunks.push(chunk.subarray(0, NAMED_PART_MAX_BYTES - size));
      size += chunk.length;
    });
    decoder.on("error", finish);
    decoder.on("end", () => {
      const charset = node.charset ? `; charset=${node.charset}` : "";
      parts.push({
        filename: node.filename || undefined,
        contentType: `${node.contentType || "text/plain"}${charset}`,
        content: Buffer.concat(chunks),
      });
      finish();
    });
  });
  try {
    await pipeline(Readable.from([raw]), new Splitter(), streamer, async (chunks) => {
      for await (const chunk of chunks) void chunk; // drained: the streamer passes every chunk on
    });
  } catch {
    // A message mailsplit cannot split: the parts read before the failure are kept.
  }
  return parts;
}
