import { skeleton } from "./confusables";
import { isOwnDomain } from "./domains";
import type { Signal, TenantContext } from "./types";
import { signal } from "./weights";

// Hangul fillers and the blank braille pattern: letters or symbols to Unicode, a blank the width of a letter on screen.
const BLANK_GLYPHS = /[\u115F\u1160\u3164\uFFA0\u2800]/g;
// A right-to-left override shows the letters after it, up to its pop (or an isolate's end), in reverse order.
const RTL_OVERRIDE = /\u202E([^\u202C\u2069]*)[\u202C\u2069]?/g;
const IDEOGRAPHIC_STOPS = /[\u3002\uFF61]/g;

/**
 * A display name as a mail app shows it: compatibility forms folded (fullwidth "＠" and "Ｊ" are "@" and "J"), the
 * invisible characters (zero-width, soft hyphen, direction marks) dropped, blank-looking letters read as spaces, a
 * right-to-left override run read in the order it is shown, and ideographic full stops read as dots (IDNA does).
 * Without this, "Jane\u3164Doe", "jane.doe@con\u200Btoso.com" or "\u202Eeod enaj" showed a colleague's name or our own
 * address while comparing as other words.
 */
export function shownText(displayName: string): string {
  return displayName
    .normalize("NFKC")
    .replace(BLANK_GLYPHS, " ")
    .replace(RTL_OVERRIDE, (_, run: string) => [...run].reverse().join(""))
    .replace(/\p{Default_Ignorable_Code_Point}/gu, "")
    .replace(IDEOGRAPHIC_STOPS, ".");
}

const TITLES = new Set(["mr", "mrs", "ms", "dr", "via", "from"]);
// Names of more words than this are compared word for word only (their orders and run-togethers multiply).
const MAX_RUN_TOGETHER_WORDS = 5;

/** One word of a name as a reader sees it: confusables mapped (after lower-casing), punctuation dropped. */
function wordForm(raw: string): string {
  return skeleton(raw).replace(/[^\p{L}\p{N}]/gu, "");
}

/** A display name split into words: as written (`raw`), as compared (`words`, the same words' forms), and `key`. */
export interface NameWords {
  readonly raw: readonly string[];
  readonly words: readonly string[];
  /** The compared words sorted, space-separated: equal keys are the same words in any order. */
  readonly key: string;
}

/** Splits a display name as shown into words at spaces and punctuation, titles ("Mr", "Dr") dropped. */
export function nameWords(displayName: string): NameWords {
  const raws: string[] = [];
  const words: string[] = [];
  for (const raw of shownText(displayName.slice(0, 200))
    .replace(/["'`()[\]<>{}]/g, " ")
    .split(/[\s,._-]+/)) {
    const word = wordForm(raw);
    if (word.length === 0 || TITLES.has(word)) continue;
    raws.push(raw);
    words.push(word);
  }
  return { raw: raws, words, key: [...words].sort().join(" ") };
}

// The tenant's names come again with every message (a fresh copy in the scan worker): their words are kept by name.
const COLLEAGUE_WORDS = new Map<string, NameWords>();
const COLLEAGUE_WORDS_MAX = 50_000;

/** `nameWords` of a colleague's display name, remembered across messages. */
function colleagueWords(displayName: string): NameWords {
  let words = COLLEAGUE_WORDS.get(displayName);
  if (!words) {
    if (COLLEAGUE_WORDS.size >= COLLEAGUE_WORDS_MAX) COLLEAGUE_WORDS.clear();
    words = nameWords(displayName);
    COLLEAGUE_WORDS.set(displayName, words);
  }
  return words;
}

/** Reduces a display name to comparable words: confusables mapped, punctuation and titles dropped, sorted. */
export function nameKey(displayName: string): string {
  return nameWords(displayName).key;
}

/** A name specific enough to compare: two words or more, or one long word (a lone "Jane" or "Sales" is not). */
function distinctiveName(words: readonly string[]): boolean {
  const letters = words.join("").length;
  return (words.length >= 2 && letters >= 5) || (words.length === 1 && letters >= 8);
}

/** Every order of a few words. */
function orders(words: readonly string[]): string[][] {
  if (words.length <= 1) return [[...words]];
  return words.flatMap((word, i) => orders(words.filter((_, j) => j !== i)).map((rest) => [word, ...rest]));
}

/** Whether the shown words are `order` cut into runs, each shown word the form of one run written together. */
function cutInto(shown: readonly string[], order: readonly string[]): boolean {
  const from = (i: number, j: number): boolean => {
    if (i === shown.length) return j === order.length;
    for (let k = j + 1; k <= order.length - (shown.length - 1 - i); k++) {
      if (wordForm(order.slice(j, k).join("")) === shown[i] && from(i + 1, k)) return true;
    }
    return false;
  };
  return from(0, 0);
}

/**
 * Whether a shown name reads as a colleague's: the same words in any order ("Doe, Jane", "DOE Jane", "Jane.Doe"), or
 * some of them run together ("JaneDoe", "DoeJane", "Jane\u2063Doe" shown as "JaneDoe"). Each shown word must be
 * wholly one or more of the colleague's words, each used once, so "Janet Doe", "JaneDoe Smith" or "Jan Edoe" do not.
 * Runs are compared as written together, so a confusable pair across the join ("VictorNash", r + n) reads as shown.
 */
export function readsAs(shown: NameWords, person: NameWords): boolean {
  const n = person.words.length;
  if (shown.words.length === n) return shown.key === person.key;
  if (shown.words.length === 0 || shown.words.length > n || n > MAX_RUN_TOGETHER_WORDS) return false;
  // A run written together is as long as its words, or up to one letter shorter per join ("rn" read as "m").
  const shownLetters = shown.words.join("").length;
  const personLetters = person.words.join("").length;
  if (shownLetters > personLetters || shownLetters < personLetters - (n - shown.words.length)) return false;
  return orders(person.raw).some((order) => cutInto(shown.words, order));
}

const EMBEDDED_ADDRESS = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;

/**
 * Looks for an outside sender dressed up as one of the tenant's people: the
 * display name of a colleague ("Jane Doe" vs "Doe, Jane" or "JaneDoe"), or one of our own
 * addresses written into the display name. Mail from our own domains is never flagged.
 */
export function impersonationSignals(
  from: { address: string; domain: string; displayName: string },
  tenant: TenantContext,
): Signal[] {
  if (!from.domain || isOwnDomain(from.domain, tenant.domains)) return [];
  const signals: Signal[] = [];
  const shown = from.displayName.trim();
  if (shown === "") return signals;

  const shownWords = nameWords(shown);
  const person = tenant.people.find((p) => {
    const theirs = colleagueWords(p.displayName);
    return distinctiveName(theirs.words) && readsAs(shownWords, theirs);
  });
  if (person) {
    signals.push(
      signal(
        "impersonation.display_name",
        `It uses the name of ${person.displayName}, who works here, ` +
          `but comes from an outside address (${from.address}).`,
      ),
    );
  }

  const embedded = shownText(shown).match(EMBEDDED_ADDRESS) ?? [];
  const ownAddress = embedded.find((addr) =>
    isOwnDomain(addr.slice(addr.lastIndexOf("@") + 1), tenant.domains),
  );
  if (ownAddress) {
    signals.push(
      signal(
        "impersonation.internal_address_in_name",
        `Its sender name shows our own address ${ownAddress}, but it really comes from ${from.address}.`,
      ),
    );
  }
  return signals;
}
