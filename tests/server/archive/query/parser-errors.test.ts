import { describe, expect, it } from "vitest";
import {
  isQueryError,
  MAX_QUERY_LENGTH,
  MAX_QUERY_TERMS,
  parseQuery,
  QueryError,
} from "../../../../server/archive/query";

function errorOf(query: string): { message: string; position: number } {
  try {
    parseQuery(query);
  } catch (err) {
    if (isQueryError(err)) return { message: err.message, position: err.position };
    throw err;
  }
  throw new Error(`expected a QueryError for ${JSON.stringify(query)}`);
}

describe("parseQuery: bad queries say where they broke", () => {
  const cases: Array<[query: string, position: number, message: string]> = [
    ['hello "world', 6, "Unclosed quote starting at 6"],
    ['invoice from:"John', 13, "Unclosed quote starting at 13"],
    ['"escaped \\" is not a close', 0, "Unclosed quote starting at 0"],
    ["form:alice", 0, "Unknown operator 'form:' at 0 — did you mean from:?"],
    ["invoice attachement:x", 8, "Unknown operator 'attachement:' at 8 — did you mean attachment:?"],
    ["subj:hello", 0, "Unknown operator 'subj:' at 0 — did you mean subject:?"],
    ["Befor:2024-01-01", 0, "Unknown operator 'Befor:' at 0 — did you mean before:?"],
    [
      "from:alice before:2024-13-01",
      18,
      "Invalid date '2024-13-01' after before: at 18 (expected a real date as YYYY-MM-DD)",
    ],
    [
      "after:2023-02-29",
      6,
      "Invalid date '2023-02-29' after after: at 6 (expected a real date as YYYY-MM-DD)",
    ],
    ["after:yesterday", 6, "Invalid date 'yesterday' after after: at 6 (expected a real date as YYYY-MM-DD)"],
    ["before:2024-1-5", 7, "Invalid date '2024-1-5' after before: at 7 (expected a real date as YYYY-MM-DD)"],
    ["invoice OR", 8, "Nothing after OR at 8"],
    ["OR invoice", 0, "Nothing before OR at 0"],
    ["a OR OR b", 2, "Nothing after OR at 2"],
    ["(a OR )", 3, "Nothing after OR at 3"],
    ["a AND", 2, "Nothing after AND at 2"],
    ["AND a", 0, "Nothing before AND at 0"],
    ["(a b", 0, "Unclosed parenthesis starting at 0"],
    ["x (a (b)", 2, "Unclosed parenthesis starting at 2"],
    ["-(", 1, "Unclosed parenthesis starting at 1"],
    ["a b)", 3, "Unmatched ')' at 3"],
    ["a -)", 3, "Unmatched ')' at 3"],
    ["from:", 5, "Expected a value after from: at 5"],
    ["from: alice", 5, "Expected a value after from: at 5"],
    ["to:(a)", 3, "Expected a value after to: at 3"],
    ['subject:""', 8, "Empty value for subject: at 8"],
    ["has:pdf", 4, "Unknown value 'pdf' for has: at 4 — only has:attachment is supported"],
    ['😀 "x', 3, "Unclosed quote starting at 3"],
  ];

  it.each(cases)("%j fails at %i", (query, position, message) => {
    expect(errorOf(query)).toEqual({ message, position });
  });

  it("throws a typed QueryError whose details carry the position", () => {
    try {
      parseQuery("a OR");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(QueryError);
      expect(isQueryError(err)).toBe(true);
      if (isQueryError(err)) expect(err.toDetails()).toEqual({ position: 2 });
    }
  });

  it(`accepts ${MAX_QUERY_LENGTH} characters and refuses one more`, () => {
    const atLimit = "a".repeat(MAX_QUERY_LENGTH);
    expect(parseQuery(atLimit)).toEqual({ kind: "word", value: atLimit, position: 0 });
    expect(errorOf(`${atLimit}b`)).toEqual({ message: "Query too long (max 500 chars)", position: 500 });
  });

  it(`accepts ${MAX_QUERY_TERMS} terms and refuses the next one at its position`, () => {
    const words = Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `w${i}`);
    const atLimit = words.slice(0, MAX_QUERY_TERMS).join(" ");
    const parsed = parseQuery(atLimit);
    expect(parsed?.kind === "and" ? parsed.children.length : 0).toBe(MAX_QUERY_TERMS);
    const over = words.join(" ");
    const lastPosition = over.lastIndexOf("w50");
    expect(errorOf(over)).toEqual({
      message: `Too many terms (max 50) at ${lastPosition}`,
      position: lastPosition,
    });
  });

  it("does not count dropped punctuation as terms", () => {
    const query = [...Array.from({ length: MAX_QUERY_TERMS }, (_, i) => `w${i}`), "&", "-", "|"].join(" ");
    expect(() => parseQuery(query)).not.toThrow();
  });

  it("does not treat short or unrelated colon prefixes as mistyped operators", () => {
    expect(() => parseQuery("re:x aw:y http://a.example mailto:b@c.example date:today")).not.toThrow();
  });
});
