import { describe, expect, it, vi } from "vitest";
import { archiveFieldsOf, parseMessage } from "../../../server/archive/parse";
import { InlineAnalyzer, TenantScanners } from "../../../server/mail/pipeline/analyze";
import { createOfflineResolver, createScanner, parseForScan } from "../../../server/mail/scan/index";
import { buildRaw, TENANT } from "../mail/scan/support/messages";

/** Every input mailparser's simpleParser was given in this file, in order. */
const parsedInputs = vi.hoisted(() => [] as unknown[]);
vi.mock("mailparser", async (importOriginal) => {
  const real = await importOriginal<typeof import("mailparser")>();
  return {
    ...real,
    simpleParser: (...args: Parameters<typeof real.simpleParser>) => {
      parsedInputs.push(args[0]);
      return real.simpleParser(...args);
    },
  };
});

/** How many times simpleParser was given exactly these bytes since `from` (an index into parsedInputs). */
const parsesOf = (bytes: Buffer, from: number) =>
  parsedInputs.slice(from).filter((input) => Buffer.isBuffer(input) && input.equals(bytes)).length;

// On the inbound paths the archive's search text (openAttachedMessages) and the scanner's collectParts each parsed
// every forwarded message: the same bytes twice, with two sets of options. Now one parse serves both.
const PE = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200, 0x90)]);
const envelope = {
  mailFrom: "alice@example.org",
  rcptTo: ["jane.doe@contoso.com"],
  clientIp: "192.0.2.7",
  helo: "h",
};

/** A forward of a forward: the outer message holds A (message/rfc822), which holds B, which holds a program. */
function forwardOfForward(): { raw: Buffer; a: Buffer; b: Buffer } {
  const b = buildRaw({
    from: "Origin <origin@outside.example>",
    subject: "About quarterlyplanzeta",
    text: "The original says bodywordzeta, see https://b.example/report",
    attachments: [{ filename: "tool.exe", content: PE }],
  });
  const a = buildRaw({
    from: "relay@outside.example",
    subject: "Fwd: About quarterlyplanzeta",
    text: "Passing on https://a.example/note",
    attachments: [{ filename: "original.eml", contentType: "message/rfc822", content: b }],
  });
  const raw = buildRaw({
    text: "Forwarding this.",
    attachments: [{ filename: "forward.eml", contentType: "message/rfc822", content: a }],
  });
  return { raw, a, b };
}

describe("analysis of a message with forwarded parts", () => {
  it("parses each attached message once for both the archive and the scanner, with the same search text and verdict", async () => {
    const { raw, a, b } = forwardOfForward();
    const resolver = createOfflineResolver();
    const analyzer = new InlineAnalyzer(new TenantScanners({}, resolver, () => undefined));
    const before = parsedInputs.length;
    const { fields, assessment } = await analyzer.analyze({ raw, envelope, tenantId: "t-1", tenant: TENANT });
    // Two attached messages (A, and B inside it), each parsed once, where each was parsed twice.
    expect(parsesOf(a, before)).toBe(1);
    expect(parsesOf(b, before)).toBe(1);

    // The search text is what the archive's own options give.
    const archived = await parseMessage(raw);
    expect(archived).not.toBeNull();
    if (!archived) return;
    expect(fields.attachmentText).toBe(archiveFieldsOf(archived).attachmentText);
    expect(fields.attachmentText).toContain("bodywordzeta");

    // And the scanner's verdict is what it reaches on its own parse, with the program two forwards deep found.
    const alone = await createScanner({}, { resolver }).assess({
      raw,
      parsed: await parseForScan(raw),
      envelope,
      tenant: TENANT,
    });
    expect(assessment.signals.map((s) => s.id)).toContain("attachment.executable");
    expect(assessment.signals).toEqual(alone.signals);
    expect(assessment.score).toBe(alone.score);
  });
});
