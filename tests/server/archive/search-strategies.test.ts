import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";
import { searchArchive, type SearchInput } from "../../../server/archive/search";
import type { ArchiveScope } from "../../../server/archive/scope";
import { sql } from "kysely";
import { parseQuery } from "../../../server/archive/query";
import { keysNewestFirst } from "../../../server/archive/search-keys";
import { planOf, type StrategyRequest } from "../../../server/archive/search-strategy";
import { fileFor, mimeMessage, uniqueWord } from "./helpers";

// Every way of reading a page (probe, date windows, walk of a small mailbox, the planner) must give
// the same pages. The archive is built so that the newest mail holds the phrase's words without the
// phrase: a bounded read of the newest rows finds nothing and has to go further back.
let database: TestDatabase;
let tenant: ArchiveScope;
let alice: ArchiveScope;
let bob: ArchiveScope;
const labelOf = new Map<string, string>();
const first = uniqueWord("qa");
const second = uniqueWord("qb");
const phrase = `"${first} ${second}"`;

const day = (year: number, n: number) => new Date(Date.UTC(year, 0, 1 + n, 12));

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.handle.db;
  const t = await buildTenant(db);
  const a = await buildUser(db, { tenantId: t.id });
  const b = await buildUser(db, { tenantId: t.id });
  tenant = { tenantId: t.id, kind: "tenant" };
  alice = { tenantId: t.id, kind: "users", userIds: [a.id] };
  bob = { tenantId: t.id, kind: "users", userIds: [b.id] };
  const mail: Array<{ label: string; owner: { id: string; email: string }; date: Date; text: string }> = [];
  // Alice, 2015: the phrase. Alice, 2020–2023: both words, reversed or apart. Bob, 2024: the phrase.
  // Alice also has the phrase in mail dated far ahead (2031, as spam often is) and in 1971.
  for (let n = 0; n < 5; n++)
    mail.push({
      label: `old${n}`,
      owner: a,
      date: day(2015, n * 20),
      text: `see the ${first} ${second} now`,
    });
  for (let n = 0; n < 30; n++)
    mail.push({ label: `rev${n}`, owner: a, date: day(2020, n * 40), text: `${second} then ${first}` });
  for (let n = 0; n < 3; n++)
    mail.push({ label: `apart${n}`, owner: a, date: day(2024, n), text: `${first} is not ${second}` });
  for (let n = 0; n < 4; n++)
    mail.push({ label: `bob${n}`, owner: b, date: day(2024, 100 + n), text: `${first} ${second} for Bob` });
  mail.push({ label: "future0", owner: a, date: day(2031, 0), text: `win ${first} ${second}` });
  mail.push({ label: "epoch0", owner: a, date: day(1971, 0), text: `${first} ${second} of old` });
  for (const m of mail) {
    const raw = mimeMessage({ to: m.owner.email, subject: `Note ${m.label}`, text: m.text, date: m.date });
    const filed = await fileFor(db, t.id, raw, [m.owner]);
    labelOf.set(filed.id, m.label);
  }
  // Statistics as autovacuum would leave them on PostgreSQL (the strategies size their reads from them).
  await sql`ANALYZE messages`.execute(db);
  await sql`ANALYZE mailbox_links`.execute(db);
}, 120_000);

afterAll(async () => {
  await database?.destroy();
});

/** Every page of a search, as labels in the order returned; checks the strategy each page used. */
async function allPages(scope: ArchiveScope, q: string, strategy: StrategyRequest, limit = 3) {
  const labels: string[] = [];
  const strategies = new Set<string>();
  let cursor: string | undefined;
  let total = -1;
  let exact = false;
  for (let page = 0; page < 40; page++) {
    const input: SearchInput = { q, limit, sort: "date", strategy, ...(cursor ? { cursor } : {}) };
    const result = await searchArchive(database.handle.db, scope, input);
    if (page === 0) {
      total = result.estimatedTotal;
      exact = result.totalIsExact;
    }
    strategies.add(result.strategy);
    labels.push(...result.rows.map((r) => labelOf.get(r.id) ?? r.id));
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return { labels, strategies, total, exact };
}

const newestFirst = (...groups: string[][]) => groups.flat();
/** Alice's matches, newest first: the future-dated one, 2015, 1971. */
const ALICE = ["future0", "old4", "old3", "old2", "old1", "old0", "epoch0"];
const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${n - 1 - i}`);
const ALL: StrategyRequest[] = ["auto", "planner-only", "probe", "window", "walk"];

describe("archive search strategies give the same pages", () => {
  it("a phrase: tenant-wide, every strategy pages through exactly its matches, newest first", async () => {
    const want = newestFirst(["future0"], range("bob", 4), ALICE.slice(1));
    for (const strategy of ALL) {
      const got = await allPages(tenant, phrase, strategy);
      expect(got.labels, strategy).toEqual(want);
      expect(got.total, strategy).toBe(11);
      expect(got.exact, strategy).toBe(true);
    }
  });

  it("date windows reach matches older than the first windows and the probe (words apart never match)", async () => {
    const window = await allPages(tenant, phrase, "window", 2);
    expect(window.strategies).toEqual(new Set(["window"]));
    expect(window.labels).toEqual(newestFirst(["future0"], range("bob", 4), ALICE.slice(1)));
    // Without Bob's and the future-dated one: 33 newer messages hold both words, none the phrase.
    const q = `${phrase} -Bob -win`;
    const probe = await allPages(tenant, q, "probe", 2);
    expect(probe.labels).toEqual(ALICE.slice(1));
    expect(await allPages(tenant, q, "window", 1)).toMatchObject({ labels: ALICE.slice(1) });
    // The first window (the newest rows) holds none of them: the page took more than one window.
    const plan = await planOf(database.handle.db, tenant, parseQuery(q), null);
    const read = await keysNewestFirst(database.handle.db, tenant, plan, "window", null, 2);
    expect(read.keys.map((k) => labelOf.get(k.id))).toEqual(["old4", "old3"]);
    expect(read.windows).toBeGreaterThan(1);
  });

  it("a users scope never reaches another user's mail, whichever way it is read", async () => {
    for (const strategy of ALL) {
      const own = await allPages(alice, phrase, strategy);
      expect(own.labels, strategy).toEqual(ALICE);
      expect(own.total, strategy).toBe(7);
      expect((await allPages(bob, phrase, strategy)).labels, strategy).toEqual(range("bob", 4));
    }
    const walked = await allPages(alice, phrase, "walk");
    expect(walked.strategies).toEqual(new Set(["walk"]));
  });

  it("the words without quotes match wherever both appear; relevance ranks only matches", async () => {
    const words = await allPages(tenant, `${first} ${second}`, "window", 10);
    expect(words.labels).toHaveLength(44);
    for (const strategy of ALL) {
      const ranked = await searchArchive(database.handle.db, tenant, {
        q: phrase,
        limit: 20,
        sort: "relevance",
        strategy,
      });
      const labels = ranked.rows.map((r) => labelOf.get(r.id) ?? r.id).sort();
      expect(labels, strategy).toEqual([...range("bob", 4), ...ALICE].sort());
    }
  });
});
