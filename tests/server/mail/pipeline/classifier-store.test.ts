import { randomBytes } from "node:crypto";
import pg from "pg";
import { Migrator, sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { buildTenant } from "../../../factories";
import { readCorpus, type CorpusMessage } from "../../archive/corpus";
import { openDatabase } from "../../../../server/db/connection";
import { migrations } from "../../../../server/db/migrations/index";
import { migrateToLatest } from "../../../../server/db/migrate";
import {
  applyClassifierDelta,
  commitClassifierChange,
  loadStoredClassifier,
  storeWholeClassifier,
} from "../../../../server/mail/pipeline/classifier-store";
import { ClassifierRegistry } from "../../../../server/mail/pipeline/classifiers";
import { ContentClassifier, messageTokens, type ClassLabel } from "../../../../server/mail/scan/index";
import type { Services } from "../../../../server/context";
import type { Database } from "../../../../server/db/schema";

// The classifier's tokens are rows: a change writes its message's tokens under the tenant's next revision, and a
// process holding an older copy reads only what changed since. The stored model must equal the in-memory one.
let database: TestDatabase;
let services: Services;
let tokensOf: (m: CorpusMessage) => string[];
let ham: CorpusMessage[];
let spam: CorpusMessage[];

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  tokensOf = (m) => messageTokens(m.parsed);
  ham = await readCorpus("spamassassin", "ham", 1, 12);
  spam = await readCorpus("spamassassin", "spam", 1, 12);
});

afterAll(async () => {
  await database?.destroy();
});

type Step = { op: "learn" | "unlearn"; tokens: string[]; label: ClassLabel };

/** Commits each step as its own change, and applies the same steps to an in-memory model. */
async function replay(tenantId: string, steps: Step[]): Promise<ContentClassifier> {
  const reference = new ContentClassifier();
  for (const step of steps) {
    reference[step.op](step.tokens, step.label);
    await services.db.transaction().execute((trx) =>
      commitClassifierChange(trx, tenantId, async (change) => {
        change[step.op](step.tokens, step.label);
        return true;
      }),
    );
  }
  return reference;
}

