import { webPageText } from "./web-page";

// What a file is by its first bytes, whatever its name says (file-types.ts re-exports it).

/** What the first bytes of a file say it is. */
export type SniffedType =
  | "pe"
  | "elf"
  | "macho"
  | "zip"
  | "ole"
  | "pdf"
  | "png"
  | "jpeg"
  | "gif"
  | "rar"
  | "7z"
  | "gzip"
  | "html"
  | "rtf"
  | "unknown";

/** Identifies a file by its magic bytes. */
export function sniff(content: Buffer): SniffedType {
  const b = content;
  if (b.length >= 2 && b[0] === 0x4d && b[1] === 0x5a) return "pe";
  if (b.length >= 4 && b.readUInt32BE(0) === 0x7f454c46) return "elf";
  if (
    b.length >= 4 &&
    [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(b.readUInt32BE(0))
  )
    return "macho";
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 0x03 || b[2] === 0x05 || b[2] === 0x07))
    return "zip";
  if (b.length >= 8 && b.readUInt32BE(0) === 0xd0cf11e0 && b.readUInt32BE(4) === 0xa1b11ae1) return "ole";
  if (b.length >= 4 && b.toString("latin1", 0, 4) === "%PDF") return "pdf";
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 4 && b.toString("latin1", 0, 4) === "GIF8") return "gif";
  if (b.length >= 4 && b.toString("latin1", 0, 4) === "Rar!") return "rar";
  if (b.length >= 6 && b.readUInt32BE(0) === 0x377abcaf) return "7z";
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.length >= 5 && b.toString("latin1", 0, 5) === "{\\rtf") return "rtf";
  // Through webPageText: a page written in UTF-16 is a page too.
  const head = webPageText(b.subarray(0, 1024)).slice(0, 512).trimStart().toLowerCase();
  if (
    head.startsWith("<!doctype html") ||
    head.startsWith("<html") ||
    head.startsWith("<script") ||
    head.startsWith("<svg")
  )
    return "html";
  return "unknown";
}
