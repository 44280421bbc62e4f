import { describe, expect, it } from "vitest";
import { decide, PRECEDENCE } from "../../../../server/mail/scan/decide";
import type { Assessment, SenderRule } from "../../../../server/mail/scan/types";

const NOW = new Date("2025-06-02T10:00:00Z");

function assessment(overrides: Partial<Assessment> = {}): Assessment {
  return {
    signals: [],
    score: 0,
    contentScore: 0.1,
    malware: false,
    phishConfidence: "none",
    auth: { spf: "pass", dkim: "pass", dmarc: "pass", arc: "none" },
    from: {
      address: "news@partner.example",
      domain: "partner.example",
      displayName: "Partner News",
      addresses: ["news@partner.example"],
    },
    ...overrides,
  };
}

function rule(
  id: string,
  kind: SenderRule["kind"],
  pattern: string,
  scope: SenderRule["scope"] = "tenant",
  expiresAt: Date | null = null,
): SenderRule {
  return { id, scope, kind, pattern, expiresAt, ...(scope === "user" ? { userId: "u1" } : {}) };
}

const NO_RULES = { org: [], personal: [] };

/** From naming the partner first and `also` after it (a second address or a second From field). */
function fromAlso(also: string): Assessment["from"] {
  const first = assessment().from;
  return { ...first, addresses: [first.address, also] };
}
const noPolicy: Assessment["auth"] = { spf: "none", dkim: "none", dmarc: "none", arc: "none" };