describe("the stored classifier", () => {
  it("equals the in-memory model after learning, relabelling and unlearning", async () => {
    const tenant = await buildTenant(services.db);
    const steps: Step[] = [
      ...ham.map((m) => ({ op: "learn" as const, tokens: tokensOf(m), label: "ham" as const })),
      ...spam.map((m) => ({ op: "learn" as const, tokens: tokensOf(m), label: "spam" as const })),
      // Two spam were phish after all; one ham was learnt by mistake.
      { op: "unlearn", tokens: tokensOf(spam[0]!), label: "spam" },
      { op: "learn", tokens: tokensOf(spam[0]!), label: "phish" },
      { op: "unlearn", tokens: tokensOf(spam[1]!), label: "spam" },
      { op: "learn", tokens: tokensOf(spam[1]!), label: "phish" },
      { op: "unlearn", tokens: tokensOf(ham[0]!), label: "ham" },
      // Unlearning a class with nothing learnt changes nothing, in memory and stored.
      { op: "unlearn", tokens: ["nothing", "here"], label: "phish" },
      { op: "unlearn", tokens: ["nothing", "here"], label: "phish" },
      { op: "unlearn", tokens: ["nothing", "here"], label: "phish" },
    ];
    const reference = await replay(tenant.id, steps);
    const { classifier, head } = await loadStoredClassifier(services.db, tenant.id);
    expect(head.revision).toBe(steps.length);
    expect(head.messages).toEqual({ ham: 11, spam: 10, phish: 0 });
    expect(classifier.toJSON()).toEqual(reference.toJSON());
    // Tokens only the unlearnt ham had are gone from the model (their rows stay, at zero).
    expect(classifier.vocabularySize).toBeLessThan(
      new Set([...ham, ...spam].flatMap((m) => tokensOf(m))).size,
    );
    for (const m of [...ham, ...spam])
      expect(classifier.classify(tokensOf(m))).toEqual(reference.classify(tokensOf(m)));
  });

  it("brings another process's copy up to date with only the rows changed since its revision", async () => {
    const tenant = await buildTenant(services.db);
    await replay(
      tenant.id,
      ham.slice(0, 6).map((m) => ({ op: "learn", tokens: tokensOf(m), label: "ham" })),
    );
    const elsewhere = new ClassifierRegistry(services.db);
    const copy = await elsewhere.get(tenant.id);
    expect(elsewhere.versionOf(tenant.id)).toBe("6");

    const newTokens = tokensOf(spam[2]!);
    await replay(tenant.id, [{ op: "learn", tokens: newTokens, label: "spam" }]);
    const changed = await services.db
      .selectFrom("classifier_tokens")
      .select("token")
      .where("tenant_id", "=", tenant.id)
      .where("changed", ">", 6)
      .execute();
    expect(new Set(changed.map((r) => r.token))).toEqual(new Set(newTokens));

    // Not due yet: the copy is as it was. Forced: it takes the change, in place.
    expect((await elsewhere.get(tenant.id)).messageCounts.spam).toBe(0);
    await elsewhere.refreshNow(tenant.id);
    expect(elsewhere.peek(tenant.id)).toBe(copy);
    expect(elsewhere.versionOf(tenant.id)).toBe("7");
    expect(copy.toJSON()).toEqual((await loadStoredClassifier(services.db, tenant.id)).classifier.toJSON());
    // A tenant with nothing stored has an untrained copy.
    const empty = await buildTenant(services.db);
    expect((await elsewhere.get(empty.id)).messageCounts).toEqual({ ham: 0, spam: 0, phish: 0 });
    expect(elsewhere.versionOf(empty.id)).toBe("none");
  });

  it("gives a copy that fell behind the rows it misses, as long as the recent refreshes reach back to it", async () => {
    const tenant = await buildTenant(services.db);
    await replay(tenant.id, [{ op: "learn", tokens: tokensOf(ham[0]!), label: "ham" }]);
    const registry = new ClassifierRegistry(services.db);
    await registry.get(tenant.id);
    // A scan worker's copy, taken at revision 1.
    const worker = ContentClassifier.fromJSON(registry.peek(tenant.id)!.toJSON());
    expect(registry.changesSince(tenant.id, "1")).toEqual({
      from: 1,
      to: 1,
      tokens: [],
      messages: { ham: 1, spam: 0, phish: 0 },
    });
    for (const m of spam.slice(0, 3)) {
      await replay(tenant.id, [{ op: "learn", tokens: tokensOf(m), label: "spam" }]);
      await registry.refreshNow(tenant.id);
    }
    await replay(tenant.id, [{ op: "unlearn", tokens: tokensOf(spam[0]!), label: "spam" }]);
    await registry.refreshNow(tenant.id);
    const delta = registry.changesSince(tenant.id, "1");
    expect(delta).toMatchObject({ from: 1, to: 5, messages: { ham: 1, spam: 2, phish: 0 } });
    // Each token once, with its latest counts.
    expect(new Set(delta!.tokens.map(([token]) => token)).size).toBe(delta!.tokens.length);
    applyClassifierDelta(worker, delta!);
    expect(worker.toJSON()).toEqual(registry.peek(tenant.id)!.toJSON());
    expect(registry.changesSince(tenant.id, "3")).toMatchObject({ from: 3, to: 5 });
    // Older than what this process loaded, or not a version at all: the whole model is needed.
    expect(registry.changesSince(tenant.id, "none")).toBeNull();
    expect(registry.changesSince(tenant.id, "unloaded")).toBeNull();
    expect(registry.changesSince(tenant.id, "9")).toBeNull();
  });

  it("after this process's own change, reads it even when a refresh that began before the commit is in flight", async () => {
    const tenant = await buildTenant(services.db);
    await replay(tenant.id, [{ op: "learn", tokens: ["first"], label: "ham" }]);
    const gate = new HeadReadGate(services.db);
    const registry = new ClassifierRegistry(gate.database());
    await registry.get(tenant.id);
    gate.close();
    // A due refresh reads the head (revision 1), and its answer is held back.
    const inFlight = registry.get(tenant.id, Date.now() + 60_000);
    await gate.holding();
    await replay(tenant.id, [{ op: "learn", tokens: ["second"], label: "spam" }]);
    const own = registry.refreshNow(tenant.id);
    gate.open();
    await Promise.all([inFlight, own]);
    expect(registry.versionOf(tenant.id)).toBe("2");
    expect(registry.peek(tenant.id)?.messageCounts).toEqual({ ham: 1, spam: 1, phish: 0 });
  });

  it("keeps only the recent refreshes for copies to catch up from", async () => {
    const tenant = await buildTenant(services.db);
    const registry = new ClassifierRegistry(services.db);
    await registry.get(tenant.id);
    expect(registry.versionOf(tenant.id)).toBe("none");
    for (let i = 0; i < 66; i++) {
      await replay(tenant.id, [{ op: "learn", tokens: [`word${i}`], label: i % 2 ? "spam" : "ham" }]);
      await registry.refreshNow(tenant.id);
    }
    // 64 refreshes are kept: a copy at revision 2 can catch up, one at 1 or with nothing cannot.
    expect(registry.changesSince(tenant.id, "2")).toMatchObject({ from: 2, to: 66 });
    expect(registry.changesSince(tenant.id, "2")!.tokens).toHaveLength(64);
    expect(registry.changesSince(tenant.id, "1")).toBeNull();
    expect(registry.changesSince(tenant.id, "none")).toBeNull();
  });

  it("stores a whole model in several statements, added to what is stored", async () => {
    const tenant = await buildTenant(services.db);
    const model = new ContentClassifier();
    // Enough distinct tokens to need more than one statement (20,000 rows each).
    for (let i = 0; i < 5; i++)
      model.learn(
        Array.from({ length: 9_000 }, (_, n) => `t${i}-${n}`),
        i % 2 ? "spam" : "ham",
      );
    for (const m of ham.slice(0, 3)) model.learn(tokensOf(m), "ham");
    expect(model.vocabularySize).toBeGreaterThan(40_000);
    await storeWholeClassifier(services.db, tenant.id, model);
    expect((await loadStoredClassifier(services.db, tenant.id)).classifier.toJSON()).toEqual(model.toJSON());
    await storeWholeClassifier(services.db, tenant.id, model);
    const twice = (await loadStoredClassifier(services.db, tenant.id)).classifier;
    expect(twice.messageCounts).toEqual({ ham: 12, spam: 4, phish: 0 });
    expect(twice.toJSON().tokens["t0-1"]).toEqual([2, 0, 0]);
  });

  it("writes nothing when the change says nothing changed, and nothing at all when it fails", async () => {
    const tenant = await buildTenant(services.db);
    await replay(tenant.id, [{ op: "learn", tokens: ["alpha", "beta"], label: "ham" }]);
    const unchanged = await services.db.transaction().execute((trx) =>
      commitClassifierChange(trx, tenant.id, async (change) => {
        change.learn(["gamma"], "spam");
        return false;
      }),
    );
    expect(unchanged).toBeNull();
    await expect(
      services.db.transaction().execute((trx) =>
        commitClassifierChange(trx, tenant.id, async (change) => {
          change.learn(["delta"], "spam");
          await sql`SELECT 1 / 0`.execute(trx);
          return true;
        }),
      ),
    ).rejects.toThrow(/division by zero/);
    const { classifier, head } = await loadStoredClassifier(services.db, tenant.id);
    expect(head).toEqual({ revision: 1, messages: { ham: 1, spam: 0, phish: 0 } });
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
      const tenant = await buildTenant(db);
      const model = new ContentClassifier();
      for (const m of ham.slice(0, 4)) model.learn(tokensOf(m), "ham");
      for (const m of spam.slice(0, 3)) model.learn(tokensOf(m), "spam");
      model.learn(tokensOf(spam[5]!), "phish");
      await sql`INSERT INTO classifier_states (tenant_id, state) VALUES (${tenant.id}, ${JSON.stringify(model.toJSON())}::jsonb)`.execute(
        db,
      );
      expect(await migrateToLatest(db)).toContain("2000_classifier_tokens");
      const { classifier, head } = await loadStoredClassifier(db, tenant.id);
      expect(head).toEqual({ revision: 1, messages: { ham: 4, spam: 3, phish: 1 } });
      expect(classifier.toJSON()).toEqual(model.toJSON());
    } finally {
      await empty.close();
    }
  });
});

