import { randomBytes } from "node:crypto";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import {
  ContentClassifier,
  messageTokens,
  textTokens,
  tokenize,
} from "../../../../server/mail/scan/classifier/index";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { buildRaw, scanInput } from "./support/messages";

const HAM = [
  "Hi team, the quarterly planning meeting moves to Thursday at 10. Agenda attached, please review the budget section.",
  "Thanks for the patch. I merged it into the release branch and the build is green again.",
  "Can you send me the customer ticket numbers from yesterday? I want to follow up with support.",
  "Lunch on Friday? The new place near the office has good soup and the meeting room is free after.",
  "Reminder: the budget review is at 3pm. Bring the ticket backlog numbers and the release plan.",
  "The release notes look good. Please update the changelog and tag the build when tests pass.",
];
const SPAM = [
  "Make money fast!!! Earn $5000 weekly from home, no experience needed. Click here to claim your free offer now.",
  "Cheap meds online, lowest prices guaranteed, free shipping worldwide. Order now and save 80% today only.",
  "You have been selected to receive a FREE gift card! Claim your prize now, limited offer, act fast.",
  "Lose weight fast with our miracle pill, guaranteed results or your money back. Order now, free trial.",
  "Hot stock alert: this penny stock will explode, buy now before it is too late. Guaranteed profit.",
  "Refinance your mortgage at the lowest rates ever. Free quote, no obligation, click here now.",
];
const PHISH = [
  "Your mailbox password expires today. Verify your account now to keep receiving email or it will be suspended.",
  "Unusual sign-in activity detected on your account. Confirm your identity and verify your password immediately.",
  "Your package could not be delivered. Verify your account details and pay the customs fee to release it.",
  "Security alert: your bank account has been locked. Verify your password and account details to restore access.",
  "Your Microsoft 365 account will be suspended. Verify your password now to avoid losing access to your mailbox.",
  "Action required: confirm your account password within 24 hours or your account will be closed.",
];

function tokensOf(text: string, subject = "note"): string[] {
  return tokenize({ subject, text, fromAddress: "someone@example.org", fromName: "Someone" });
}

function trained(): ContentClassifier {
  const c = new ContentClassifier();
  for (const t of HAM) c.learn(tokensOf(t), "ham");
  for (const t of SPAM) c.learn(tokensOf(t), "spam");
  for (const t of PHISH) c.learn(tokensOf(t), "phish");
  return c;
}

describe("content classifier", () => {
  it("has no opinion before it is trained", () => {
    const c = new ContentClassifier();
    expect(c.classify(tokensOf(SPAM[0] ?? ""))).toMatchObject({
      spamProbability: 0.5,
      phishProbability: 0.5,
    });
  });

  it("separates ham, spam and phish it has learnt from", () => {
    const c = trained();
    const spam = c.classify(
      tokensOf("Claim your free prize now, guaranteed money, click here, limited offer!"),
    );
    const ham = c.classify(tokensOf("Please review the release plan before the meeting on Thursday."));
    const phish = c.classify(tokensOf("Verify your account password now or your mailbox will be suspended."));
    expect(spam.spamProbability).toBeGreaterThan(0.9);
    expect(ham.spamProbability).toBeLessThan(0.1);
    expect(phish.spamProbability).toBeGreaterThan(0.9);
    expect(phish.phishProbability).toBeGreaterThan(0.9);
    expect(spam.phishProbability).toBeLessThan(0.1);
  });

  it("changes its output when an agent reports a message, and unlearn takes it back", () => {
    const c = trained();
    const message = tokensOf(
      "Exclusive crypto wallet airdrop for loyal members, connect your wallet to receive tokens",
      "airdrop",
    );
    const before = c.classify(message).spamProbability;
    for (let i = 0; i < 3; i++) c.learn(message, "spam");
    const after = c.classify(message).spamProbability;
    expect(after).toBeGreaterThan(before + 0.2);
    for (let i = 0; i < 3; i++) c.unlearn(message, "spam");
    expect(c.classify(message).spamProbability).toBeCloseTo(before, 10);
  });

  it("learns from a release (ham) so similar mail scores lower", () => {
    const c = trained();
    const newsletter = tokensOf(
      "Monthly newsletter: free webinar on release planning and budget tickets, register now",
      "newsletter",
    );
    const before = c.classify(newsletter).spamProbability;
    c.learn(newsletter, "ham");
    c.learn(newsletter, "ham");
    expect(c.classify(newsletter).spamProbability).toBeLessThan(before);
  });

  it("round-trips through JSON with identical results, and refuses garbage", () => {
    const c = trained();
    const copy = ContentClassifier.fromJSON(JSON.parse(JSON.stringify(c.toJSON())));
    const probe = tokensOf(PHISH[1] ?? "");
    expect(copy.classify(probe)).toEqual(c.classify(probe));
    expect(copy.messageCounts).toEqual({ ham: 6, spam: 6, phish: 6 });
    expect(ContentClassifier.fromJSON(JSON.stringify(c.toJSON())).vocabularySize).toBe(c.vocabularySize);
    expect(() => ContentClassifier.fromJSON({ version: 2 })).toThrow(TypeError);
    expect(() =>
      ContentClassifier.fromJSON({
        version: 1,
        messages: { ham: 1, spam: 1, phish: 1 },
        tokens: { x: [1, -1, 0] },
      }),
    ).toThrow(TypeError);
    expect(() => ContentClassifier.fromJSON(null)).toThrow(TypeError);
  });

  it("prunes rare tokens", () => {
    const c = trained();
    const size = c.vocabularySize;
    expect(c.prune(2)).toBeGreaterThan(0);
    expect(c.vocabularySize).toBeLessThan(size);
  });

  it("raises a content signal in the scanner once trained", async () => {
    const c = trained();
    const input = await scanInput(
      buildRaw({
        subject: "note",
        text: "Claim your free prize now, guaranteed money, click here, limited offer!",
      }),
    );
    const untrained = await new BuiltinScanner().assess(input);
    expect(untrained.signals.some((s) => s.id.startsWith("content."))).toBe(false);
    const a = await new BuiltinScanner({ classifierFor: () => c }).assess(input);
    expect(a.contentScore).toBeGreaterThan(0.9);
    expect(a.signals.find((s) => s.id === "content.spam")?.weight).toBeGreaterThan(5);
  });

  it("calls unwanted wording spam, not phishing, when it has learnt no phishing to compare with", async () => {
    const c = new ContentClassifier();
    for (const t of HAM) c.learn(tokensOf(t), "ham");
    for (const t of SPAM) c.learn(tokensOf(t), "spam");
    const input = await scanInput(
      buildRaw({
        subject: "note",
        text: "Claim your free prize now, guaranteed money, click here, limited offer!",
      }),
    );
    const a = await new BuiltinScanner({ classifierFor: () => c }).assess(input);
    expect(a.signals.map((s) => s.id)).toContain("content.spam");
    expect(a.signals.map((s) => s.id)).not.toContain("content.phish");
    expect(a.phishConfidence).toBe("none");
  });
});

