import { describe, expect, it } from "vitest";
import { readStoredVerdict } from "../../../server/archive/stored-verdict";

// The one reader of the stored verdict record (messages.assessment), for records of every version.
describe("readStoredVerdict", () => {
  const record = {
    score: 7.5,
    scannedAt: "2026-11-29T10:00:00.000Z",
    summary: "Held: the sender's domain fails DMARC.",
    auth: { spf: "softfail", dkim: "none", dmarc: "fail", arc: "none" },
    signals: [{ id: "dmarc_fail" }],
    decisions: [
      { recipient: "Tina@Example.com", action: "hold", reason: "phish", explanation: "Looks like phishing." },
      { recipient: "uma@example.com", action: "deliver" },
      {
        recipient: "vic@example.com",
        action: "deliver",
        explanation: "Vic allows it.",
        rule: { id: "r1", scope: "user", kind: "permit" },
      },
      { recipient: "wes@example.com", action: "hold", rule: { id: "r2", scope: "user", kind: "block" } },
      { action: "deliver" },
      "not a decision",
    ],
  };

  it("reads each field, from the parsed JSON or its text, recipients in lower case", () => {
    for (const value of [record, JSON.stringify(record)]) {
      expect(readStoredVerdict(value)).toEqual({
        decisions: [
          {
            recipient: "tina@example.com",
            action: "hold",
            reason: "phish",
            explanation: "Looks like phishing.",
            permitted: false,
          },
          {
            recipient: "uma@example.com",
            action: "deliver",
            reason: null,
            explanation: null,
            permitted: false,
          },
          // A permit rule decided Vic's copy (what Microsoft 365 is told: verdict-field.ts); a block is no permit.
          {
            recipient: "vic@example.com",
            action: "deliver",
            reason: null,
            explanation: "Vic allows it.",
            permitted: true,
          },
          { recipient: "wes@example.com", action: "hold", reason: null, explanation: null, permitted: false },
        ],
        auth: { spf: "softfail", dkim: "none", dmarc: "fail", arc: "none" },
        score: 7.5,
        scannedAt: "2026-11-29T10:00:00.000Z",
        summary: "Held: the sender's domain fails DMARC.",
        signals: [{ id: "dmarc_fail" }],
      });
    }
  });

  it("reads an older or odd record as far as it goes, and anything else as empty, without throwing", () => {
    const empty = {
      decisions: [],
      auth: { spf: null, dkim: null, dmarc: null, arc: null },
      score: null,
      scannedAt: null,
      summary: null,
      signals: undefined,
    };
    for (const value of [null, undefined, "not json", "[]", 42, [], {}])
      expect(readStoredVerdict(value)).toEqual(empty);
    expect(
      readStoredVerdict({
        auth: { spf: 1, dkim: "pass" },
        decisions: [{ recipient: "a@b.test", action: 3, rule: "permit" }],
        score: "9",
      }),
    ).toEqual({
      ...empty,
      auth: { spf: null, dkim: "pass", dmarc: null, arc: null },
      decisions: [
        { recipient: "a@b.test", action: "unknown", reason: null, explanation: null, permitted: false },
      ],
    });
  });
});
