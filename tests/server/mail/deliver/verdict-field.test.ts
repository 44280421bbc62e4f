import { describe, expect, it } from "vitest";
import { relayFactsOf, relayVerdictOf, verdictField } from "../../../../server/mail/deliver/verdict-field";
import { readStoredVerdict } from "../../../../server/archive/stored-verdict";

// What Microsoft 365 is told about each relayed copy, for IT's mail flow rules.
describe("the relayed verdict", () => {
  const inbound = { inbound: true, purpose: "inbound", permitted: false };

  it("marks inbound mail at or above the suspect score, and only that", () => {
    expect(relayVerdictOf({ ...inbound, score: 2.99 }, 3)).toBe("clean");
    expect(relayVerdictOf({ ...inbound, score: 3 }, 3)).toBe("suspect");
    expect(relayVerdictOf({ ...inbound, score: 0 }, 0)).toBe("suspect");
    expect(relayVerdictOf({ ...inbound, score: null }, 0)).toBe("clean");
  });

  it("says a permit decided, whatever the score, and that a person released it", () => {
    expect(relayVerdictOf({ ...inbound, score: 9, permitted: true }, 3)).toBe("permitted");
    expect(relayVerdictOf({ ...inbound, purpose: "release", score: 9 }, 3)).toBe("released");
  });

  it("says nothing on mail that is not inbound, released or not", () => {
    for (const purpose of ["outbound", "forward", "digest", "dsn", "notification", "reset"])
      expect(relayVerdictOf({ ...inbound, purpose, score: 9 }, 3)).toBeNull();
    for (const purpose of ["release", "inbound"])
      expect(
        relayVerdictOf({ ...inbound, inbound: false, purpose, score: 9, permitted: true }, 3),
      ).toBeNull();
  });

  it("writes one field with the score", () => {
    expect(verdictField("suspect", 3.4)).toBe("X-Mailward-Verdict: suspect; score=3.40\r\n");
    expect(verdictField("released", null)).toBe("X-Mailward-Verdict: released\r\n");
  });

  it("takes the permit of this recipient only, whatever the case of its address, and the message's direction", () => {
    const stored = readStoredVerdict({
      score: 6,
      decisions: [
        { recipient: "tina@example.com", action: "deliver", rule: { kind: "permit" } },
        { recipient: "uma@example.com", action: "hold" },
      ],
    });
    const facts = (recipient: string, direction = "inbound") =>
      relayFactsOf(stored, { direction, purpose: "inbound", recipient });
    expect(facts("Tina@Example.com")).toEqual({
      inbound: true,
      purpose: "inbound",
      score: 6,
      permitted: true,
    });
    expect(facts("uma@example.com")).toMatchObject({ permitted: false });
    expect(facts("tina@example.com", "internal")).toMatchObject({ inbound: false });
  });
});
