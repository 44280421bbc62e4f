import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { buildTenant } from "../../../factories";
import { emptyDatabase } from "../../../support/db";
import { migrations } from "../../../../server/db/migrations/index";
import { migrateToLatest } from "../../../../server/db/migrate";
import {
  commitClassifierChange,
  loadStoredClassifier,
  storeWholeClassifier,
} from "../../../../server/mail/pipeline/classifier-store";
import { ContentClassifier } from "../../../../server/mail/scan/index";
import { useClassifierWorld, type ClassifierStep } from "./classifier-helpers";

// The classifier's tokens are rows: a change writes its message's tokens under the tenant's next revision. The
// stored model must equal the in-memory one. (How copies in other processes follow: classifier-registry.test.ts.)
const world = useClassifierWorld();
const { tokensOf, replay } = world;

describe("the stored classifier", () => {
  it("equals the in-memory model after learning, relabelling and unlearning", async () => {
    const tenant = await buildTenant(world.services.db);
    const steps: ClassifierStep[] = [
      ...world.ham.map((m) => ({ op: "learn" as const, tokens: tokensOf(m), label: "ham" as const })),
      ...world.spam.map((m) => ({ op: "learn" as const, tokens: tokensOf(m), label: "spam" as const })),
      // Two spam were phish after all; one ham was learnt by mistake.
      { op: "unlearn", tokens: tokensOf(world.spam[0]!), label: "spam" },
      { op: "learn", tokens: tokensOf(world.spam[0]!), label: "phish" },
      { op: "unlearn", tokens: tokensOf(world.spam[1]!), label: "spam" },
      { op: "learn", tokens: tokensOf(world.spam[1]!), label: "phish" },
      { op: "unlearn", tokens: tokensOf(world.ham[0]!), label: "ham" },
      // Unlearning a class with nothing learnt changes nothing, in memory and stored.
      { op: "unlearn", tokens: ["nothing", "here"], label: "phish" },
      { op: "unlearn", tokens: ["nothing", "here"], label: "phish" },
      { op: "unlearn", tokens: ["nothing", "here"], label: "phish" },
    ];
    const reference = await replay(tenant.id, steps);
    const { classifier, head } = await loadStoredClassifier(world.services.db, tenant.id);
    expect(head.revision).toBe(steps.length);
    expect(head.messages).toEqual({ ham: 11, spam: 10, phish: 0 });
    expect(classifier.toJSON()).toEqual(reference.toJSON());
    // Tokens only the unlearnt ham had are gone from the model (their rows stay, at zero).
    expect(classifier.vocabularySize).toBeLessThan(
      new Set([...world.ham, ...world.spam].flatMap((m) => tokensOf(m))).size,
    );
    for (const m of [...world.ham, ...world.spam])
      expect(classifier.classify(tokensOf(m))).toEqual(reference.classify(tokensOf(m)));
  });

  it("loads a whole model in pages of tokens, each a query of its own, the same as in one", async () => {
    const tenant = await buildTenant(world.services.db);
    const reference = await replay(tenant.id, [
      ...world.ham.map((m) => ({ op: "learn" as const, tokens: tokensOf(m), label: "ham" as const })),
      ...world.spam.map((m) => ({ op: "learn" as const, tokens: tokensOf(m), label: "spam" as const })),
      { op: "unlearn", tokens: tokensOf(world.ham[0]!), label: "ham" },
      // Tokens whose order differs between byte order and case-blind order: each page goes on from the last one.
      { op: "learn", tokens: ["Zebra", "apple", "Éclair", "éclair", "_", "~"], label: "ham" },
    ]);
    const size = reference.vocabularySize;
    let queries = 0;
    const counted = world.services.db.withPlugin({
      transformQuery: (args) => {
        queries += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    // The head, then ceil(size / page) pages; a last page that is exactly full costs one more, empty.
    for (const page of [97, Math.ceil(size / 3), size, size + 1]) {
      queries = 0;
      const { classifier } = await loadStoredClassifier(counted, tenant.id, page);
      expect({ page, tokens: classifier.toJSON() }).toEqual({ page, tokens: reference.toJSON() });
      expect({ page, queries }).toEqual({ page, queries: 1 + Math.floor(size / page) + 1 });
    }
  });

  it("stores a whole model in several statements, added to what is stored", async () => {
    const tenant = await buildTenant(world.services.db);
    const model = new ContentClassifier();
    // Enough distinct tokens to need more than one statement (20,000 rows each).
    for (let i = 0; i < 5; i++)
      model.learn(
        Array.from({ length: 9_000 }, (_, n) => `t${i}-${n}`),
        i % 2 ? "spam" : "ham",
      );
    for (const m of world.ham.slice(0, 3)) model.learn(tokensOf(m), "ham");
    expect(model.vocabularySize).toBeGreaterThan(40_000);
    await storeWholeClassifier(world.services.db, tenant.id, model);
    expect((await loadStoredClassifier(world.services.db, tenant.id)).classifier.toJSON()).toEqual(
      model.toJSON(),
    );
    await storeWholeClassifier(world.services.db, tenant.id, model);
    const twice = (await loadStoredClassifier(world.services.db, tenant.id)).classifier;
    expect(twice.messageCounts).toEqual({ ham: 12, spam: 4, phish: 0 });
    expect(twice.toJSON().tokens["t0-1"]).toEqual([2, 0, 0]);
  });

  it("writes nothing when the change says nothing changed, and nothing at all when it fails", async () => {
    const tenant = await buildTenant(world.services.db);
    await replay(tenant.id, [{ op: "learn", tokens: ["alpha", "beta"], label: "ham" }]);
    const unchanged = await world.services.db.transaction().execute((trx) =>
      commitClassifierChange(trx, tenant.id, async (change) => {
        change.learn(["gamma"], "spam");
        return false;
      }),
    );
    expect(unchanged).toBeNull();
    await expect(
      world.services.db.transaction().execute((trx) =>
        commitClassifierChange(trx, tenant.id, async (change) => {
          change.learn(["delta"], "spam");
          await sql`SELECT 1 / 0`.execute(trx);
          return true;
        }),
      ),
    ).rejects.toThrow(/division by zero/);
    const { classifier, head } = await loadStoredClassifier(world.services.db, tenant.id);
    expect(head).toEqual({ revision: 1, prunedRevision: 0, messages: { ham: 1, spam: 0, phish: 0 } });
    expect(Object.keys(classifier.toJSON().tokens).sort()).toEqual(["alpha", "beta"]);
  });
});
describe("migration 2000", () => {
  it("moves a model stored as one JSON document into rows, unchanged", async () => {
    const empty = await emptyDatabase();
    try {
      const db = empty.db;
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      const before = await migrator.migrateTo("1900_classifier_corpus");
      expect(before.error).toBeUndefined();
      // Written as that schema had it (the factories write today's columns).
      const {
        rows: [tenant],
      } = await sql<{ id: string }>`INSERT INTO tenants (name) VALUES ('Before 2000') RETURNING id`.execute(
        db,
      );
      if (!tenant) throw new Error("no tenant");
      const model = new ContentClassifier();
      for (const m of world.ham.slice(0, 4)) model.learn(tokensOf(m), "ham");
      for (const m of world.spam.slice(0, 3)) model.learn(tokensOf(m), "spam");
      model.learn(tokensOf(world.spam[5]!), "phish");
      await sql`INSERT INTO classifier_states (tenant_id, state) VALUES (${tenant.id}, ${JSON.stringify(model.toJSON())}::jsonb)`.execute(
        db,
      );
      expect(await migrateToLatest(db)).toContain("2000_classifier_tokens");
      const { classifier, head } = await loadStoredClassifier(db, tenant.id);
      expect(head).toEqual({ revision: 1, prunedRevision: 0, messages: { ham: 4, spam: 3, phish: 1 } });
      expect(classifier.toJSON()).toEqual(model.toJSON());
    } finally {
      await empty.close();
    }
  });
});
