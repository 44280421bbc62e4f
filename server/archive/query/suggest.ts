import { KNOWN_OPERATORS } from "./ast";

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transposition), so "form" is one
 * edit away from "from". Exported for tests.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The operator a mistyped `name:` most likely meant, or null when it looks like ordinary text that
 * happens to contain a colon (`re:`, `ticket:4711`, `10:30`). Names of 3+ letters that start an
 * operator (`subj:`) or are one edit away (`form:`) get a suggestion; names of 6+ letters may be two
 * edits away (`attachmnts:`).
 */
export function suggestOperator(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower.length < 3) return null;
  const prefixOf = KNOWN_OPERATORS.find((op) => op.length > lower.length && op.startsWith(lower));
  if (prefixOf) return prefixOf;
  let best: { op: string; distance: number } | null = null;
  for (const op of KNOWN_OPERATORS) {
    const distance = editDistance(lower, op);
    if (best === null || distance < best.distance) best = { op, distance };
  }
  if (best === null) return null;
  const allowed = lower.length >= 6 ? 2 : 1;
  return best.distance <= allowed ? best.op : null;
}
