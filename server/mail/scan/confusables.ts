/**
 * A compact confusables table (after Unicode TR39): characters from other
 * scripts that render like Latin letters, plus ASCII tricks (digits for letters,
 * `rn` for `m`). `skeleton()` maps a string to the form a reader would see, so
 * two domains that look alike get the same skeleton.
 */
const TABLE: Record<string, string> = {
  // Cyrillic
  а: "a",
  в: "b",
  с: "c",
  ԁ: "d",
  е: "e",
  ё: "e",
  һ: "h",
  і: "i",
  ї: "i",
  ј: "j",
  к: "k",
  ӏ: "l",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  ԛ: "q",
  ѕ: "s",
  т: "t",
  у: "y",
  ў: "y",
  х: "x",
  ԝ: "w",
  ɡ: "g",
  ь: "b",
  г: "r",
  п: "n",
  л: "n",
  // Greek
  α: "a",
  β: "b",
  ε: "e",
  η: "n",
  ι: "i",
  κ: "k",
  μ: "u",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  ω: "w",
  // Latin look-alikes outside ASCII
  ı: "i",
  ł: "l",
  ø: "o",
  đ: "d",
  ħ: "h",
  ŀ: "l",
  ɑ: "a",
  ɩ: "i",
  ɪ: "i",
  ʟ: "l",
  ɴ: "n",
  ʀ: "r",
  ꜱ: "s",
  // ASCII digits and symbols read as letters
  "0": "o",
  "1": "l",
  "3": "e",
  "5": "s",
  "|": "l",
  "!": "i",
  $: "s",
  "@": "a",
  // after lower-casing, i and l are hard to tell apart in many fonts
  i: "l",
};

/**
 * TABLE with each target followed to its end: several characters map to "i" (Cyrillic і, Greek ι, "!") while "i"
 * itself maps on to "l", so a single lookup left "Jіm" (Cyrillic і) as "jim" against the real "Jim"'s "jlm".
 */
const SINGLE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(TABLE).map(([from, to]) => {
    const seen = new Set([from]);
    let end = to;
    for (let next = TABLE[end]; next !== undefined && !seen.has(end); next = TABLE[end]) {
      seen.add(end);
      end = next;
    }
    return [from, end];
  }),
);

const MULTI: ReadonlyArray<[string, string]> = [
  ["rn", "m"],
  ["vv", "w"],
  ["cl", "d"],
];

/** The visual skeleton of a string: lower-case, accents stripped, confusables mapped to Latin. */
export function skeleton(input: string): string {
  const base = input
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  let mapped = "";
  for (const ch of base) mapped += SINGLE[ch] ?? ch;
  for (const [from, to] of MULTI) mapped = mapped.split(from).join(to);
  return mapped;
}

/** True when the string mixes letters from Latin with another script (a classic spoofing sign). */
export function hasMixedScripts(input: string): boolean {
  const latin = /\p{Script=Latin}/u.test(input);
  const other = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}]/u.test(input);
  return latin && other;
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent swaps), capped:
 * returns `max + 1` as soon as the distance is known to exceed `max`.
 */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows = a.length + 1;
  const cols = b.length + 1;
  let prevPrev = new Array<number>(cols).fill(0);
  let prev = Array.from({ length: cols }, (_, j) => j);
  for (let i = 1; i < rows; i++) {
    const cur = new Array<number>(cols).fill(0);
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (prevPrev[j - 2] ?? 0) + 1);
      }
      cur[j] = value;
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    prevPrev = prev;
    prev = cur;
  }
  return prev[cols - 1] ?? max + 1;
}