describe("decide: DESIGN §6 precedence", () => {
  it("has the six rows in the documented order", () => {
    expect(PRECEDENCE.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("row 1: holds malware even when the organisation and the person permit the sender", () => {
    const d = decide(
      assessment({ malware: true }),
      {
        org: [rule("o1", "permit", "partner.example")],
        personal: [rule("p1", "permit", "news@partner.example", "user")],
      },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "hold", reason: "dangerous_attachment" });
    expect(d.rule).toBeUndefined();
  });

  it("row 1: holds high-confidence phish from a permitted sender", () => {
    const d = decide(
      assessment({ phishConfidence: "high" }),
      {
        org: [rule("o1", "permit", "*.partner.example")],
        personal: [rule("p1", "permit", "partner.example", "user")],
      },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "hold", reason: "phish" });
  });

  it("row 1 does not fire for low-confidence phish: the permit wins", () => {
    const d = decide(
      assessment({ phishConfidence: "low", score: 9 }),
      { org: [rule("o1", "permit", "partner.example")], personal: [] },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "deliver", rule: { id: "o1", kind: "permit" } });
  });

  it("row 2: an organisation block rejects at SMTP time by default", () => {
    const d = decide(assessment(), { org: [rule("o2", "block", "partner.example")], personal: [] }, {}, NOW);
    expect(d).toMatchObject({
      action: "reject",
      reason: "blocked_sender",
      rule: { id: "o2", scope: "tenant", kind: "block" },
    });
  });

  it("row 2: an organisation block holds as blocked_sender when configured to hold", () => {
    const d = decide(
      assessment(),
      { org: [rule("o2", "block", "partner.example")], personal: [] },
      { orgBlockAction: "hold" },
      NOW,
    );
    expect(d).toMatchObject({ action: "hold", reason: "blocked_sender" });
  });

  it("row 2 beats a personal permit and an organisation permit for the same sender", () => {
    const d = decide(
      assessment(),
      {
        org: [rule("o3", "permit", "news@partner.example"), rule("o2", "block", "partner.example")],
        personal: [rule("p1", "permit", "news@partner.example", "user")],
      },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "reject", rule: { id: "o2" } });
  });

  it("row 2: an organisation block applies when any From address matches, not only the first", () => {
    const blocked = { org: [rule("o2", "block", "blocked.test")], personal: [] };
    const d = decide(
      assessment({ from: fromAlso("boss@blocked.test") }),
      blocked,
      { holdThreshold: 1000 },
      NOW,
    );
    expect(d).toMatchObject({ action: "reject", reason: "blocked_sender", rule: { id: "o2" } });
  });

  it("row 3: an organisation permit delivers a message the score would hold", () => {
    const d = decide(
      assessment({ score: 12 }),
      {
        org: [rule("o3", "permit", "partner.example")],
        personal: [rule("p2", "block", "partner.example", "user")],
      },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "deliver", reason: null, rule: { id: "o3" } });
  });

  it("row 3: a permit does not apply when DMARC says the From domain is forged", () => {
    const d = decide(
      assessment({
        score: 12,
        auth: { spf: "fail", dkim: "none", dmarc: "fail", arc: "none" },
        signals: [{ id: "auth.dmarc_fail", label: "x", weight: 3.5 }],
      }),
      { org: [rule("o3", "permit", "partner.example")], personal: [] },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "hold", reason: "auth_fail" });
  });

  it("rows 3 and 5: a permit applies only when DMARC passed or found no policy", () => {
    const rules = { org: [rule("o3", "permit", "partner.example")], personal: [] };
    const personal = { org: [], personal: [rule("p3", "permit", "partner.example", "user")] };
    const withDmarc = (dmarc: string) =>
      assessment({ score: 12, auth: { spf: "pass", dkim: "none", dmarc, arc: "none" } });
    for (const dmarc of ["pass", "none"]) {
      expect(decide(withDmarc(dmarc), rules, {}, NOW).rule, dmarc).toMatchObject({ id: "o3" });
      expect(decide(withDmarc(dmarc), personal, {}, NOW).rule, dmarc).toMatchObject({ id: "p3" });
    }
    // permerror is rspamd's DMARC_BAD_POLICY: a policy it could not read says nothing about who sent the message.
    for (const dmarc of ["fail", "temperror", "permerror", "neutral", "policy", ""]) {
      expect(decide(withDmarc(dmarc), rules, {}, NOW), dmarc).toMatchObject({ action: "hold" });
      expect(decide(withDmarc(dmarc), personal, {}, NOW), dmarc).toMatchObject({ action: "hold" });
    }
  });

  it("row 4: a personal block holds as blocked_sender", () => {
    const d = decide(
      assessment(),
      { org: [], personal: [rule("p2", "block", "partner.example", "user")] },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "hold", reason: "blocked_sender", rule: { id: "p2", scope: "user" } });
  });

  it("row 4 beats a personal permit", () => {
    const d = decide(
      assessment(),
      {
        org: [],
        personal: [
          rule("p1", "permit", "news@partner.example", "user"),
          rule("p2", "block", "partner.example", "user"),
        ],
      },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "hold", rule: { id: "p2" } });
  });

  it("row 4: a personal block applies when any From address matches, not only the first", () => {
    const blocked = { org: [], personal: [rule("p2", "block", "boss@blocked.test", "user")] };
    const d = decide(assessment({ from: fromAlso("boss@blocked.test") }), blocked, {}, NOW);
    expect(d).toMatchObject({ action: "hold", reason: "blocked_sender", rule: { id: "p2", scope: "user" } });
  });

  it("rows 3 and 5: a permit matches the first From address only, never a second one", () => {
    const spam = { score: 8, signals: [{ id: "content.spam", label: "spammy", weight: 8 }] };
    const a = assessment({ ...spam, from: fromAlso("friend@trusted.test") });
    const permits = {
      org: [rule("o1", "permit", "trusted.test")],
      personal: [rule("p1", "permit", "friend@trusted.test", "user")],
    };
    expect(decide(a, permits, {}, NOW)).toMatchObject({ action: "hold", reason: "spam" });
  });

  it("row 5: a personal permit delivers a message the score would hold", () => {
    const d = decide(
      assessment({ score: 8, signals: [{ id: "content.spam", label: "spammy", weight: 8 }] }),
      { org: [], personal: [rule("p1", "permit", "news@partner.example", "user")] },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "deliver", rule: { id: "p1", kind: "permit" } });
  });

  it("row 6: a score at the threshold holds, with the reason of the heaviest signal", () => {
    const signals = [
      { id: "content.spam", label: "spammy", weight: 2 },
      { id: "impersonation.display_name", label: "uses Jane's name", weight: 4.5 },
      { id: "content.ham", label: "clean", weight: -1.5 },
    ];
    const d = decide(assessment({ score: 5, signals }), NO_RULES, {}, NOW);
    expect(d).toMatchObject({ action: "hold", reason: "impersonation" });
    expect(d.explanation).toContain("uses Jane's name");
  });

  it("row 6: maps each signal family to its hold reason", () => {
    const cases: Array<[string, string]> = [
      ["content.spam", "spam"],
      ["content.phish", "phish"],
      ["url.text_mismatch", "phish"],
      ["auth.spf_fail", "auth_fail"],
      ["attachment.macro", "dangerous_attachment"],
      ["attachment.html_form", "phish"],
    ];
    for (const [id, reason] of cases) {
      const d = decide(assessment({ score: 6, signals: [{ id, label: id, weight: 6 }] }), NO_RULES, {}, NOW);
      expect(d.reason, id).toBe(reason);
    }
  });

  it("row 6: below the threshold it delivers, and the threshold is configurable", () => {
    expect(decide(assessment({ score: 4.99 }), NO_RULES, {}, NOW)).toMatchObject({
      action: "deliver",
      reason: null,
    });
    expect(
      decide(
        assessment({ score: 4.99, signals: [{ id: "content.spam", label: "s", weight: 4.99 }] }),
        NO_RULES,
        { holdThreshold: 3 },
        NOW,
      ),
    ).toMatchObject({ action: "hold", reason: "spam" });
  });

  it("row 6: our own domain forged holds whatever the score and the threshold, and no permit covers it", () => {
    const forged = {
      id: "impersonation.own_domain",
      label: "It says it is from our own address.",
      weight: 5,
    };
    const clean = { id: "content.ham", label: "clean", weight: -2 };
    const ours = {
      address: "ceo@ours.example",
      domain: "ours.example",
      displayName: "CEO",
      addresses: ["ceo@ours.example"],
    };
    const pulledUnder = assessment({ score: 3, signals: [forged, clean], from: ours, auth: noPolicy });
    const held = decide(pulledUnder, NO_RULES, { holdThreshold: 9 }, NOW);
    expect(held).toMatchObject({ action: "hold", reason: "impersonation" });
    expect(held.explanation).toContain("our own address");
    const permitted = {
      org: [rule("o1", "permit", "ours.example")],
      personal: [rule("p1", "permit", "ceo@ours.example", "user")],
    };
    expect(decide(pulledUnder, permitted, {}, NOW)).toMatchObject({
      action: "hold",
      reason: "impersonation",
    });
    // The same score without the signal is delivered, and a lighter signal that does not hold alone does not.
    expect(decide(assessment({ score: 3, signals: [clean] }), NO_RULES, {}, NOW).action).toBe("deliver");
    const display = { id: "impersonation.display_name", label: "name", weight: 4.5 };
    expect(decide(assessment({ score: 4.5, signals: [display] }), NO_RULES, {}, NOW).action).toBe("deliver");
    // A block still names the block.
    const blocked = { org: [], personal: [rule("p2", "block", "ours.example", "user")] };
    expect(decide(pulledUnder, blocked, {}, NOW)).toMatchObject({ action: "hold", reason: "blocked_sender" });
  });

  it("ignores expired rules", () => {
    const expired = new Date("2025-06-01T00:00:00Z");
    const d = decide(
      assessment({ score: 9, signals: [{ id: "content.spam", label: "s", weight: 9 }] }),
      { org: [rule("o3", "permit", "partner.example", "tenant", expired)], personal: [] },
      {},
      NOW,
    );
    expect(d).toMatchObject({ action: "hold", reason: "spam" });
    const later = new Date("2025-07-01T00:00:00Z");
    expect(
      decide(
        assessment(),
        { org: [rule("o2", "block", "partner.example", "tenant", later)], personal: [] },
        {},
        NOW,
      ).action,
    ).toBe("reject");
  });
});

