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
  /** Letters in the compared words (a name run together is as long, or one letter shorter per join). */
  readonly letters: number;
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
  return { raw: raws, words, key: [...words].sort().join(" "), letters: words.join("").length };
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

/** A name specific enough to compare: two words or more, or one long word (a lone "Jane" or "Sales" is not). */
function distinctiveName({ words, letters }: NameWords): boolean {
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
  if (shown.letters > person.letters || shown.letters < person.letters - (n - shown.words.length))
    return false;
  return orders(person.raw).some((order) => cutInto(shown.words, order));
}

type Person = TenantContext["people"][number];

/** A colleague as the index keeps them: where they are in the tenant's list, and their name's words. */
interface Colleague {
  readonly at: number;
  readonly person: Person;
  readonly name: NameWords;
  /** Each word's form but its last letter (a join can change only that one): how a run of their words begins. */
  readonly starts: readonly string[];
}

/**
 * The tenant's distinctive names, indexed so that a message's sender name is compared with the few colleagues it
 * could read as, not with everyone (a 10,000-person tenant cost milliseconds a message): by their sorted words for the
 * same words in any order, and, for names of two to five words, under each word's first letter for names run
 * together (a shown name's first word starts as one of their words does, all but its last letter, which a join can
 * change: "victor" + "nash" shows as "victomash"). A name with a one-letter word is always tried: "r" + "nash" shows
 * as "mash". `find` answers as a search of the list in its order would, the first colleague the name reads as.
 */
class ColleagueIndex {
  private readonly byKey = new Map<string, Colleague>();
  private readonly byFirstLetter = new Map<string, Colleague[]>();
  private readonly alwaysTried: Colleague[] = [];

  constructor(people: readonly Person[]) {
    people.forEach((person, at) => {
      const name = colleagueWords(person.displayName);
      if (!distinctiveName(name)) return;
      const colleague: Colleague = {
        at,
        person,
        name,
        starts: name.words.map((word) => word.slice(0, -1)),
      };
      if (!this.byKey.has(name.key)) this.byKey.set(name.key, colleague);
      const n = name.words.length;
      if (n < 2 || n > MAX_RUN_TOGETHER_WORDS) return;
      if (name.words.some((word) => word.length === 1)) {
        this.alwaysTried.push(colleague);
        return;
      }
      for (const letter of new Set(name.words.map((word) => word[0] as string))) {
        const list = this.byFirstLetter.get(letter) ?? [];
        list.push(colleague);
        this.byFirstLetter.set(letter, list);
      }
    });
  }

  /** The first colleague (in the tenant's order) whose name the shown words read as, if any. */
  find(shown: NameWords): Person | undefined {
    let best = this.byKey.get(shown.key);
    const first = shown.words[0]?.[0];
    if (first === undefined) return best?.person;
    const firstWord = shown.words[0] as string;
    // Names run together only (the same words are byKey's), whose run can begin as the first shown word does.
    const couldRead = (c: Colleague) =>
      c.name.words.length > shown.words.length &&
      c.starts.some((start) => firstWord.startsWith(start)) &&
      readsAs(shown, c.name);
    for (const list of [this.byFirstLetter.get(first) ?? [], this.alwaysTried]) {
      const match = list.find(couldRead);
      if (match && (!best || match.at < best.at)) best = match;
    }
    return best?.person;
  }
}

// Built once per list of people: the tenant directory hands the same list to every message for 30 s.
const COLLEAGUE_INDEXES = new WeakMap<readonly Person[], ColleagueIndex>();

function colleagueIndex(people: readonly Person[]): ColleagueIndex {
  let index = COLLEAGUE_INDEXES.get(people);
  if (!index) {
    index = new ColleagueIndex(people);
    COLLEAGUE_INDEXES.set(people, index);
  }
  return index;
}

const EMBEDDED_ADDRESS = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;

/** The e-mail addresses a display name shows (as `shownText` reads it), for the checks of what a reader sees. */
export function addressesInName(displayName: string): string[] {
  return shownText(displayName).match(EMBEDDED_ADDRESS) ?? [];
}

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

  const person = colleagueIndex(tenant.people).find(nameWords(shown));
  if (person) {
    signals.push(
      signal(
        "impersonation.display_name",
        `It uses the name of ${person.displayName}, who works here, ` +
          `but comes from an outside address (${from.address}).`,
      ),
    );
  }

  const embedded = addressesInName(shown);
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
