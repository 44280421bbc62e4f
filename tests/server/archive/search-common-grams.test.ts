import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";
import { searchArchive } from "../../../server/archive/search";
import type { ArchiveScope } from "../../../server/archive/scope";
import { GRAM_OVERFLOW, gramsMatchSql, parseQuery, phraseGrams } from "../../../server/archive/query";
import { planOf, type StrategyRequest } from "../../../server/archive/search-strategy";
import { gramsOf } from "../../../server/archive/search-grams";
import { startOnlineIndexBuild } from "../../../server/db/online-indexes";
import { COMMON_GRAMS_FUNCTION } from "../../../server/db/migrations/0800_common_grams";
import { fileFor, mimeMessage, uniqueWord } from "./helpers";

// Phrases with common words get an indexable prefilter, common_grams(search_vector) @@ pairs
// (migration 0800). It must never drop a match: every search below is compared with the phrase
// checked on every row of the tenant without any index (ts_match_vq), computed here.
let database: TestDatabase;
let tenant: ArchiveScope;
let owner: ArchiveScope;
const labelOf = new Map<string, string>();
const idOf = new Map<string, string>();
const rare = uniqueWord("cg");
const other = uniqueWord("cgo");
const fill = uniqueWord("cgf");
const FILLER = 400;
const day = (n: number) => new Date(Date.UTC(2024, 0, 1 + n, 12));

/** Text of `count` distinct filler words, none of them common. */
const filler = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i.toString(36)}`).join(" ");

/** `count` filler words, each after one of twenty common words (each under 256 times): 2 × `count` distinct pairs. */
const pairs = (count: number) => {
  const common = ["the", "of", "and", "to", "in", "is", "it", "you", "that", "he"];
  const more = ["was", "for", "on", "are", "with", "as", "his", "they", "be", "at"];
  const words = [...common, ...more];
  return filler("q", count)
    .split(" ")
    .map((w, i) => `${words[i % words.length] ?? "the"} ${w}`)
    .join(" ");
};

const MAIL: Array<{ label: string; subject: string; text: string; from?: string }> = [
  { label: "plain", subject: "Weekly", text: `Please add me in the list ${rare} today.` },
  { label: "apart", subject: "Weekly", text: `The list is long, and ${rare} in the end of it.` },
  { label: "reversed", subject: "Weekly", text: `A list the ${rare} in, the in list.` },
  // The subject's last word and the sender's name are neighbours in the vector (fields are concatenated).
  {
    label: "boundary",
    subject: `Minutes of the`,
    text: `${rare} nothing else`,
    from: `"List Keeper" <keeper@outside.example>`,
  },
  // The body ends where the split parts of its compound tokens begin ("mail.example.org" → "mail example org").
  { label: "compound", subject: "Parts", text: `${rare} write to list@mail.example.org and then the` },
  { label: "repeated", subject: "Echo", text: `the the the list ${rare} of of of the` },
  { label: "common-only", subject: "Quote", text: `${rare}: to be or not to be, that is it` },
  { label: "hyphen", subject: "Hyphen", text: `send an e-mail the list ${rare}` },
  { label: "apostrophe", subject: "Quote", text: `it's the list we ${rare} keep` },
  // More distinct pairs than a message's pairs are indexed (4,000, migration 0800): indexed as GRAM_OVERFLOW.
  {
    label: "many-pairs",
    subject: "Long",
    text: `${rare} ${pairs(2600)} in the list`,
  },
  // Past 16383 words positions are clamped; past 256 a word's positions are dropped.
  {
    label: "past-limits",
    subject: "Longer",
    text: `in the list ${rare} ${filler("z", 17000)} kernel the end of the list`,
  },
  { label: "dropped-positions", subject: "Repeat", text: `${rare} ${"the a ".repeat(400)} in the list` },
  { label: "other", subject: "Unrelated", text: `${other} nothing in common here` },
];

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.handle.db;
  const t = await buildTenant(db);
  const u = await buildUser(db, { tenantId: t.id });
  tenant = { tenantId: t.id, kind: "tenant" };
  owner = { tenantId: t.id, kind: "users", userIds: [u.id] };
  for (const [n, m] of MAIL.entries()) {
    const raw = mimeMessage({
      to: u.email,
      subject: m.subject,
      text: m.text,
      date: day(n),
      ...(m.from ? { from: m.from } : {}),
    });
    const filed = await fileFor(db, t.id, raw, [u]);
    labelOf.set(filed.id, m.label);
    idOf.set(m.label, filed.id);
  }
  // Filler without common words, so the phrases' pairs are rare enough (MAX_GRAM_SHARE) for searches to use them.
  for (let n = 0; n < FILLER; n++) {
    const raw = mimeMessage({
      to: u.email,
      subject: `Filler ${n}`,
      text: `${fill} filler ${n}`,
      date: day(-n),
    });
    labelOf.set((await fileFor(db, t.id, raw, [])).id, `filler${n}`);
  }
  await sql`ANALYZE messages`.execute(db);
  await sql`ANALYZE mailbox_links`.execute(db);
}, 300_000);

