import fs from "node:fs";
import path from "node:path";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";

/** The shared real-mail corpus (DESIGN §7), read in place. */
export const CORPUS_DIR = process.env.MAILWARD_CORPUS ?? path.resolve(process.cwd(), "../shared/corpus");

/** One corpus message: where it came from, its bytes, and mailparser's reading of it. */
export interface CorpusMessage {
  file: string;
  raw: Buffer;
  parsed: ParsedMail;
}

/** Reads messages `first..first+count-1` of one corpus set/label, parsed by mailparser. */
export async function readCorpus(
  set: string,
  label: string,
  first: number,
  count: number,
): Promise<CorpusMessage[]> {
  const dir = path.join(CORPUS_DIR, set, label);
  if (!fs.existsSync(dir)) throw new Error(`The corpus is missing at ${dir} (set MAILWARD_CORPUS).`);
  const out: CorpusMessage[] = [];
  for (let n = first; n < first + count; n++) {
    const file = path.join(dir, `${n}.eml`);
    const raw = fs.readFileSync(file);
    out.push({
      file: `${set}/${label}/${n}.eml`,
      raw,
      parsed: await simpleParser(raw, { skipImageLinks: true }),
    });
  }
  return out;
}

function addresses(
  value: AddressObject | AddressObject[] | undefined,
): Array<{ address: string; name: string }> {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list
    .flatMap((a) => a.value)
    .map((a) => ({ address: (a.address ?? "").toLowerCase(), name: a.name ?? "" }));
}

const TEXT_LIKE = /\.(txt|csv|log|md|html?|eml|ics|json|xml)$/i;
const TEXT_TYPES = /^(text\/|message\/rfc822|application\/(json|xml|csv))/i;

/** The texts a person would expect a search to look through, straight from mailparser (no product code). */
export function searchableFields(parsed: ParsedMail) {
  const from = addresses(parsed.from)[0] ?? { address: "", name: "" };
  const attachments = parsed.attachments ?? [];
  return {
    subject: parsed.subject ?? "",
    fromAddress: from.address,
    fromName: from.name,
    people: [
      from.name,
      from.address,
      ...addresses(parsed.to).map((a) => a.address),
      ...addresses(parsed.cc).map((a) => a.address),
    ],
    attachmentNames: attachments.flatMap((a) => (a.filename ? [a.filename] : [])),
    body: parsed.text ?? "",
    attachmentText: attachments
      .filter((a) => TEXT_LIKE.test(a.filename ?? "") || TEXT_TYPES.test(a.contentType))
      .map((a) => a.content.toString("utf8"))
      .join("\n"),
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : null,
  };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whole-word, case-insensitive: not preceded or followed by a letter or digit (how the 'simple' parser splits words). */
export function hasWord(text: string, word: string): boolean {
  return new RegExp(`(?<![\\p{L}\\p{N}])${escape(word)}(?![\\p{L}\\p{N}])`, "iu").test(text);
}

/** Words next to each other, in order, separated by anything that is not a letter or digit. */
export function hasPhrase(text: string, words: string[]): boolean {
  const pattern = words.map(escape).join("[^\\p{L}\\p{N}]+");
  return new RegExp(`(?<![\\p{L}\\p{N}])${pattern}(?![\\p{L}\\p{N}])`, "iu").test(text);
}

/** Whether a word occurs anywhere a search looks (subject, people, attachment names, body, attachment text). */
export function messageHasWord(parsed: ParsedMail, word: string): boolean {
  const f = searchableFields(parsed);
  return [f.subject, f.people.join(" "), f.attachmentNames.join(" "), f.body, f.attachmentText].some((t) =>
    hasWord(t, word),
  );
}

/** Whether a phrase occurs within one field. */
export function messageHasPhrase(parsed: ParsedMail, words: string[]): boolean {
  const f = searchableFields(parsed);
  return [f.subject, f.body, f.attachmentText].some((t) => hasPhrase(t, words));
}
