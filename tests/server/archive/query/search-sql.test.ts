import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import {
  compileWhere,
  headlineSql,
  HIGHLIGHT_START,
  parseQuery,
  rankSql,
  snippetToHtml,
  snippetToPlainText,
} from "../../../../server/archive/query";
import { ALL_LABELS, FIXTURE_MESSAGES } from "./fixture-messages";
import { ArchiveSqlHarness, compilerOnly } from "./pglite-harness";

let harness: ArchiveSqlHarness;

beforeAll(async () => {
  harness = await ArchiveSqlHarness.start(FIXTURE_MESSAGES);
});

afterAll(async () => {
  await harness.close();
});

const search = (query: string): Promise<string[]> => harness.labels(compileWhere(parseQuery(query)));
const except = (...labels: string[]): string[] => ALL_LABELS.filter((label) => !labels.includes(label));

describe("compileWhere on PGlite: exact result sets", () => {
  const cases: Array<[query: string, expected: string[]]> = [
    // words and phrases
    ["invoice", ["m01", "m13", "m20", "m23", "m27"]],
    ["INVOICE", ["m01", "m13", "m20", "m23", "m27"]],
    ["quarterly report", ["m01", "m02", "m06", "m14"]],
    ['"quarterly report"', ["m01", "m02", "m14"]],
    ['"hello world"', ["m30"]],
    ['"\\"hello world\\""', ["m30"]],
    ['"OR"', ["m26"]],
    // reference numbers and addresses as typed
    ["INV-2024-0042", ["m01", "m23"]],
    ["0042", ["m01", "m23"]],
    ["1Z999AA10123456784", ["m21"]],
    ["7781", ["m08"]],
    ["alice@acme.example", ["m01", "m20"]],
    ["acme.example lunch", ["m16"]],
    // from: / to: / cc:
    ["from:alice", ["m01", "m10"]],
    ["from:ALICE", ["m01", "m10"]],
    ['from:"Alice Cooper"', ["m10"]],
    ["from:acme.example", ["m01", "m06", "m13", "m16", "m20", "m23", "m26", "m27", "m30"]],
    ["from:under_", ["m11"]],
    ["from:%", []],
    ["from:paypal", ["m19"]],
    ["to:support", ["m01"]],
    ['to:"support desk"', ["m01"]],
    ["to:bob@beta", ["m14"]],
    ["cc:manager", ["m08"]],
    ["cc:alice", ["m20"]],
    ['cc:"team lead"', ["m08"]],
    // subject:
    ["subject:invoice", ["m01", "m20", "m23"]],
    ['subject:"quarterly report"', ["m02", "m14"]],
    ["subject:über", ["m03", "m25"]],
    ["subject:🔥", ["m05"]],
    ["subject:100%", ["m11"]],
    // dates: after inclusive of the day, before exclusive
    ["after:2024-02-01 before:2024-03-01", ["m03", "m04"]],
    ["before:2024-02-01", ["m01", "m02"]],
    ["after:2025-01-01", ["m29", "m30"]],
    ["-before:2025-01-01", ["m29", "m30"]],
    ["after:2024-12-31 before:2025-01-01", ["m28"]],
    // attachments
    ["attachment:report", ["m02"]],
    ["attachment:PDF", ["m01", "m22"]],
    ["attachment:100%_", ["m11"]],
    ["attachment:résumé", ["m22"]],
    ["has:attachment", ["m01", "m02", "m06", "m09", "m11", "m12", "m17", "m22"]],
    ["invoice", ["m01", "m13", "m20", "m23", "m27"]],
    // negation
    ["invoice -paid", ["m01", "m13", "m20", "m27"]],
    ['quarterly -"quarterly report"', ["m06"]],
    ["invoice -from:alice", ["m13", "m20", "m23", "m27"]],
    ["-spam", except("m15", "m24")],
    ["-has:attachment after:2025-01-01", ["m29", "m30"]],
    ["-(from:acme OR from:beta) after:2024-06-01", ["m25", "m28", "m29"]],
    // OR and precedence
    ["lottery OR pills", ["m07", "m15"]],
    ["from:alice OR cc:alice", ["m01", "m10", "m20"]],
    ["invoice paid OR lottery", ["m07", "m23"]],
    ["invoice (paid OR process)", ["m13", "m23"]],
    ["(lottery OR from:paypal) -winner", ["m19"]],
    ["from:acme has:attachment after:2024-01-01 -invoice", ["m06"]],
    // Unicode
    ["über", ["m03", "m25"]],
    ["Grüße", ["m03"]],
    ["日本語", ["m04"]],
    ['"日本語 テスト"', ["m04"]],
    ["from:田中", ["m04"]],
    ["from:müller", ["m03"]],
    ["café", ["m16"]],
    ["résumé", ["m22"]],
    ["🎉", ["m05"]],
    ["🔥 sale", ["m05"]],
    ["-🔥 flash", []],
    // empty and punctuation-only: everything
    ["", [...ALL_LABELS]],
    ["& | !", [...ALL_LABELS]],
  ];

  it.each(cases)("%j → %j", async (query, expected) => {
    expect(await search(query)).toEqual(expected);
  });
});