afterAll(async () => {
  await database?.destroy();
});

/** The phrase checked on every row of the tenant, no index: what a search must return. */
async function truth(phrase: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`SELECT id FROM messages WHERE tenant_id = ${tenant.tenantId}
    AND ts_match_vq(search_vector, phraseto_tsquery('simple', ${phrase}))`.execute(database.handle.db);
  return rows.rows.map((r) => labelOf.get(r.id) ?? r.id).sort();
}

/** Every page of a search, as sorted labels. */
async function found(scope: ArchiveScope, q: string, strategy: StrategyRequest): Promise<string[]> {
  const labels: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const result = await searchArchive(database.handle.db, scope, {
      q,
      limit: 3,
      sort: "date",
      strategy,
      ...(cursor ? { cursor } : {}),
    });
    labels.push(...result.rows.map((r) => labelOf.get(r.id) ?? r.id));
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return labels.sort();
}

const PHRASES = [
  "in the list",
  "the list",
  "the in",
  "of the list",
  "the list keeper",
  "the mail",
  "org and then the",
  "then the list",
  "the the list",
  "of of the",
  "to be or not to be",
  "that is",
  "the",
  "e-mail the list",
  "mail the",
  "it's the list",
  "s the list",
  "the q5",
  "of q1 and",
  "q9 that",
  "in the list in",
  "kernel the",
  "the end of the list",
  "a in the list",
];

