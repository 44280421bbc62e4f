import { describe, expect, it } from "vitest";
import { buildTenant } from "../../../factories";
import { testConfig, testServices } from "../../../support/services";
import { loadStoredClassifier } from "../../../../server/mail/pipeline/classifier-store";
import { ClassifierRegistry } from "../../../../server/mail/pipeline/classifiers";
import { pruneClassifier } from "../../../../server/commands/classifier/prune";
import { startClassifierPruningJob } from "../../../../server/jobs/classifier-pruning";
import { systemActor } from "../../../../server/auth/actor";
import { useClassifierWorld } from "./classifier-helpers";
import {
  planPruning,
  pruneStep,
  startOfPruning,
  type PruningPlan,
  type PruningProgress,
} from "../../../../server/mail/pipeline/classifier-prune";

// Every process (and scan thread) holds a tenant's whole vocabulary, and reports and releases add to it for as long
// as the organisation exists: past MAILWARD_CLASSIFIER_MAX_TOKENS the least telling tokens are pruned.
const world = useClassifierWorld();

/** One step of a plan in its own transaction; a test's pruning runs alone, so a step that stops is a failure. */
async function stepOf(plan: PruningPlan, progress: PruningProgress, rows: number) {
  const step = await world.services.db.transaction().execute((trx) => pruneStep(trx, plan, progress, rows));
  if (!step) throw new Error("the step found another pruning");
  return step;
}

/** A tenant whose model holds 30 tokens seen once (revision 1) and 70 seen twice (revisions 2 and 3). */
async function onceAndTwice() {
  const tenant = await buildTenant(world.services.db);
  await world.replay(tenant.id, [
    { op: "learn", tokens: tokens("once", 30), label: "ham" },
    { op: "learn", tokens: tokens("twice", 70), label: "ham" },
    { op: "learn", tokens: tokens("twice", 70), label: "spam" },
  ]);
  return tenant;
}

/** A plan that a test's model needs (over its limit). */
async function planOf(tenantId: string, limit: number): Promise<PruningPlan> {
  const plan = await planPruning(world.services.db, tenantId, limit);
  if (!plan) throw new Error("the model is within the limit: no plan");
  return plan;
}

/** `n` synthetic tokens with a prefix: the pruning's order is exact on them. */
const tokens = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

async function storedTokens(tenantId: string): Promise<Map<string, number>> {
  const rows = await world.services.db
    .selectFrom("classifier_tokens")
    .select(["token", "ham", "spam", "phish"])
    .where("tenant_id", "=", tenantId)
    .execute();
  return new Map(rows.map((r) => [r.token, r.ham + r.spam + r.phish]));
}

async function head(tenantId: string) {
  return world.services.db
    .selectFrom("classifier_states")
    .select(["revision", "pruned_revision"])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
}

async function prunedEvents(tenantId: string) {
  return world.services.db
    .selectFrom("audit_events")
    .select(["actor_label", "target_id", "details"])
    .where("tenant_id", "=", tenantId)
    .where("action", "=", "classifier.pruned")
    .execute();
}

