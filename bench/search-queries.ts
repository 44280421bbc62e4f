/** One query of the fixed mix, in our language and in notmuch's. `{rare}` is replaced by a unique reference token. */
export interface BenchQuery {
  name: string;
  q: string;
  notmuch: string;
}

/** The fixed query mix (issue 6): common word, rare word, phrases, from:, date range, and combinations. */
export const QUERY_MIX: BenchQuery[] = [
  { name: "common word", q: "linux", notmuch: "linux" },
  { name: "very common word", q: "the", notmuch: "the" },
  { name: "rare word (unique ref)", q: "{rare}", notmuch: "{rare}" },
  { name: "rare corpus word", q: "ncurses", notmuch: "ncurses" },
  { name: "phrase", q: '"mailing list"', notmuch: '"mailing list"' },
  // Phrases of other shapes (issue 6): common adjacent words, three words, a rare phrase, and
  // common words that are rarely adjacent (every candidate holds the words, few the phrase).
  { name: "phrase, dense", q: '"of the"', notmuch: '"of the"' },
  { name: "phrase, 4 words", q: '"please let me know"', notmuch: '"please let me know"' },
  { name: "phrase, rare", q: '"wire transfer"', notmuch: '"wire transfer"' },
  { name: "phrase, words apart", q: '"in the list"', notmuch: '"in the list"' },
  { name: "phrase, 2 words apart", q: '"kernel the"', notmuch: '"kernel the"' },
  { name: "from: common sender", q: "from:ralf", notmuch: "from:ralf" },
  {
    name: "date range (1 month)",
    q: "after:2019-03-01 before:2019-04-01",
    notmuch: "date:2019-03-01..2019-03-31",
  },
  {
    name: "word + date range",
    q: "kernel after:2018-01-01 before:2018-07-01",
    notmuch: "kernel and date:2018-01-01..2018-06-30",
  },
  { name: "word -word", q: "linux -kernel", notmuch: "linux and not kernel" },
  { name: "word OR word", q: "gcc OR binutils", notmuch: "gcc or binutils" },
];

/** p-th percentile (nearest rank) of a list of milliseconds. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** "12.3" with one decimal. */
export function ms(value: number): string {
  return value.toFixed(1);
}