describe("tokenizer robustness", () => {
  it("handles binary, NUL bytes, lone surrogates and a megabyte line, with a bounded token count", () => {
    const binary = randomBytes(300_000).toString("latin1");
    const weird = "abc\u0000def \ud800 \udfff \ufffd\ufffd word ".repeat(1000);
    const hugeLine = "x".repeat(2_000_000);
    for (const text of [binary, weird, hugeLine, ""]) {
      const tokens = tokenize({
        subject: text.slice(0, 5000),
        text,
        html: text,
        fromName: text.slice(0, 300),
      });
      expect(tokens.length).toBeLessThanOrEqual(4000);
      expect(new Set(tokens).size).toBe(tokens.length);
    }
  });

  it("summarises long tokens and pulls apart URLs and addresses", () => {
    const tokens = textTokens(
      "Visit https://secure.bank.example/login or write to help@bank.example supercalifragilisticexpialidocious",
    );
    expect(tokens).toEqual(
      expect.arrayContaining(["proto:https", "url:bank", "email:dom:bank.example", "skip:s30"]),
    );
  });

  it("counts the first 50 attachments' extensions and types, and skips entries that are not there", () => {
    const attachments = [
      { filename: "Invoice.PDF", contentType: "Application/PDF" },
      { filename: "no-extension" },
      undefined as unknown as { filename?: string },
      { contentType: "text/calendar" },
      ...Array.from({ length: 60 }, (_, i) => ({ filename: `late${i}.x${i}` })),
    ];
    const tokens = tokenize({ subject: "files", text: "see attached", attachments });
    expect(tokens).toEqual(
      expect.arrayContaining([
        "att:ext:pdf",
        "att:ct:application/pdf",
        "att:ct:text/calendar",
        "att:ext:x45",
      ]),
    );
    // Entries 4 to 49 are the first 46 of the late ones: x0 to x45, not x46.
    expect(tokens.filter((t) => t.startsWith("att:ext:x"))).toHaveLength(46);
    expect(tokens).not.toContain("att:ext:x46");
    expect(tokenize({ subject: "none", text: "no files" }).some((t) => t.startsWith("att:"))).toBe(false);
  });

  it("tokenizes parsed mail with odd charsets and no headers", async () => {
    const raw = Buffer.from(
      "Content-Type: text/plain; charset=x-unknown-charset\r\n\r\n\xff\xfe\x00bro\x00ken \xe9t\xe9\r\n",
      "latin1",
    );
    const tokens = messageTokens(await simpleParser(raw));
    expect(tokens).toContain("from:none");
    expect(tokens.length).toBeGreaterThan(0);
  });
});