describe("compileWhere on PGlite: hostile input stays data", () => {
  it("runs tsquery operators typed as text without a syntax error", async () => {
    expect(await search("invoice & | ! <-> :* '' \\ !!invoice")).toEqual(["m01", "m13", "m20", "m23", "m27"]);
  });

  it("never puts user text into the SQL string (all of it is bound)", () => {
    const compiled =
      sql`SELECT 1 FROM messages WHERE ${compileWhere(parseQuery(`'; DROP TABLE messages; -- from:"x'y" subject:zz9 attachment:q%w`))}`.compile(
        compilerOnly,
      );
    for (const fragment of ["DROP", "x'y", "zz9", "q%w", "messages;"])
      expect(compiled.sql).not.toContain(fragment);
    expect(compiled.parameters).toEqual(
      expect.arrayContaining(["DROP", "TABLE", "messages;", "%x'y%", "zz9", "%q\\%w%"]),
    );
  });

  it("treats an injection attempt as words (or a 400 at the stray parenthesis) and leaves the table intact", async () => {
    expect(await search("x'; DROP TABLE messages; --")).toEqual([]);
    expect(() => parseQuery("'); DROP TABLE messages; --")).toThrow("Unmatched ')' at 1");
    const rows = await harness.run<{ n: number }>(sql`SELECT count(*)::int AS n FROM messages`);
    expect(rows[0]?.n).toBe(FIXTURE_MESSAGES.length);
  });

  it("qualifies columns with a table alias when asked", async () => {
    const where = compileWhere(parseQuery("from:alice -cc:nobody has:attachment"), { tableAlias: "m" });
    const rows = await harness.run<{ message_id: string }>(
      sql`SELECT m.message_id FROM messages m WHERE ${where}`,
    );
    expect(rows.map((row) => row.message_id)).toEqual(["m01"]);
    expect(where.compile(compilerOnly).sql).toContain('"m"."from_address"');
  });
});

describe("rankSql on PGlite", () => {
  async function ranked(query: string): Promise<Map<string, number>> {
    const ast = parseQuery(query);
    const rows = await harness.run<{ message_id: string; rank: number }>(
      sql`SELECT message_id, ${rankSql(ast)} AS rank FROM messages WHERE ${compileWhere(ast)} ORDER BY rank DESC, message_id`,
    );
    return new Map(rows.map((row) => [row.message_id, Number(row.rank)]));
  }

  it("ranks subject matches (weight A) above body-only matches (weight D)", async () => {
    const ranks = await ranked("quarterly report");
    expect([...ranks.keys()].sort()).toEqual(["m01", "m02", "m06", "m14"]);
    const rank = (label: string): number => ranks.get(label) ?? Number.NaN;
    for (const subjectHit of ["m02", "m14"]) {
      for (const bodyHit of ["m01", "m06"]) expect(rank(subjectHit)).toBeGreaterThan(rank(bodyHit));
    }
    for (const value of ranks.values()) expect(value).toBeGreaterThan(0);
  });

  it("ranks 0 when there is no positive word (only filters or negations)", async () => {
    const ranks = await ranked("-invoice from:alice");
    expect([...ranks.entries()]).toEqual([["m10", 0]]);
  });
});

describe("headlineSql on PGlite", () => {
  async function headline(query: string, label: string): Promise<string> {
    const rows = await harness.run<{ snippet: string }>(
      sql`SELECT ${headlineSql(parseQuery(query))} AS snippet FROM messages WHERE message_id = ${label}`,
    );
    return rows[0]?.snippet ?? "";
  }

  it("marks each matched word and keeps only our markers (fake markers in the body are removed)", async () => {
    const raw = await headline("reset", "m18");
    expect(raw).toContain("\uE000reset\uE001");
    expect(raw.split(HIGHLIGHT_START)).toHaveLength(2);
    const html = snippetToHtml(raw);
    expect(html).toContain("<mark>reset</mark>");
    expect(html).toContain("&#38;");
    expect(html).toContain("2 &#60; 3 &#62; 1");
    expect(html.replace(/<\/?mark>/g, "")).not.toMatch(/[<>]/);
    expect(snippetToPlainText(raw)).toMatch(
      /^Click here & reset your password if 2 < 3 > 1, fake marker here too/,
    );
  });

  it("highlights both words of a phrase and ignores negated words", async () => {
    const raw = await headline('"quarterly report" -lottery', "m02");
    expect(snippetToHtml(raw)).toContain("<mark>quarterly</mark> <mark>report</mark>");
    expect(raw).not.toContain("lottery");
  });

  it("falls back to the start of the body when nothing is highlighted", async () => {
    expect(await headline("from:bob", "m02")).toBe(
      "The quarterly report for Q4 is attached. Numbers look good.",
    );
  });
});

describe("buildSearchVectorSql weights on PGlite", () => {
  async function weighted(label: string, weight: string, lexeme: string): Promise<boolean> {
    const rows = await harness.run<{ hit: boolean }>(
      sql`SELECT ts_filter(search_vector, ${`{${weight}}`}::"char"[]) @@ ${lexeme}::tsquery AS hit FROM messages WHERE message_id = ${label}`,
    );
    return rows[0]?.hit === true;
  }

  it("puts the subject at A, people and attachment names at B, the body at D", async () => {
    expect(await weighted("m01", "a", "overdue")).toBe(true);
    expect(await weighted("m01", "b", "archer")).toBe(true);
    expect(await weighted("m01", "b", "support")).toBe(true);
    expect(await weighted("m01", "b", "pdf")).toBe(true);
    expect(await weighted("m01", "d", "hello")).toBe(true);
    expect(await weighted("m01", "a", "hello")).toBe(false);
    expect(await weighted("m01", "d", "overdue")).toBe(true);
    expect(await weighted("m01", "a", "archer")).toBe(false);
  });
});
