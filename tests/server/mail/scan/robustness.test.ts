import { describe, expect, it } from "vitest";
import { ContentClassifier, messageTokens } from "../../../../server/mail/scan/classifier/index";
import { decide } from "../../../../server/mail/scan/decide";
import { isIncompleteParse, parseForScan } from "../../../../server/mail/scan/parse";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import type { Assessment } from "../../../../server/mail/scan/types";
import { fakeResolver } from "./support/fake-dns";
import { scanInput } from "./support/messages";
import { buildZip } from "./support/zip-builder";

function trainedClassifier(): ContentClassifier {
  const c = new ContentClassifier({ minMessagesPerClass: 1 });
  c.learn(["hello", "meeting", "s:lunch"], "ham");
  c.learn(["free", "offer", "s:prize"], "spam");
  c.learn(["verify", "password", "s:account"], "phish");
  return c;
}

const scanner = new BuiltinScanner({ resolver: fakeResolver({}), classifierFor: () => trainedClassifier() });

function expectAssessment(a: Assessment): void {
  expect(Array.isArray(a.signals)).toBe(true);
  expect(Number.isFinite(a.score)).toBe(true);
  expect(a.contentScore).toBeGreaterThanOrEqual(0);
  expect(a.contentScore).toBeLessThanOrEqual(1);
  expect(["none", "low", "high"]).toContain(a.phishConfidence);
  expect(typeof a.auth.spf).toBe("string");
  expect(["deliver", "hold", "reject"]).toContain(decide(a, { org: [], personal: [] }).action);
}

/** Parses like the gateway should (parseForScan never throws), then assesses. */
async function assessRaw(raw: Buffer): Promise<Assessment> {
  const input = { ...(await scanInput(Buffer.from("\r\n"))), raw, parsed: await parseForScan(raw) };
  const a = await scanner.assess(input);
  messageTokens(input.parsed);
  return a;
}

function manyParts(count: number, exeAt: number): Buffer {
  const parts: string[] = [
    "From: a@example.org",
    "Subject: many parts",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
  ];
  for (let i = 0; i < count; i++) {
    const name = i === exeAt ? "setup.exe" : `f${i}.txt`;
    parts.push(
      "--b",
      `Content-Type: application/octet-stream; name="${name}"`,
      "Content-Disposition: attachment",
      "",
      i === exeAt ? "MZ\x90\x00" : `part ${i}`,
    );
  }
  parts.push("--b--", "");
  return Buffer.from(parts.join("\r\n"));
}

