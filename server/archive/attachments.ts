import type { ParsedMail } from "mailparser";
import {
  EXECUTABLE_EXTENSIONS,
  extensionsOf,
  MACRO_EXTENSIONS,
  SCRIPT_EXTENSIONS,
} from "../mail/scan/file-types";

/** One attachment as the detail view lists it (its position is its download index). */
export interface AttachmentSummary {
  filename: string;
  contentType: string;
  size: number;
}

/** The attachments of a parsed message, in MIME order (the order the download index refers to). */
export function attachmentsOf(parsed: ParsedMail): AttachmentSummary[] {
  return (parsed.attachments ?? []).map((a, index) => ({
    filename: a.filename ?? `attachment-${index + 1}`,
    contentType: a.contentType || "application/octet-stream",
    size: a.size ?? a.content.length,
  }));
}

/**
 * Executables, scripts and macro documents: only a security admin may download them from the archive. The
 * extension is read as the scanner reads it: trailing dots and spaces (which Windows drops when it saves
 * the file, so "setup.exe." runs) and invisible characters do not hide it.
 */
export function isDangerousAttachment(filename: string): boolean {
  const extension = extensionsOf(filename)[0] ?? "";
  return (
    EXECUTABLE_EXTENSIONS.has(extension) ||
    SCRIPT_EXTENSIONS.has(extension) ||
    MACRO_EXTENSIONS.has(extension)
  );
}

/** `cid:` images of the message as data URIs, for the sanitizer's cidResolver. */
export function cidResolverFor(parsed: ParsedMail): (contentId: string) => string | null {
  const images = new Map<string, string>();
  for (const a of parsed.attachments ?? []) {
    const cid = a.cid ?? a.contentId?.replace(/^<|>$/g, "");
    if (!cid || !/^image\/(png|jpeg|gif|webp|bmp)$/i.test(a.contentType) || a.content.length > 2_000_000)
      continue;
    images.set(cid, `data:${a.contentType.toLowerCase()};base64,${a.content.toString("base64")}`);
  }
  return (contentId) => images.get(contentId.replace(/^<|>$/g, "")) ?? null;
}