describe("decide: a From naming thousands of addresses", () => {
  /** A rule whose pattern counts how often it is read: the work `decide` does per rule. */
  function countedRule(id: string, pattern: string, reads: { n: number }): SenderRule {
    const base = rule(id, "block", pattern);
    return Object.defineProperty(base, "pattern", {
      get: () => {
        reads.n += 1;
        return pattern;
      },
    });
  }

  it("still finds the block on the last address, reading each rule once for all addresses and recipients", () => {
    const reads = { n: 0 };
    const org = Array.from({ length: 200 }, (_, i) =>
      countedRule(`o${i}`, `nobody${i}@elsewhere.example`, reads),
    );
    org.push(countedRule("hit", "*.blocked.example", reads));
    const addresses = Array.from({ length: 5000 }, (_, i) => `sender${i}@innocent${i}.example`);
    addresses.push("boss@mail.blocked.example");
    const many = assessment({ from: { ...assessment().from, addresses } });
    for (let recipient = 0; recipient < 3; recipient++) {
      const d = decide(many, { org, personal: [] }, {}, NOW);
      expect(d).toMatchObject({ action: "reject", rule: { id: "hit" } });
    }
    // One read per rule to index the list, and the winning rule's pattern for each explanation.
    expect(reads.n).toBeLessThanOrEqual(org.length + 3);
  });

  it("keeps list order among rules matching the same address, and skips expired ones", () => {
    const earlier = new Date("2025-06-01T00:00:00Z");
    const rules = [
      rule("expired", "block", "a@x.example", "tenant", earlier),
      rule("sub", "block", "*.x.example"),
      rule("exact", "block", "a@x.example"),
    ];
    const d = decide(assessment({ from: fromAlso("a@x.example") }), { org: rules, personal: [] }, {}, NOW);
    expect(d.rule?.id).toBe("sub");
  });
});
