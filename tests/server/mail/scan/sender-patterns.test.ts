import { describe, expect, it } from "vitest";
import { firstRuleFor } from "../../../../server/mail/scan/rule-index";
import {
  normalizeSenderPattern,
  readSenderPattern,
  senderMatchesPattern,
} from "../../../../server/mail/scan/sender-patterns";
import type { SenderRule } from "../../../../server/mail/scan/types";

describe("normalizeSenderPattern", () => {
  it("canonicalises addresses, domains and *.domain to lower-case punycode", () => {
    expect(normalizeSenderPattern("  Bob@Example.COM ")).toMatchObject({
      ok: true,
      value: { kind: "address", pattern: "bob@example.com" },
    });
    expect(normalizeSenderPattern("Example.com.")).toMatchObject({
      ok: true,
      value: { kind: "domain", pattern: "example.com" },
    });
    expect(normalizeSenderPattern("@example.com")).toMatchObject({
      ok: true,
      value: { kind: "domain", pattern: "example.com" },
    });
    expect(normalizeSenderPattern("*.Example.com")).toMatchObject({
      ok: true,
      value: { kind: "subdomains", pattern: "*.example.com", domain: "example.com" },
    });
    expect(normalizeSenderPattern("info@bücher.de")).toMatchObject({
      ok: true,
      value: { pattern: "info@xn--bcher-kva.de" },
    });
  });

  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["a".repeat(255), "too_long"],
    [`${"a".repeat(65)}@example.com`, "local_part_too_long"],
    ["bob smith@example.com", "invalid_characters"],
    ["<bob@example.com>", "invalid_characters"],
    ["bob@exa_mple.com", "invalid_domain"],
    ["bob@localhost", "invalid_domain"],
    ["bob@192.168.1.1", "invalid_domain"],
    ["-bad.example.com", "invalid_domain"],
    ["bob..x@example.com", "invalid_local_part"],
    ["*@example.com", "misplaced_wildcard"],
    ["bob*@example.com", "misplaced_wildcard"],
    ["b*b@example.com", "misplaced_wildcard"],
    ["mail.*.example.com", "misplaced_wildcard"],
    ["*.*.example.com", "misplaced_wildcard"],
    [`${"a".repeat(64)}.com`, "label_too_long"],
    ["bob@@example.com", "invalid_characters"],
  ])("refuses %j with %s", (input, code) => {
    const result = normalizeSenderPattern(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe(code);
      expect(result.error.error).toBe("invalid_request");
      expect(result.error.message.length).toBeGreaterThan(10);
    }
  });
});

describe("readSenderPattern", () => {
  it("reads a * in a stored or real sender's local part as that character, matching only that address", () => {
    expect(readSenderPattern("Bob*@Example.com")).toMatchObject({
      ok: true,
      value: { kind: "address", pattern: "bob*@example.com" },
    });
    expect(senderMatchesPattern("bob*@example.com", "bob*@example.com")).toBe(true);
    expect(senderMatchesPattern("bob*@example.com", "bobby@example.com")).toBe(false);
    expect(readSenderPattern("bob@*.example.com")).toMatchObject({ ok: false });
  });
});

describe("senderMatchesPattern", () => {
  it("matches an exact address case-insensitively and nothing else", () => {
    expect(senderMatchesPattern("Bob@Example.com", "bob@EXAMPLE.COM")).toBe(true);
    expect(senderMatchesPattern("bob@example.com", "bobby@example.com")).toBe(false);
    expect(senderMatchesPattern("bob@example.com", "bob@mail.example.com")).toBe(false);
  });

  it("matches a plain domain at the apex only", () => {
    expect(senderMatchesPattern("example.com", "anyone@Example.com")).toBe(true);
    expect(senderMatchesPattern("example.com", "anyone@mail.example.com")).toBe(false);
    expect(senderMatchesPattern("example.com", "anyone@badexample.com")).toBe(false);
  });

  it("matches *.domain at the apex and every subdomain, but not lookalikes", () => {
    expect(senderMatchesPattern("*.example.com", "a@example.com")).toBe(true);
    expect(senderMatchesPattern("*.example.com", "a@mail.example.com")).toBe(true);
    expect(senderMatchesPattern("*.example.com", "a@x.y.example.com")).toBe(true);
    expect(senderMatchesPattern("*.example.com", "a@badexample.com")).toBe(false);
    expect(senderMatchesPattern("*.example.com", "a@example.com.evil.net")).toBe(false);
  });

  it("compares internationalised domains in punycode whichever way they are written", () => {
    expect(senderMatchesPattern("bücher.de", "info@xn--bcher-kva.de")).toBe(true);
    expect(senderMatchesPattern("xn--bcher-kva.de", "info@BÜCHER.de")).toBe(true);
    expect(senderMatchesPattern("bucher.de", "info@bücher.de")).toBe(false);
  });

  it("never matches an invalid pattern or an address without a domain", () => {
    expect(senderMatchesPattern("not a pattern", "a@example.com")).toBe(false);
    expect(senderMatchesPattern("example.com", "MAILER-DAEMON")).toBe(false);
    expect(senderMatchesPattern("example.com", "")).toBe(false);
  });
});

describe("firstRuleFor", () => {
  const now = new Date("2025-06-02T10:00:00Z");
  const rules: SenderRule[] = [
    {
      id: "old",
      scope: "tenant",
      kind: "block",
      pattern: "spam.example",
      expiresAt: new Date("2025-06-01T00:00:00Z"),
    },
    {
      id: "live",
      scope: "tenant",
      kind: "block",
      pattern: "*.spam.example",
      expiresAt: new Date("2025-06-03T00:00:00Z"),
    },
    { id: "permit", scope: "tenant", kind: "permit", pattern: "spam.example" },
  ];

  it("skips expired rules and rules of the other kind", () => {
    expect(firstRuleFor(rules, "block", "x@spam.example", now)?.id).toBe("live");
    expect(firstRuleFor(rules, "permit", "x@spam.example", now)?.id).toBe("permit");
    expect(firstRuleFor(rules, "block", "x@spam.example", new Date("2025-06-04T00:00:00Z"))).toBeUndefined();
  });
});