/** A database with no migrations applied, on the suite's engine. */
async function emptyDatabase() {
  const url = process.env.DATABASE_URL;
  if (!url) return openDatabase({ kind: "pglite-memory" });
  const name = `mw_m_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = await openDatabase({ kind: "postgres", url: target.toString() });
  return {
    db: handle.db,
    async close() {
      await handle.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * The database, except that while the gate is closed a head read (`classifier_states`) is answered only when the
 * gate opens: the query has run and let go of its connection, and the refresh that made it is in flight.
 */
class HeadReadGate {
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  private held: () => void = () => undefined;
  private heldOnce: Promise<void> = Promise.resolve();

  constructor(private readonly db: Kysely<Database>) {}

  close(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
    this.heldOnce = new Promise((resolve) => (this.held = resolve));
  }

  open(): void {
    this.release();
  }

  /** Resolves once a head read's answer is being held. */
  holding(): Promise<void> {
    return this.heldOnce;
  }

  /** The gated database. */
  database(): Kysely<Database> {
    return new Proxy(this.db, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property !== "selectFrom" || typeof value !== "function") return value;
        return (table: string) => {
          const builder: unknown = value.call(target, table);
          return table === "classifier_states" ? this.gated(builder) : builder;
        };
      },
    });
  }

  /** A query builder whose derived builders are gated too, and whose `executeTakeFirst` waits for the gate. */
  private gated<T>(builder: T): T {
    return new Proxy(builder as object, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        if (property === "executeTakeFirst")
          return async () => {
            const row: unknown = await value.call(target);
            this.held();
            await this.gate;
            return row;
          };
        return (...args: unknown[]) => {
          const next: unknown = value.apply(target, args);
          return next && typeof next === "object" && "executeTakeFirst" in next ? this.gated(next) : next;
        };
      },
    }) as T;
  }
}
