/**
 * File-type knowledge for attachment checks: which extensions run code, which
 * are archives or Office documents, and what a file's first bytes say it is.
 */

import type { SniffedType } from "./file-sniff";

export { sniff, type SniffedType } from "./file-sniff";

/** Extensions that run code when opened on Windows/macOS (or mount as a disk that does). */
export const EXECUTABLE_EXTENSIONS = new Set([
  "exe",
  "scr",
  "com",
  "pif",
  "cpl",
  "dll",
  "sys",
  "msi",
  "msp",
  "mst",
  "msix",
  "msixbundle",
  "appx",
  "appxbundle",
  "application",
  "gadget",
  "lnk",
  "scf",
  "reg",
  "inf",
  "jar",
  "iso",
  "img",
  "vhd",
  "vhdx",
  "xll",
  "app",
  "dmg",
  "pkg",
  "apk",
  "elf",
  "run",
  "chm",
  "hlp",
  "cab",
  "url",
  "settingcontent-ms",
  "library-ms",
  "search-ms",
  "diagcab",
  // OneNote notebooks: a lure page over an embedded script or program, the top malware carrier of 2023.
  "one",
  "onepkg",
  // Java Web Start, ClickOnce and App Installer manifests: each fetches and runs a program from a link.
  "jnlp",
  "appref-ms",
  "appinstaller",
  "xbap",
  // Remote Desktop connections that hand the sender's server our drives and clipboard (2024 campaigns).
  "rdp",
  "msu",
  "wsb",
  "website",
  "appcontent-ms",
  // Windows themes fetch files from a server named inside them (CVE-2023-38146).
  "theme",
  "themepack",
  "desktopthemepackfile",
]);

/** Extensions that are scripts a double-click runs with a built-in interpreter (not .sh/.py: those need a shell). */
export const SCRIPT_EXTENSIONS = new Set([
  "js",
  "jse",
  "vbs",
  "vbe",
  "wsf",
  "wsc",
  "wsh",
  "hta",
  "ps1",
  "psm1",
  "psd1",
  "ps1xml",
  "bat",
  "cmd",
  "sct",
  "command",
  "applescript",
  "scpt",
  "msc",
  "vb",
  "ws",
  "psc1",
  "pssc",
]);

/** Office formats that carry macros by definition. */
export const MACRO_EXTENSIONS = new Set([
  "docm",
  "dotm",
  "xlsm",
  "xltm",
  "xlam",
  "xlsb",
  "pptm",
  "potm",
  "ppam",
  "ppsm",
  "sldm",
  // Excel 4.0 macro sheets and add-ins, and SYLK files, which carry Excel 4.0 macros.
  "xlm",
  "xla",
  "ppa",
  "slk",
  // Excel web queries: the sheet is fetched from the sender's server when opened.
  "iqy",
  "vsdm",
  "vssm",
  "vstm",
]);

/** Office formats that may carry macros (OLE) or are OOXML zips worth opening. */
export const OFFICE_EXTENSIONS = new Set([
  "doc",
  "dot",
  "xls",
  "xlt",
  "ppt",
  "pps",
  "pot",
  "docx",
  "xlsx",
  "pptx",
  "ppsx",
  "dotx",
  "xltx",
  "potx",
]);

/** Archives we open and look inside. */
export const ZIP_EXTENSIONS = new Set(["zip", "zipx", "jar", "docx", "xlsx", "pptx"]);

/** Archives we cannot open here; their content stays unknown. */
export const OPAQUE_ARCHIVE_EXTENSIONS = new Set([
  "rar",
  "7z",
  "ace",
  "arj",
  "lzh",
  "lha",
  "tar",
  "gz",
  "tgz",
  "bz2",
  "xz",
  "z",
  "uue",
  "r00",
  "r01",
]);

/** Web pages and images that can carry script. */
export const HTML_EXTENSIONS = new Set(["htm", "html", "shtml", "xhtml", "mht", "mhtml", "svg", "xht"]);

/**
 * Whether a file opens as a web page, by its extension, its first bytes or its declared type: the attachment check
 * inspects such a file's markup, and the scanner checks its links as the body's.
 */
export function isWebPageFile(ext: string, sniffed: SniffedType, contentType: string): boolean {
  return HTML_EXTENSIONS.has(ext) || sniffed === "html" || /^text\/html\b/i.test(contentType);
}

/** Harmless-looking document and image extensions that attackers put in front of a real one. */
export const DECOY_EXTENSIONS = new Set([
  "pdf",
  "doc",
  "docx",
  "xls",
  "xlsx",
  "txt",
  "jpg",
  "jpeg",
  "png",
  "gif",
  "rtf",
  "csv",
  "ppt",
  "pptx",
  "mp3",
  "mp4",
  "zip",
]);

/** The file name's extensions, last first, lower-case: `a.pdf.exe` → [`exe`, `pdf`]. */
export function extensionsOf(fileName: string): string[] {
  // Strip bidi controls and zero-width characters that hide the real extension.
  const clean = fileName
    .replace(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, "")
    .trim()
    .replace(/[.\s]+$/, "");
  const base = clean.split(/[\\/]/).pop() ?? "";
  const parts = base
    .split(".")
    .slice(1)
    .map((p) => p.trim().toLowerCase());
  return parts.reverse().filter((p) => p.length > 0 && p.length <= 20);
}

/** True when the name hides its extension with a right-to-left override or similar control character. */
export function hasBidiTrick(fileName: string): boolean {
  return /[\u202a-\u202e\u2066-\u2069]/.test(fileName);
}

/** Which sniffed types a given extension is allowed to be; empty when we have no opinion. */
export function expectedTypes(ext: string): SniffedType[] {
  switch (ext) {
    case "pdf":
      return ["pdf"];
    case "jpg":
    case "jpeg":
      return ["jpeg"];
    case "png":
      return ["png"];
    case "gif":
      return ["gif"];
    case "docx":
    case "xlsx":
    case "pptx":
    case "zip":
      return ["zip"];
    case "doc":
    case "xls":
    case "ppt":
      return ["ole", "rtf", "html"];
    case "txt":
    case "csv":
      return ["unknown", "html"];
    case "rtf":
      return ["rtf"];
    default:
      return [];
  }
}

/** Declared MIME types each common extension may carry; empty when any type is acceptable. */
const DECLARED_TYPES: Record<string, RegExp> = {
  pdf: /^application\/(pdf|x-pdf|acrobat)$/,
  jpg: /^image\/(jpe?g|pjpeg)$/,
  jpeg: /^image\/(jpe?g|pjpeg)$/,
  png: /^image\/png$/,
  gif: /^image\/gif$/,
  zip: /^application\/(zip|x-zip|x-zip-compressed)$/,
  docx: /^application\/(vnd\.openxmlformats-officedocument\.wordprocessingml\.document|msword|vnd\.ms-word.*)$/,
  xlsx: /^application\/(vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet|vnd\.ms-excel.*)$/,
  txt: /^text\/plain$/,
};

/** Types that say nothing about the content (mail clients use them for anything). */
const GENERIC_TYPES =
  /^(application\/(octet-stream|x-download|force-download|unknown|binary|download)|binary\/octet-stream|)$/;

/** True when a part's declared Content-Type contradicts its file extension (e.g. `a.pdf` sent as `image/png`). */
export function declaredTypeMismatch(ext: string, contentType: string): boolean {
  const declared = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const expected = DECLARED_TYPES[ext];
  if (!expected || GENERIC_TYPES.test(declared)) return false;
  return !expected.test(declared);
}
