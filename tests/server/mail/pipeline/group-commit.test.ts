import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../../../server/mail/pipeline/group-commit";

/** A commit function whose calls the test releases one by one, recording each batch it was given. */
function gatedCommit(fail: (items: string[]) => Error | null = () => null) {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  const commit = (items: string[]) => {
    batches.push(items);
    return new Promise<string[]>((resolve, reject) => {
      gates.push(() => {
        const error = fail(items);
        if (error) reject(error);
        else resolve(items.map((i) => `done:${i}`));
      });
    });
  };
  const releaseNext = async () => {
    for (let tries = 0; tries < 50 && gates.length === 0; tries++) await new Promise((r) => setTimeout(r, 1));
    const gate = gates.shift();
    if (!gate) throw new Error("no commit waiting");
    gate();
    await new Promise((r) => setTimeout(r, 1));
  };
  return { batches, commit, releaseNext };
}

describe("GroupCommit", () => {
  it("commits a lone item at once, and by default groups everything that arrives while that commit runs", async () => {
    const gated = gatedCommit();
    const group = new GroupCommit(gated.commit);
    const first = group.submit("a");
    expect(gated.batches).toEqual([["a"]]);
    const rest = [group.submit("b"), group.submit("c"), group.submit("d")];
    expect(gated.batches).toHaveLength(1);
    await gated.releaseNext();
    expect(await first).toBe("done:a");
    expect(gated.batches[1]).toEqual(["b", "c", "d"]);
    await gated.releaseNext();
    expect(await Promise.all(rest)).toEqual(["done:b", "done:c", "done:d"]);
  });

  it("never puts more than maxBatch items in one transaction, and runs up to `concurrency` at once", async () => {
    const gated = gatedCommit();
    const group = new GroupCommit(gated.commit, { maxBatch: 2, concurrency: 2 });
    const results = ["a", "b", "c", "d", "e"].map((item) => group.submit(item));
    expect(gated.batches).toEqual([["a"], ["b"]]);
    await gated.releaseNext();
    expect(gated.batches[2]).toEqual(["c", "d"]);
    await gated.releaseNext();
    await gated.releaseNext();
    expect(gated.batches[3]).toEqual(["e"]);
    await gated.releaseNext();
    expect(await Promise.all(results)).toEqual(["done:a", "done:b", "done:c", "done:d", "done:e"]);
  });

  it("keeps a batch's weight within the bound, and sends an item heavier than the bound alone", async () => {
    const gated = gatedCommit();
    const weights: Record<string, number> = { a: 1, b: 6, c: 4, d: 3, huge: 50, e: 1 };
    const group = new GroupCommit(gated.commit, {
      concurrency: 1,
      weight: { of: (item: string) => weights[item] ?? 0, max: 10 },
    });
    const results = ["a", "b", "c", "d", "huge", "e"].map((item) => group.submit(item));
    expect(gated.batches).toEqual([["a"]]);
    await gated.releaseNext();
    expect(gated.batches[1]).toEqual(["b", "c"]); // 6 + 4 = 10; with d it would be 13
    await gated.releaseNext();
    expect(gated.batches[2]).toEqual(["d"]); // d + huge would be 53
    await gated.releaseNext();
    expect(gated.batches[3]).toEqual(["huge"]);
    await gated.releaseNext();
    expect(gated.batches[4]).toEqual(["e"]);
    await gated.releaseNext();
    expect(await Promise.all(results)).toEqual(["a", "b", "c", "d", "huge", "e"].map((i) => `done:${i}`));
  });

  it("retries a failed batch one item at a time, so only the bad item fails, with its own error", async () => {
    const gated = gatedCommit((items) => (items.includes("bad") ? new Error("bad bytes") : null));
    const group = new GroupCommit(gated.commit, { maxBatch: 32, concurrency: 1 });
    const first = group.submit("a");
    const good = group.submit("b");
    const bad = group.submit("bad").then(
      () => "resolved",
      (error: Error) => error.message,
    );
    await gated.releaseNext(); // a
    await gated.releaseNext(); // [b, bad] fails
    await gated.releaseNext(); // b alone
    await gated.releaseNext(); // bad alone
    expect(await first).toBe("done:a");
    expect(await good).toBe("done:b");
    expect(await bad).toBe("bad bytes");
    expect(gated.batches).toEqual([["a"], ["b", "bad"], ["b"], ["bad"]]);
  });

  it("fails every item when every commit fails (a database outage), and keeps working afterwards", async () => {
    let down = true;
    const group = new GroupCommit(async (items: string[]) => {
      await new Promise((r) => setTimeout(r, 2));
      if (down) throw new Error("connection refused");
      return items.map((i) => `done:${i}`);
    });
    const during = await Promise.allSettled(["a", "b", "c"].map((item) => group.submit(item)));
    expect(during.map((r) => (r.status === "rejected" ? String(r.reason) : r.value))).toEqual([
      "Error: connection refused",
      "Error: connection refused",
      "Error: connection refused",
    ]);
    down = false;
    expect(await group.submit("d")).toBe("done:d");
  });

  it("rejects rather than resolving with nothing when the commit returns too few results", async () => {
    const group = new GroupCommit(async (items: string[]) => items.slice(1), {
      maxBatch: 32,
      concurrency: 1,
    });
    await expect(group.submit("only")).rejects.toThrow(/no result|fewer results/);
  });
});
