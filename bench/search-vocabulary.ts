import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";

/** What synthetic mail is made of: real senders, subjects, paragraphs and attachment names from the corpus. */
export interface Vocabulary {
  senders: Array<{ name: string; address: string }>;
  subjects: string[];
  paragraphs: string[];
  attachmentNames: string[];
}

/** The corpus (DESIGN §7), read in place. */
export const CORPUS_DIR = process.env.MAILWARD_CORPUS ?? path.resolve(process.cwd(), "../shared/corpus");

/**
 * Reads the ham of both corpus sets (spamassassin 4,149 + the first `mipsCount` linux-mips) and keeps
 * distinct senders, subjects, body paragraphs (40–1,500 characters) and attachment file names.
 */
export async function readVocabulary(mipsCount = 8000): Promise<Vocabulary> {
  const files: string[] = [];
  const sa = path.join(CORPUS_DIR, "spamassassin", "ham");
  const mips = path.join(CORPUS_DIR, "linux-mips", "ham");
  for (let n = 1; fs.existsSync(path.join(sa, `${n}.eml`)); n++) files.push(path.join(sa, `${n}.eml`));
  for (let n = 1; n <= mipsCount && fs.existsSync(path.join(mips, `${n}.eml`)); n++)
    files.push(path.join(mips, `${n}.eml`));
  if (files.length === 0) throw new Error(`No corpus at ${CORPUS_DIR}`);
  const senders = new Map<string, { name: string; address: string }>();
  const subjects = new Set<string>();
  const paragraphs = new Set<string>();
  const attachmentNames = new Set<string>();
  for (const file of files) {
    const parsed = await simpleParser(fs.readFileSync(file), { skipImageLinks: true });
    const from = parsed.from?.value[0];
    if (from?.address)
      senders.set(from.address.toLowerCase(), {
        name: (from.name ?? "").replaceAll("\u0000", ""),
        address: from.address.toLowerCase(),
      });
    if (parsed.subject) subjects.add(parsed.subject.replaceAll("\u0000", "").slice(0, 200));
    for (const a of parsed.attachments ?? []) if (a.filename) attachmentNames.add(a.filename.slice(0, 100));
    for (const p of (parsed.text ?? "").replaceAll("\u0000", "").split(/\n\s*\n/)) {
      const t = p.trim();
      if (t.length >= 40 && t.length <= 1500 && !/^>/.test(t)) paragraphs.add(t);
    }
  }
  for (const stem of [
    "invoice",
    "report",
    "statement",
    "contract",
    "quote",
    "logs",
    "screenshot",
    "patch",
    "config",
    "order",
  ]) {
    for (const ext of ["pdf", "docx", "xlsx", "csv", "txt", "png", "zip", "diff"])
      attachmentNames.add(`${stem}.${ext}`);
  }
  return {
    senders: [...senders.values()],
    subjects: [...subjects],
    paragraphs: [...paragraphs],
    attachmentNames: [...attachmentNames],
  };
}