describe("assess() on malformed input never throws", () => {
  it("broken MIME: missing boundary, unterminated parts, garbage headers", async () => {
    const raw = Buffer.from(
      'From: <<<broken@@example..com\r\nTo:\r\nSubject: =?utf-8?B?broken base64?=\r\nContent-Type: multipart/mixed; boundary=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n--\r\nContent-Type: text/html\r\n\r\n<a href="http://[::1">x</a>=ZZ=\r\n--nothing\r\n',
    );
    expectAssessment(await assessRaw(raw));
  });

  it("NUL bytes and an 8bit body without a charset", async () => {
    const raw = Buffer.concat([
      Buffer.from(
        "From: a@example.org\r\nSubject: nul\x00bytes\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
      ),
      Buffer.from([0xe9, 0x00, 0xff, 0x00, 0x41, 0x0d, 0x0a, 0x00, 0x00]),
    ]);
    expectAssessment(await assessRaw(raw));
  });

  it("lines far beyond 998 characters, in headers and body", async () => {
    const raw = Buffer.from(
      `From: a@example.org\r\nSubject: ${"S".repeat(5000)}\r\nX-Long: ${"h".repeat(100_000)}\r\n\r\n${"word ".repeat(400_000)}${"x".repeat(1_000_000)}\r\n`,
    );
    expectAssessment(await assessRaw(raw));
  });

  it("a 10,000-part multipart message, with a program hidden in part 9,999", async () => {
    const a = await assessRaw(manyParts(10_000, 9_998));
    expectAssessment(a);
    expect(a.signals.map((s) => s.id)).toContain("attachment.executable");
  }, 120_000);

  it("a message beyond the parser's limits is marked incomplete and held for review", async () => {
    const parsed = await parseForScan(manyParts(20_500, -1));
    expect(isIncompleteParse(parsed)).toBe(true);
    expect(parsed.subject).toBe("many parts");
    const a = await scanner.assess({ ...(await scanInput(Buffer.from("\r\n"))), parsed });
    expect(a.signals.map((s) => s.id)).toContain("policy.unparseable");
    expect(decide(a, { org: [], personal: [] })).toMatchObject({ action: "hold", reason: "policy" });
  }, 120_000);

  it("a deeply nested message/rfc822 chain", async () => {
    let inner = "From: deep@example.org\r\nSubject: core\r\n\r\nthe core\r\n";
    for (let depth = 0; depth < 60; depth++) {
      inner = `From: level${depth}@example.org\r\nSubject: level ${depth}\r\nContent-Type: multipart/mixed; boundary="n${depth}"\r\n\r\n--n${depth}\r\nContent-Type: message/rfc822\r\n\r\n${inner}\r\n--n${depth}--\r\n`;
    }
    expectAssessment(await assessRaw(Buffer.from(inner)));
  });

  it("a zip bomb attachment becomes a signal, not a crash", async () => {
    const bomb = buildZip([{ name: "zeros.bin", content: Buffer.alloc(30 * 1024 * 1024) }]).toString(
      "base64",
    );
    const raw = Buffer.from(
      `From: a@example.org\r\nSubject: bomb\r\nContent-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--z\r\nContent-Type: application/zip; name="a.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bomb}\r\n--z--\r\n`,
    );
    const a = await assessRaw(raw);
    expectAssessment(a);
    expect(a.signals.map((s) => s.id)).toContain("attachment.zip_bomb");
    expect(decide(a, { org: [], personal: [] }).action).toBe("hold");
  });

  it("an empty message and pure binary", async () => {
    expectAssessment(await assessRaw(Buffer.alloc(0)));
    const binary = Buffer.alloc(200_000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256;
    expectAssessment(await assessRaw(binary));
  });

  it("a scanner stage that throws is recorded, the rest still counts", async () => {
    const throwing = new BuiltinScanner({
      classifierFor: () => {
        throw new Error("state failed to load");
      },
    });
    const input = await scanInput(
      Buffer.from(
        'From: a@example.org\r\nContent-Type: text/html\r\n\r\n<a href="http://192.0.2.1/">x</a>\r\n',
      ),
    );
    const a = await throwing.assess(input);
    expect(a.signals.map((s) => s.id)).toEqual(
      expect.arrayContaining(["policy.scan_incomplete", "url.ip_host"]),
    );
  });
});

/** A header block of `extra` header lines, then a From and a body with a link to an IP address (url.ip_host). */
function afterHeaders(extra: string, from = "Someone <a@example.org>"): Buffer {
  return Buffer.from(
    `${extra}From: ${from}\r\nTo: p1@example.com\r\nSubject: hi\r\nContent-Type: text/html\r\n\r\n<a href="http://192.0.2.1/login">sign in</a>\r\n`,
    "latin1",
  );
}

const repeated = (count: number, line: (i: number) => string): string =>
  Array.from({ length: count }, (_, i) => line(i)).join("");

// Header blocks an attacker controls, each small enough to be scanned inline (under 32 KB, or near it): none may
// throw, and none may hide the body from the scanner (the link after them is still found, and nothing is marked
// incomplete). Hunted with these shapes on 2026-12-03: the slowest took 62 ms.
const HOSTILE_HEADER_BLOCKS: Array<[string, Buffer]> = [
  ["5,000 short header lines", afterHeaders(repeated(5000, (i) => `X-${i % 7}: a\r\n`))],
  ["a Subject folded 8,000 times", afterHeaders(`Subject: ${"a\r\n ".repeat(8000)}x\r\n`)],
  [
    "400 Received lines",
    afterHeaders(
      repeated(
        400,
        (i) =>
          `Received: from h${i}.example.org (h${i}.example.org [192.0.2.${i % 250}]) by mx.example.net with ESMTP id ${i}; Thu, 3 Dec 2026 10:00:00 +0000\r\n`,
      ),
    ),
  ],
  [
    "300 DKIM signatures",
    afterHeaders(
      repeated(
        300,
        (i) => `DKIM-Signature: v=1; a=rsa-sha256; d=ex${i}.com; s=s; h=from; bh=aaaa; b=bbbb\r\n`,
      ),
    ),
  ],
  [
    "100 ARC sets",
    afterHeaders(
      repeated(
        100,
        (i) =>
          `ARC-Seal: i=${i + 1}; a=rsa-sha256; cv=pass; d=ex.com; s=s; b=bb\r\nARC-Message-Signature: i=${i + 1}; a=rsa-sha256; d=ex.com; s=s; h=from; bh=a; b=b\r\nARC-Authentication-Results: i=${i + 1}; mx; spf=pass\r\n`,
      ),
    ),
  ],
  ["a To of 10,000 nested groups", afterHeaders(`Cc: ${"g:".repeat(10000)}a@example.org;\r\n`)],
  [
    "a To of 1,500 addresses",
    afterHeaders(`Cc: ${repeated(1500, (i) => `u${i}@example.com, `)}z@example.com\r\n`),
  ],
  [
    "a Subject of 600 encoded words",
    afterHeaders(`Subject: ${repeated(600, () => "=?utf-8?B?w6nDqcOp?=\r\n ")}x\r\n`),
  ],
  ["References of 4,000 ids", afterHeaders(`References: ${"<a@b> ".repeat(4000)}\r\n`)],
  ["a From of 14,000 '<'", afterHeaders("", `${"<".repeat(14000)}a@example.org`)],
  ["a From of 14,000 '\"'", afterHeaders("", `${'"'.repeat(14000)}a@example.org`)],
  ["a From of 15,000 '('", afterHeaders("", `${"(".repeat(15000)}a@example.org`)],
  ["a display name of 30,000 characters", afterHeaders("", `${"P".repeat(30000)} <a@example.org>`)],
];

describe("assess() after a hostile header block", () => {
  for (const [name, raw] of HOSTILE_HEADER_BLOCKS) {
    it(`${name}: assessed whole, the body's link still found`, async () => {
      const parsed = await parseForScan(raw);
      expect(isIncompleteParse(parsed)).toBe(false);
      const a = await assessRaw(raw);
      expectAssessment(a);
      expect(a.signals.map((s) => s.id)).toContain("url.ip_host");
      expect(a.signals.map((s) => s.id)).not.toContain("policy.scan_incomplete");
    });
  }
});
