import { describe, expect, it } from "vitest";
import { CommitTimedOut, GroupCommit, type CommitClock } from "../../../../server/mail/pipeline/group-commit";

/** A commit whose calls end only when the test settles them, each by its own handle, in whatever order. */
function heldCommits() {
  const calls: Array<{
    items: string[];
    finish: () => void;
    fail: (error: Error) => void;
  }> = [];
  const commit = (items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ items, finish: () => resolve(items.map((i) => `done:${i}`)), fail: reject });
    });
  const batches = () => calls.map((c) => c.items);
  return { calls, commit, batches };
}

/** The item's answer as text, kept as it first settled (later reads see the same). */
function answerOf(promise: Promise<string>) {
  let answer = "pending";
  void promise.then(
    (value) => (answer = value),
    (error: Error) => (answer = `${error.name}: ${error.message}`),
  );
  return () => answer;
}

const TIMED_OUT = "CommitTimedOut: the database did not commit within 1000 ms";

/** A clock the test moves: `advance(ms)` runs what falls due, in order, then lets the promises it settled run on. */
function manualClock() {
  let now = 0;
  const due: Array<{ at: number; run: () => void; done: boolean }> = [];
  const clock: CommitClock = {
    after(ms, run) {
      const entry = { at: now + ms, run, done: false };
      due.push(entry);
      return () => {
        entry.done = true;
      };
    },
  };
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    clock,
    async advance(ms: number) {
      await settle();
      now += ms;
      for (const entry of due.filter((e) => !e.done && e.at <= now).sort((a, b) => a.at - b.at)) {
        if (entry.done) continue;
        entry.done = true;
        entry.run();
      }
      await settle();
    },
  };
}

describe("GroupCommit with timeoutMs", () => {
  it("fails an item whose commit does not end in time, and starts the next batch at once", async () => {
    const held = heldCommits();
    const time = manualClock();
    const group = new GroupCommit(held.commit, { concurrency: 1, timeoutMs: 1000, clock: time.clock });
    const stuck = answerOf(group.submit("a"));
    await time.advance(500);
    const behind = answerOf(group.submit("b"));
    expect(held.batches()).toEqual([["a"]]);
    await time.advance(499);
    expect(stuck()).toBe("pending");
    await time.advance(1);
    expect(stuck()).toBe(TIMED_OUT);
    // Its place is given up although its commit never ended: b's batch runs beside it.
    expect(held.batches()).toEqual([["a"], ["b"]]);
    held.calls[1]?.finish();
    await time.advance(0);
    expect(behind()).toBe("done:b");
    // The hung commit ending late changes nothing for its caller, and the next item commits as usual.
    held.calls[0]?.finish();
    const later = answerOf(group.submit("c"));
    held.calls[2]?.finish();
    await time.advance(0);
    expect([stuck(), later()]).toEqual([TIMED_OUT, "done:c"]);
  });

  it("counts an item's time from its submission, including the wait behind a running batch", async () => {
    const held = heldCommits();
    const time = manualClock();
    const group = new GroupCommit(held.commit, { concurrency: 1, timeoutMs: 1000, clock: time.clock });
    const first = answerOf(group.submit("a"));
    await time.advance(400);
    const second = answerOf(group.submit("b"));
    await time.advance(600);
    // a expired, and b's batch started with 400 ms of b's time left.
    expect([first(), second()]).toEqual([TIMED_OUT, "pending"]);
    expect(held.batches()).toEqual([["a"], ["b"]]);
    await time.advance(400);
    expect(second()).toBe(TIMED_OUT);
  });

  it("stops retrying a failed batch one item at a time once every item of it has timed out", async () => {
    const held = heldCommits();
    const time = manualClock();
    const group = new GroupCommit(held.commit, { concurrency: 1, timeoutMs: 1000, clock: time.clock });
    const lead = answerOf(group.submit("x"));
    const results = ["a", "b"].map((item) => answerOf(group.submit(item)));
    held.calls[0]?.finish();
    await time.advance(0);
    expect(held.batches()).toEqual([["x"], ["a", "b"]]);
    held.calls[1]?.fail(new Error("could not serialize access"));
    await time.advance(0);
    expect(held.batches()).toEqual([["x"], ["a", "b"], ["a"]]);
    await time.advance(1000);
    expect([lead(), ...results.map((r) => r())]).toEqual(["done:x", TIMED_OUT, TIMED_OUT]);
    held.calls[2]?.finish();
    await time.advance(0);
    // b was not sent after its caller had its answer.
    expect(held.batches()).toEqual([["x"], ["a", "b"], ["a"]]);
  });

  it("waits as long as a commit takes when no timeout is set", async () => {
    const held = heldCommits();
    const time = manualClock();
    const group = new GroupCommit(held.commit, { concurrency: 1, clock: time.clock });
    const result = answerOf(group.submit("a"));
    await time.advance(3_600_000);
    expect(result()).toBe("pending");
    held.calls[0]?.finish();
    await time.advance(0);
    expect(result()).toBe("done:a");
  });

  it("is an Error the gateway answers with 451, naming the limit", () => {
    const error = new CommitTimedOut(250);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("the database did not commit within 250 ms");
  });
});
