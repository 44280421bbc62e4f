import { describe, expect, it } from "vitest";
import { buildTenant } from "../../../factories";
import {
  applyClassifierDelta,
  loadStoredClassifier,
} from "../../../../server/mail/pipeline/classifier-store";
import { ClassifierRegistry } from "../../../../server/mail/pipeline/classifiers";
import { ContentClassifier } from "../../../../server/mail/scan/index";
import { HeadReadGate, useClassifierWorld } from "./classifier-helpers";

// Each process holds a copy of the tenant's classifier and brings it up to date with the rows changed since its
// revision; scan workers catch up from the registry's recent refreshes the same way.
const world = useClassifierWorld();
const { tokensOf, replay } = world;

describe("the classifier registry", () => {
  it("brings another process's copy up to date with only the rows changed since its revision", async () => {
    const tenant = await buildTenant(world.services.db);
    await replay(
      tenant.id,
      world.ham.slice(0, 6).map((m) => ({ op: "learn", tokens: tokensOf(m), label: "ham" })),
    );
    const elsewhere = new ClassifierRegistry(world.services.db);
    const copy = await elsewhere.get(tenant.id);
    expect(elsewhere.versionOf(tenant.id)).toBe("6");

    const newTokens = tokensOf(world.spam[2]!);
    await replay(tenant.id, [{ op: "learn", tokens: newTokens, label: "spam" }]);
    const changed = await world.services.db
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
    expect(copy.toJSON()).toEqual(
      (await loadStoredClassifier(world.services.db, tenant.id)).classifier.toJSON(),
    );
    // A tenant with nothing stored has an untrained copy.
    const empty = await buildTenant(world.services.db);
    expect((await elsewhere.get(empty.id)).messageCounts).toEqual({ ham: 0, spam: 0, phish: 0 });
    expect(elsewhere.versionOf(empty.id)).toBe("none");
  });

  it("gives a copy that fell behind the rows it misses, as long as the recent refreshes reach back to it", async () => {
    const tenant = await buildTenant(world.services.db);
    await replay(tenant.id, [{ op: "learn", tokens: tokensOf(world.ham[0]!), label: "ham" }]);
    const registry = new ClassifierRegistry(world.services.db);
    await registry.get(tenant.id);
    // A scan worker's copy, taken at revision 1.
    const worker = ContentClassifier.fromJSON(registry.peek(tenant.id)!.toJSON());
    expect(registry.changesSince(tenant.id, "1")).toEqual({
      from: 1,
      to: 1,
      tokens: [],
      messages: { ham: 1, spam: 0, phish: 0 },
    });
    for (const m of world.spam.slice(0, 3)) {
      await replay(tenant.id, [{ op: "learn", tokens: tokensOf(m), label: "spam" }]);
      await registry.refreshNow(tenant.id);
    }
    await replay(tenant.id, [{ op: "unlearn", tokens: tokensOf(world.spam[0]!), label: "spam" }]);
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
    const tenant = await buildTenant(world.services.db);
    await replay(tenant.id, [{ op: "learn", tokens: ["first"], label: "ham" }]);
    const gate = new HeadReadGate(world.services.db);
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

  it("loads nothing on refreshNow when the process holds no copy, and loads it whole on first use", async () => {
    const tenant = await buildTenant(world.services.db);
    await replay(tenant.id, [{ op: "learn", tokens: ["only"], label: "ham" }]);
    const registry = new ClassifierRegistry(world.services.db);
    await registry.refreshNow(tenant.id);
    expect(registry.peek(tenant.id)).toBeUndefined();
    expect(registry.versionOf(tenant.id)).toBe("unloaded");
    expect((await registry.get(tenant.id)).messageCounts).toEqual({ ham: 1, spam: 0, phish: 0 });
  });

  it("keeps only the recent refreshes for copies to catch up from", async () => {
    const tenant = await buildTenant(world.services.db);
    const registry = new ClassifierRegistry(world.services.db);
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
});
