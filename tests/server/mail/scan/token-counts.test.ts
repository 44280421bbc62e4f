import { describe, expect, it } from "vitest";
import { TokenCountTable } from "../../../../server/mail/scan/classifier/token-counts";
import { ContentClassifier } from "../../../../server/mail/scan/classifier/model";

describe("the classifier's token count table", () => {
  it("keeps each token's three counts apart, past the table's first growth", () => {
    const table = new TokenCountTable();
    // 5,000 tokens: the table starts with 1,024 slots, so it grows three times.
    for (let n = 0; n < 5_000; n++) table.set(`t${n}`, [n, n + 1, n + 2]);
    expect(table.size).toBe(5_000);
    for (const n of [0, 1_023, 1_024, 2_047, 4_999]) expect(table.get(`t${n}`)).toEqual([n, n + 1, n + 2]);
    const slot = table.slotOf("t4096");
    expect(slot).toBeDefined();
    expect([table.count(slot!, 0), table.count(slot!, 1), table.count(slot!, 2)]).toEqual([4096, 4097, 4098]);
    expect(table.slotOf("unknown")).toBeUndefined();
  });

  it("drops a token whose counts reach zero, reuses its slot, and never lends one slot to two tokens", () => {
    const table = new TokenCountTable();
    table.add("a", 0, 1);
    table.add("b", 1, 2);
    table.add("b", 1, -5); // never below zero, and at zero the token goes
    expect(table.get("b")).toBeUndefined();
    table.add("c", 2, 3); // takes b's slot, which must start empty
    expect(table.get("c")).toEqual([0, 0, 3]);
    expect(table.get("a")).toEqual([1, 0, 0]);
    table.set("a", [0, 0, 0]);
    expect(table.delete("a")).toBe(false);
    table.set("d", [7, 0, 0]);
    table.set("e", [0, 8, 0]);
    expect([...table.entries()]).toEqual([
      ["c", [0, 0, 3]],
      ["d", [7, 0, 0]],
      ["e", [0, 8, 0]],
    ]);
    expect(new Set(["c", "d", "e"].map((t) => table.slotOf(t))).size).toBe(3);
  });

  it("holds counts beyond 32 bits exactly", () => {
    const table = new TokenCountTable();
    table.set("big", [2 ** 40, 1, 2 ** 33 + 7]);
    expect(table.get("big")).toEqual([2 ** 40, 1, 2 ** 33 + 7]);
  });

  it("gives the classifier the same model through learn, unlearn, prune and a JSON round trip", () => {
    const classifier = new ContentClassifier({ minMessagesPerClass: 1 });
    for (let n = 0; n < 40; n++) {
      classifier.learn(["common", `ham${n}`, n % 2 ? "odd" : "even"], "ham");
      classifier.learn(["common", "viagra", `spam${n}`], "spam");
      classifier.learn(["verify", "account", `phish${n}`], "phish");
    }
    classifier.unlearn(["ham0", "never-seen"], "ham");
    expect(classifier.vocabularySize).toBe(1 + 39 + 2 + 1 + 40 + 2 + 40);
    expect(classifier.prune(2)).toBe(39 + 40 + 40);
    const copy = ContentClassifier.fromJSON(JSON.stringify(classifier.toJSON()), { minMessagesPerClass: 1 });
    expect(copy.toJSON()).toEqual(classifier.toJSON());
    expect(Object.keys(classifier.toJSON().tokens)).toEqual([
      "common",
      "even",
      "viagra",
      "verify",
      "account",
      "odd",
    ]);
    const tokens = ["viagra", "common", "odd"];
    expect(copy.classify(tokens)).toEqual(classifier.classify(tokens));
    expect(classifier.classify(["verify", "account"]).phishProbability).toBeGreaterThan(0.9);
  });
});