describe("pruning the classifier's vocabulary", () => {
  it("leaves a model within the limit as it is, without an audit event", async () => {
    const tenant = await buildTenant(world.services.db);
    await world.replay(tenant.id, [{ op: "learn", tokens: tokens("a", 50), label: "ham" }]);
    const actor = systemActor(tenant.id, "classifier");
    expect(await pruneClassifier(world.services, actor, 50)).toBeNull();
    expect((await storedTokens(tenant.id)).size).toBe(50);
    expect(await head(tenant.id)).toEqual({ revision: 1, pruned_revision: 0 });
    expect(await prunedEvents(tenant.id)).toEqual([]);
    // A tenant that never learnt has nothing to prune.
    const empty = await buildTenant(world.services.db);
    expect(await pruneClassifier(world.services, systemActor(empty.id, "classifier"), 10)).toBeNull();
  });

  it("deletes the tokens seen in the fewest messages first, the longest unchanged among them, and unlearnt rows", async () => {
    const tenant = await buildTenant(world.services.db);
    const shared = tokens("both", 40);
    const old = tokens("old", 30);
    const recent = tokens("new", 30);
    const gone = tokens("unlearnt", 5);
    await world.replay(tenant.id, [
      { op: "learn", tokens: [...shared, ...old], label: "ham" }, // revision 1
      { op: "learn", tokens: gone, label: "spam" }, // 2
      { op: "unlearn", tokens: gone, label: "spam" }, // 3: five rows at zero
      { op: "learn", tokens: [...shared, ...recent], label: "spam" }, // 4
    ]);
    // 100 tokens in use; a limit of 90 keeps 81 (nine tenths): the 30 old ones seen once go first, then 9 of the
    // 30 recent ones seen once (by token), never one of the 40 seen twice.
    const pruning = await pruneClassifier(world.services, systemActor(tenant.id, "classifier"), 90);
    expect(pruning).toEqual({ removed: 19, kept: 81, revision: 5 });
    const stored = await storedTokens(tenant.id);
    expect(stored.size).toBe(81);
    for (const token of shared) expect(stored.get(token)).toBe(2);
    for (const token of gone) expect(stored.has(token)).toBe(false);
    // The ties (seen once, same revision) go in the tokens' order.
    for (const token of recent) expect(stored.get(token)).toBe(1);
    expect(new Set(old.filter((t) => stored.has(t)))).toEqual(new Set([...old].sort().slice(19)));
    expect(await head(tenant.id)).toEqual({ revision: 5, pruned_revision: 5 });
    expect(await prunedEvents(tenant.id)).toEqual([
      {
        actor_label: "system:classifier",
        target_id: tenant.id,
        details: { removed: 19, kept: 81, limit: 90 },
      },
    ]);
    // Message counts are the model's, untouched; a second round finds it within the limit.
    expect((await loadStoredClassifier(world.services.db, tenant.id)).head.messages).toEqual({
      ham: 1,
      spam: 1,
      phish: 0,
    });
    expect(await pruneClassifier(world.services, systemActor(tenant.id, "classifier"), 90)).toBeNull();
  });

  it("deletes in steps of bounded size, each its own audited transaction, to the same tokens as one step", async () => {
    const steps = [
      { op: "learn" as const, tokens: [...tokens("both", 40), ...tokens("old", 30)], label: "ham" as const },
      { op: "learn" as const, tokens: tokens("unlearnt", 5), label: "spam" as const },
      { op: "unlearn" as const, tokens: tokens("unlearnt", 5), label: "spam" as const },
      { op: "learn" as const, tokens: [...tokens("both", 40), ...tokens("new", 30)], label: "spam" as const },
    ];
    const whole = await buildTenant(world.services.db);
    const stepped = await buildTenant(world.services.db);
    await world.replay(whole.id, steps);
    await world.replay(stepped.id, steps);
    await pruneClassifier(world.services, systemActor(whole.id, "classifier"), 90);
    // 5 rows at zero and 19 tokens, 7 rows a step: four steps (7, 7, 7, 3 rows), each a revision of its own.
    const pruning = await pruneClassifier(world.services, systemActor(stepped.id, "classifier"), 90, {
      stepRows: 7,
    });
    expect(pruning).toEqual({ removed: 19, kept: 81, revision: 8 });
    expect(await storedTokens(stepped.id)).toEqual(await storedTokens(whole.id));
    expect(await head(stepped.id)).toEqual({ revision: 8, pruned_revision: 8 });
    const events = await prunedEvents(stepped.id);
    expect(events.map((e) => e.details)).toEqual([
      { removed: 2, kept: 98, limit: 90 },
      { removed: 7, kept: 91, limit: 90 },
      { removed: 7, kept: 84, limit: 90 },
      { removed: 3, kept: 81, limit: 90 },
    ]);
  });

  it("leaves alone what feedback taught between two steps", async () => {
    const tenant = await onceAndTwice();
    // 100 tokens, a limit of 50 keeps 45: the 30 seen once go, and 25 of those seen twice (by token).
    const plan = await planOf(tenant.id, 50);
    expect(plan).toMatchObject({ asOf: 3, live: 100, cutoff: { count: 2, changed: 3 }, fromLevel: 25 });
    const first = await stepOf(plan, startOfPruning(plan), 20);
    expect(first).toMatchObject({ removed: 20, done: false });
    // Meanwhile a report teaches tokens seen once, and one of the level's tokens is seen a third time.
    await world.replay(tenant.id, [
      { op: "learn", tokens: [...tokens("fresh", 10), "twice0"], label: "spam" },
    ]);
    let progress = first.progress;
    let removed = first.removed;
    for (let done = false; !done;) {
      const step = await stepOf(plan, progress, 20);
      progress = step.progress;
      removed += step.removed;
      done = step.done;
    }
    expect(removed).toBe(55);
    const stored = await storedTokens(tenant.id);
    for (const token of tokens("fresh", 10)) expect(stored.get(token)).toBe(1);
    expect(stored.get("twice0")).toBe(3);
    expect(tokens("once", 30).filter((t) => stored.has(t))).toEqual([]);
    // The level's first 25 by token, of those still in it.
    const level = tokens("twice", 70)
      .filter((t) => t !== "twice0")
      .sort();
    expect(
      tokens("twice", 70)
        .filter((t) => !stored.has(t))
        .sort(),
    ).toEqual(level.slice(0, 25));
  });

  it("stops where another instance's pruning of the same model ran meanwhile", async () => {
    const tenant = await onceAndTwice();
    // Two instances plan the same pruning (55 tokens); the first to step wins, the other deletes nothing.
    const mine = await planOf(tenant.id, 50);
    const theirs = await planOf(tenant.id, 50);
    const step = await stepOf(theirs, startOfPruning(theirs), 20);
    expect(
      await world.services.db.transaction().execute((trx) => pruneStep(trx, mine, startOfPruning(mine), 20)),
    ).toBeNull();
    // Their next step goes on from their own stamp.
    const next = await stepOf(theirs, step.progress, 100);
    expect(step.removed + next.removed).toBe(55);
    expect((await storedTokens(tenant.id)).size).toBe(45);
  });

  it("keeps this process's copy as it is between its own pruning's steps, and reloads it once at the end", async () => {
    const tenant = await onceAndTwice();
    const registry = new ClassifierRegistry(world.services.db);
    const before = await registry.get(tenant.id);
    const plan = await planOf(tenant.id, 50);
    const later = Date.now() + 60_000; // past the copy's 30 s recheck
    await registry.whilePruning(tenant.id, async () => {
      const first = await stepOf(plan, startOfPruning(plan), 20);
      // A message arriving between two steps: the copy is not read whole again, only to be read again at the end.
      expect(await registry.get(tenant.id, later)).toBe(before);
      await stepOf(plan, first.progress, 100);
    });
    const after = registry.peek(tenant.id);
    expect(after).not.toBe(before);
    expect(after?.vocabularySize).toBe(45);
    expect(after?.toJSON()).toEqual(
      (await loadStoredClassifier(world.services.db, tenant.id)).classifier.toJSON(),
    );
  });

  it("ends between two steps when the job is stopped, leaving a smaller model that a later round plans anew", async () => {
    const tenant = await onceAndTwice();
    const actor = systemActor(tenant.id, "classifier");
    const first = await pruneClassifier(world.services, actor, 50, { stepRows: 20, stopped: () => true });
    expect(first).toMatchObject({ removed: 20, kept: 80 });
    expect((await storedTokens(tenant.id)).size).toBe(80);
    // Still past the limit: the next round plans from the 80 left and keeps 45.
    expect(await pruneClassifier(world.services, actor, 50, { stepRows: 20 })).toMatchObject({ kept: 45 });
    expect((await storedTokens(tenant.id)).size).toBe(45);
  });

  it("makes copies older than the pruning load the model whole, and scan threads take it whole", async () => {
    const tenant = await buildTenant(world.services.db);
    await world.replay(tenant.id, [
      { op: "learn", tokens: tokens("once", 60), label: "ham" },
      { op: "learn", tokens: tokens("twice", 20), label: "ham" },
      { op: "learn", tokens: tokens("twice", 20), label: "spam" },
    ]);
    const elsewhere = new ClassifierRegistry(world.services.db);
    const before = await elsewhere.get(tenant.id);
    expect(before.vocabularySize).toBe(80);
    expect(elsewhere.versionOf(tenant.id)).toBe("3");
    // A change the copy takes as rows: its recent refreshes now reach back to revision 3.
    await world.replay(tenant.id, [{ op: "learn", tokens: ["extra"], label: "ham" }]);
    await elsewhere.refreshNow(tenant.id);
    expect(elsewhere.changesSince(tenant.id, "3")).toMatchObject({ from: 3, to: 4 });

    await pruneClassifier(world.services, systemActor(tenant.id, "classifier"), 40);
    // A refresh reading only the rows changed since revision 4 would find none and keep all 81.
    await elsewhere.refreshNow(tenant.id);
    const after = elsewhere.peek(tenant.id)!;
    expect(after.vocabularySize).toBe(36);
    expect(after.toJSON()).toEqual(
      (await loadStoredClassifier(world.services.db, tenant.id)).classifier.toJSON(),
    );
    expect(elsewhere.versionOf(tenant.id)).toBe("5");
    // A scan thread's copy from before cannot be brought up to date by rows: it is sent the whole model.
    expect(elsewhere.changesSince(tenant.id, "3")).toBeNull();
    expect(elsewhere.changesSince(tenant.id, "4")).toBeNull();

    // Changes after the pruning travel as rows again, from the pruned revision on only.
    await world.replay(tenant.id, [{ op: "learn", tokens: ["fresh"], label: "spam" }]);
    await elsewhere.refreshNow(tenant.id);
    expect(elsewhere.peek(tenant.id)).toBe(after);
    expect(after.vocabularySize).toBe(37);
    expect(elsewhere.changesSince(tenant.id, "5")).toMatchObject({
      from: 5,
      to: 6,
      tokens: [["fresh", 0, 1, 0]],
    });
    expect(elsewhere.changesSince(tenant.id, "3")).toBeNull();
  });

  it("runs for every organisation from the periodic job, at the configured limit", async () => {
    const services = testServices(world.services.db, world.services.engine, {
      config: testConfig({ MAILWARD_CLASSIFIER_MAX_TOKENS: "10000" }),
    });
    const big = await buildTenant(services.db);
    const small = await buildTenant(services.db);
    await world.replay(big.id, [{ op: "learn", tokens: tokens("t", 10_050), label: "ham" }]);
    await world.replay(small.id, [{ op: "learn", tokens: tokens("t", 100), label: "ham" }]);
    const job = startClassifierPruningJob(services, 60 * 60 * 1000);
    try {
      // The earlier tests' tenants (this file's database) are within it: only the big one loses 1,050 tokens.
      expect(await job.runOnce()).toBe(1_050);
    } finally {
      await job.stop();
    }
    expect((await storedTokens(big.id)).size).toBe(9_000);
    expect((await storedTokens(small.id)).size).toBe(100);
    expect(await prunedEvents(small.id)).toEqual([]);
  });

  it("refuses a limit below 10,000 at start, naming the setting", () => {
    expect(() => testConfig({ MAILWARD_CLASSIFIER_MAX_TOKENS: "500" })).toThrow(
      /MAILWARD_CLASSIFIER_MAX_TOKENS/,
    );
  });
});
