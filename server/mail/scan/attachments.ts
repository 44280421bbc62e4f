import {
  DECOY_EXTENSIONS,
  EXECUTABLE_EXTENSIONS,
  MACRO_EXTENSIONS,
  OPAQUE_ARCHIVE_EXTENSIONS,
  SCRIPT_EXTENSIONS,
  declaredTypeMismatch,
  expectedTypes,
  extensionsOf,
  hasBidiTrick,
  isWebPageFile,
  sniff,
} from "./file-types";
import { oleHasMacros, ooxmlHasMacros } from "./office";
import { headerParam } from "./parse";
import type { Signal } from "./types";
import { metaRefreshUrls, webPageText } from "./web-page";
import { signal, type SignalId } from "./weights";
import { DEFAULT_ZIP_LIMITS, inspectZip, type ZipLimits } from "./zip-inspect";

/** The parts of an attachment we look at (mailparser's Attachment satisfies it). */
export interface AttachmentLike {
  filename?: string | undefined;
  contentType?: string | undefined;
  content: Buffer;
  /** The part's parsed header fields (mailparser's): where its other names are. */
  headers?: ReadonlyMap<string, unknown> | undefined;
}

/**
 * Every name a mail client may show or save the part under: mailparser keeps only the disposition's filename, but
 * clients differ on which of it and the type's name they use, so `invoice.pdf` beside `invoice.pdf.exe` is checked
 * as both. The first is mailparser's.
 */
function namesOf(att: AttachmentLike, index: number): string[] {
  const names = [
    att.filename ?? "",
    headerParam(att.headers, "content-disposition", "filename"),
    headerParam(att.headers, "content-type", "name"),
  ].map((name) => name.slice(0, 255));
  const distinct = [...new Set(names.filter((name) => name !== ""))];
  return distinct.length > 0 ? distinct : [`attachment ${index + 1}`];
}

/** Attachment findings grouped per signal id, with the file names behind each. */
type Findings = Map<SignalId, string[]>;

function add(findings: Findings, id: SignalId, what: string): void {
  const list = findings.get(id) ?? [];
  if (list.length < 5 && !list.includes(what)) list.push(what);
  findings.set(id, list);
}

const EXECUTABLE_MIME =
  /^application\/(x-msdownload|x-msdos-program|x-dosexec|x-executable|vnd\.microsoft\.portable-executable|hta|x-ms-shortcut|x-ms-installer|x-msi|x-java-jnlp-file|x-ms-application|onenote)\b/i;
const SCRIPT_MIME =
  /^(application|text)\/(javascript|x-javascript|vbscript|x-vbscript|x-powershell|x-bat|x-msdos-batch)\b/i;