describe("common-word pairs prefilter phrases without dropping a match", () => {
  // First in the file: readiness is remembered per database handle once the index has been seen valid.
  it("until the pair index is built (an upgraded archive), searches use no pairs and still find every match", async () => {
    const db = database.handle.db;
    await sql`DROP INDEX messages_common_grams`.execute(db);
    expect(await gramsOf(db, tenant.tenantId, parseQuery('"in the list"'))).toEqual([]);
    expect(await found(tenant, '"in the list"', "auto")).toEqual(await truth("in the list"));
    const build = startOnlineIndexBuild(db, database.handle.engine, { info: () => undefined });
    expect(await build.done).toEqual(["messages_common_grams"]);
    expect(await gramsOf(db, tenant.tenantId, parseQuery('"in the list"'))).toHaveLength(1);
  });

  it("the cases are exercised: matches across fields, after compound parts, past position limits", async () => {
    expect(await truth("of the list")).toEqual(["boundary"]);
    expect(await truth("then the list")).toEqual(["compound"]);
    expect(await truth("the mail")).toEqual([]);
    expect(await truth("the the list")).toEqual(["repeated"]);
    expect(await truth("of q1 and")).toEqual(["many-pairs"]);
    // "dropped-positions" ends with the phrase after 400 "the" (PostgreSQL keeps 256 positions of a word);
    // "many-pairs" is indexed as GRAM_OVERFLOW and matches through it.
    expect(await truth("in the list")).toEqual(["many-pairs", "past-limits", "plain"]);
    // The 17,000 filler words push "kernel the end" to the clamped position: PostgreSQL's own check misses it.
    expect(await truth("kernel the")).toEqual([]);
    expect(await truth("e-mail the list")).toEqual(["hyphen"]);
  });

  it("no message holding a phrase lacks its pairs (the condition GIN answers from the pair index)", async () => {
    const db = database.handle.db;
    for (const phrase of PHRASES) {
      const grams = await phraseGrams(db, phrase);
      if (grams.length === 0) continue;
      const missed = await sql<{
        id: string;
      }>`SELECT m.id FROM messages m WHERE m.tenant_id = ${tenant.tenantId}
        AND ts_match_vq(m.search_vector, phraseto_tsquery('simple', ${phrase})) AND NOT (${gramsMatchSql(grams, { tableAlias: "m" })})`.execute(
        db,
      );
      expect(
        missed.rows.map((r) => labelOf.get(r.id)),
        phrase,
      ).toEqual([]);
    }
  });

  it("searches use the pairs: the phrases with a common word get them from the plan", async () => {
    const db = database.handle.db;
    for (const phrase of ["in the list", "the list keeper", "e-mail the list", "the q5"])
      expect((await gramsOf(db, tenant.tenantId, parseQuery(`"${phrase}"`))).length, phrase).toBe(1);
    expect(await gramsOf(db, tenant.tenantId, parseQuery(`"${rare} ${other}"`))).toEqual([]);
    const plan = await planOf(db, tenant, parseQuery(`"in the list"`), null);
    expect(plan.indexed.compile(db).sql).toContain("common_grams");
  });

  it("every strategy returns exactly the phrase's matches, tenant-wide and in a mailbox", async () => {
    for (const phrase of PHRASES) {
      const want = await truth(phrase);
      for (const strategy of ["auto", "planner-only", "window", "probe"] as const)
        expect(await found(tenant, `"${phrase}"`, strategy), `${phrase} ${strategy}`).toEqual(want);
      for (const strategy of ["auto", "walk", "planner-only"] as const)
        expect(await found(owner, `"${phrase}"`, strategy), `${phrase} ${strategy}`).toEqual(want);
    }
  });

  it("combined with other terms, excluded, or under OR, results stay exact", async () => {
    const inList = await truth("in the list");
    const cases: Array<[string, string[]]> = [
      [`"in the list" ${rare}`, inList],
      [`"in the list" -kernel`, inList.filter((l) => l !== "past-limits")],
      [`"in the list" OR ${other}`, [...inList, "other"].sort()],
      [
        `-"in the list" ${rare}`,
        MAIL.map((m) => m.label)
          .filter((l) => l !== "other" && !inList.includes(l))
          .sort(),
      ],
      [`"in the list" "the list"`, inList],
    ];
    for (const [q, want] of cases)
      for (const strategy of ["auto", "planner-only", "window"] as const)
        expect(await found(tenant, q, strategy), `${q} ${strategy}`).toEqual(want);
  });

  it("pairs come from PostgreSQL's parser: none for one word, every neighbour pair with a common word", async () => {
    const db = database.handle.db;
    expect(await phraseGrams(db, "the")).toEqual([]);
    expect(await phraseGrams(db, `${rare} ${other}`)).toEqual([]);
    expect((await phraseGrams(db, "in the list")).sort()).toEqual(["in the", "the list"]);
    expect((await phraseGrams(db, "e-mail the list")).sort()).toEqual(["mail the", "the list"]);
    expect((await phraseGrams(db, "It's the list")).sort()).toEqual(["it s", "s the", "the list"]);
  });

  it("a pair with quotes or backslashes is one lexeme of the tsquery, and overflowing messages always pass", async () => {
    const db = database.handle.db;
    const odd = ["it's the", "a\\b the"];
    const query = String(gramsMatchSql(odd, {}).compile(db).parameters[0]);
    const rows = await sql<{ both: boolean; one: boolean; overflow: boolean }>`SELECT
      array_to_tsvector(${odd}::text[]) @@ ${query}::tsquery AS both,
      array_to_tsvector(${odd.slice(0, 1)}::text[]) @@ ${query}::tsquery AS one,
      array_to_tsvector(ARRAY[${GRAM_OVERFLOW}]) @@ ${query}::tsquery AS overflow`.execute(db);
    expect(rows.rows[0]).toEqual({ both: true, one: false, overflow: true });
    const many = await sql<{ v: string }>`SELECT common_grams(search_vector)::text AS v FROM messages
      WHERE id = ${idOf.get("many-pairs") ?? ""}`.execute(db);
    expect(many.rows[0]?.v).toBe(`'${GRAM_OVERFLOW}'`);
  });

  it("common_grams as rewritten (migrations 0902, 3450) returns exactly what 0800's SQL function returned, so the built index stays valid", async () => {
    const db = database.handle.db;
    const language = await sql<{
      lanname: string;
      config: string[] | null;
    }>`SELECT l.lanname, p.proconfig AS config
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = 'common_grams'`.execute(db);
    // One plan per connection: a custom plan per call would plan the query again for every message.
    expect(language.rows).toEqual([{ lanname: "plpgsql", config: ["plan_cache_mode=force_generic_plan"] }]);
    await sql
      .raw(
        COMMON_GRAMS_FUNCTION.replace("CREATE FUNCTION common_grams(", "CREATE FUNCTION common_grams_0800("),
      )
      .execute(db);
    const compared = await sql<{ n: number; differ: number; pairs: number }>`SELECT count(*)::int AS n,
      count(*) FILTER (WHERE common_grams(v)::text IS DISTINCT FROM common_grams_0800(v)::text)::int AS differ,
      sum(length(common_grams(v)))::int AS pairs
      FROM (SELECT search_vector AS v FROM messages WHERE tenant_id = ${tenant.tenantId}
        UNION ALL SELECT 'kernel the end'::tsvector UNION ALL SELECT ''::tsvector
        UNION ALL SELECT to_tsvector('simple', 'in the list')
        UNION ALL SELECT to_tsvector('simple', 'in the list') || 'kernel'::tsvector
        UNION ALL SELECT 'a:1 b:1 the:2 c:2 d:3 the:5'::tsvector
        UNION ALL SELECT to_tsvector('simple', 'the ' || repeat('x', 197) || ' of ' || repeat('y', 198) || ' the')
        ) AS vectors`.execute(db);
    // Every edge case above (clamped and dropped positions, overflow), vectors without positions or words, one with
    // a single lexeme without positions, lexemes sharing a position, and pairs at the 200-byte limit.
    expect(compared.rows[0]).toMatchObject({ n: MAIL.length + FILLER + 6, differ: 0 });
    expect(compared.rows[0]?.pairs).toBeGreaterThan(MAIL.length);
  });
});