const SMUGGLING = [
  /atob\s*\(/i,
  /new\s+Blob\s*\(/i,
  /createObjectURL/i,
  /msSaveOrOpenBlob/i,
  // A file name of at most 255 characters: unbounded, each ".download=" rescanned the text after it (330 s on 2 MB).
  /\.download\s*=\s*["'`]?[^"'`\s]{0,255}\.(exe|zip|iso|img|js|hta|vbs|msi)/i,
];
const HIDDEN_CODE = [
  /document\.write\s*\(\s*(unescape|decodeURIComponent|atob)\s*\(/i,
  /eval\s*\(\s*(atob|unescape|String\.fromCharCode)/i,
  /window\.location(\.href)?\s*=\s*["'`]https?:/i,
];

// An event-handler attribute in a tag (`<body onload=`, `<svg/onload=`, `<img onerror=`) runs script as <script> does.
// Within one tag ([^<>]), so each character is read from one "<" only.
const EVENT_HANDLER = /<[a-z][^<>]*?[\s/]on[a-z]+\s*=/i;

/** A refresh that leaves the page for a web address, or runs code: the page only forwards its reader. */
const LEAVING_URL = /^(?:[a-z][a-z0-9+.-]*:|[/\\]{2})/i;

/** Inspects an attached web page (or SVG image) and records in `findings` the signal it deserves, when it deserves one. */
function checkHtml(file: FileToCheck, ext: string, content: Buffer, findings: Findings): void {
  const name = file.insideArchive ?? file.name;
  const html = webPageText(content, file.contentType);
  const hasScript = /<script/i.test(html) || EVENT_HANDLER.test(html);
  if (hasScript && SMUGGLING.some((re) => re.test(html))) {
    add(findings, "attachment.html_smuggling", name);
    return;
  }
  // An image has no use for script: an SVG with some opens in the browser and runs it (redirects, smuggling).
  if (hasScript && (ext === "svg" || /^image\/svg/i.test(file.contentType))) {
    add(findings, file.insideArchive ? "attachment.archive_dangerous" : "attachment.script", name);
    return;
  }
  const passwordForm = /<form/i.test(html) && /type\s*=\s*["']?password/i.test(html);
  // Within the tag: [^>]+ ran from each "<form" to the next ">", so "<form " repeated took minutes on 2 MB.
  const externalPost = /<form[^<>]+action\s*=\s*["']?https?:/i.test(html);
  const redirects = metaRefreshUrls(html).some((url) => LEAVING_URL.test(url.replace(/[\t\n\r]/g, "")));
  if (passwordForm || externalPost || redirects || (hasScript && HIDDEN_CODE.some((re) => re.test(html)))) {
    add(findings, "attachment.html_form", name);
  }
}

interface FileToCheck {
  name: string;
  contentType: string;
  content: Buffer | null;
  /** Set for files found inside an archive: the archive path shown to people. */
  insideArchive: string | null;
  /** Set when this content was already opened as an archive under another name of the same part. */
  archiveOpened?: boolean;
}

/** How many archives one message may make us open; beyond it they count as unscannable. */
export const MAX_ARCHIVES_PER_MESSAGE = 50;

/** What one message's checks share: the archives left to open, and who wants the files read inside them. */
interface Budget {
  archives: number;
  /** Given each file read inside an archive (web pages' links are checked as the body's). */
  onArchivedFile: ((file: AttachmentLike) => void) | undefined;
}

async function checkFile(
  file: FileToCheck,
  findings: Findings,
  limits: ZipLimits,
  budget: Budget,
): Promise<void> {
  const { name, content } = file;
  const exts = extensionsOf(name);
  const ext = exts[0] ?? "";
  const sniffed = content ? sniff(content) : "unknown";
  const shown = file.insideArchive ?? name;
  const runs =
    EXECUTABLE_EXTENSIONS.has(ext) ||
    sniffed === "pe" ||
    sniffed === "elf" ||
    sniffed === "macho" ||
    EXECUTABLE_MIME.test(file.contentType);
  const script = SCRIPT_EXTENSIONS.has(ext) || SCRIPT_MIME.test(file.contentType);

  if (hasBidiTrick(name) || (exts.length >= 2 && DECOY_EXTENSIONS.has(exts[1] ?? "") && (runs || script))) {
    add(findings, "attachment.double_extension", shown);
  }
  if (runs || script) {
    if (file.insideArchive) add(findings, "attachment.archive_dangerous", shown);
    else add(findings, runs ? "attachment.executable" : "attachment.script", shown);
  }
  if (MACRO_EXTENSIONS.has(ext) || (sniffed === "ole" && content && oleHasMacros(content))) {
    add(findings, "attachment.macro", shown);
  }
  if (content && isWebPageFile(ext, sniffed, file.contentType)) checkHtml(file, ext, content, findings);
  const expected = expectedTypes(ext);
  if (content && !runs && expected.length > 0 && sniffed !== "unknown" && !expected.includes(sniffed)) {
    add(findings, "attachment.type_mismatch", `${shown} is really ${sniffed}`);
  } else if (!runs && !file.insideArchive && declaredTypeMismatch(ext, file.contentType)) {
    add(
      findings,
      "attachment.type_mismatch",
      `${shown} is sent as ${file.contentType.split(";")[0]?.trim()}`,
    );
  }
  if (file.archiveOpened) {
    // Checked under the part's first name: opening it again would only repeat those findings.
  } else if (!file.insideArchive && content && sniffed === "zip") {
    if (budget.archives <= 0)
      add(findings, "attachment.unscannable_archive", `${shown} (too many archives in one message)`);
    else {
      budget.archives -= 1;
      await checkArchive(file, content, findings, limits, budget);
    }
  } else if (OPAQUE_ARCHIVE_EXTENSIONS.has(ext) || sniffed === "rar" || sniffed === "7z") {
    // Inside a zip too: a rar in a zip hides its files as well as a rar attached.
    add(findings, "attachment.unscannable_archive", shown);
  }
}

async function checkArchive(
  file: FileToCheck,
  content: Buffer,
  findings: Findings,
  limits: ZipLimits,
  budget: Budget,
): Promise<void> {
  const report = await inspectZip(content, limits);
  if (report.bomb) add(findings, "attachment.zip_bomb", `${file.name}: ${report.bomb}`);
  if (report.encrypted) add(findings, "attachment.encrypted_archive", file.name);
  if (ooxmlHasMacros(report.members.map((m) => m.path))) add(findings, "attachment.macro", file.name);
  // Not only when nothing was listed: an entry the reader refuses ends the listing, and hid the files after it.
  if (report.truncated && !report.bomb) add(findings, "attachment.unscannable_archive", file.name);
  for (const member of report.members) {
    // Named by its path from the attachment ("Statement.zip/docs/login.html"), as the signals show where a link was.
    if (member.content)
      budget.onArchivedFile?.({
        filename: `${file.insideArchive ?? file.name}/${member.path}`,
        content: member.content,
      });
    // A nested zip the reader did not open (larger than it reads): its name was checked, what it holds was not.
    if (!report.bomb && !member.encrypted && member.content === null && /\.(zip|jar)$/i.test(member.name))
      add(findings, "attachment.unscannable_archive", `${file.name}/${member.path}`);
    await checkFile(
      {
        name: member.name,
        contentType: "",
        content: member.content,
        insideArchive: `${file.name}/${member.path}`,
      },
      findings,
      limits,
      budget,
    );
    if (
      member.content &&
      sniff(member.content) === "zip" &&
      /\.(docx|docm|xlsx|xlsm|pptx|pptm)$/i.test(member.name)
    ) {
      const inner = await inspectZip(member.content, { ...limits, maxDepth: 1 });
      if (ooxmlHasMacros(inner.members.map((m) => m.path)))
        add(findings, "attachment.macro", `${file.name}/${member.path}`);
    }
  }
}

const LABELS: Partial<Record<SignalId, (names: string) => string>> = {
  "attachment.executable": (n) => `An attached file is a program that runs when opened (${n}).`,
  "attachment.script": (n) => `An attached file is a script that runs when opened (${n}).`,
  "attachment.double_extension": (n) =>
    `An attached file hides its real type behind a second extension (${n}).`,
  "attachment.html_smuggling": (n) =>
    `An attached web page builds a file inside the browser, a trick to sneak malware past filters (${n}).`,
  "attachment.archive_dangerous": (n) => `An attached archive contains a program or script (${n}).`,
  "attachment.zip_bomb": (n) => `An attached archive is built to overwhelm virus scanners (${n}).`,
  "attachment.macro": (n) => `An attached Office document contains macros, which can run code (${n}).`,
  "attachment.encrypted_archive": (n) =>
    `An attached archive is password-protected, so nobody could check what is inside (${n}).`,
  "attachment.type_mismatch": (n) => `An attached file is not what its name says (${n}).`,
  "attachment.unscannable_archive": (n) =>
    `An attached archive could not be opened to check what is inside (${n}).`,
  "attachment.html_form": (n) =>
    `An attached web page asks for a password, sends a form, runs hidden code or forwards to a website (${n}).`,
};

/**
 * Checks every attachment (and, within limits, every file inside attached zips)
 * and returns one signal per kind of danger found. Never throws. `onArchivedFile` is given each file the zip
 * reader read inside an attached archive (within its limits), so that the scanner checks a zipped page's links
 * without opening the archive a second time.
 */
export async function attachmentSignals(
  attachments: readonly AttachmentLike[],
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
  onArchivedFile?: (file: AttachmentLike) => void,
): Promise<Signal[]> {
  const findings: Findings = new Map();
  const budget: Budget = { archives: MAX_ARCHIVES_PER_MESSAGE, onArchivedFile };
  // Every attachment is checked (names and first bytes are cheap); only archive opening is budgeted.
  for (const [index, att] of attachments.entries()) {
    const content = Buffer.isBuffer(att.content) ? att.content : Buffer.alloc(0);
    const [name = "", ...otherNames] = namesOf(att, index);
    const contentType = att.contentType ?? "";
    try {
      await checkFile({ name, contentType, content, insideArchive: null }, findings, limits, budget);
      // The same content under its other names: what each name makes of it, but an archive is opened once.
      for (const other of otherNames)
        await checkFile(
          { name: other, contentType, content, insideArchive: null, archiveOpened: true },
          findings,
          limits,
          budget,
        );
    } catch {
      add(findings, "attachment.unscannable_archive", name);
    }
  }
  const signals: Signal[] = [];
  for (const [id, names] of findings) {
    const label = LABELS[id];
    if (label) signals.push(signal(id, label(names.join(", ")), names.join("; ")));
  }
  return signals;
}
