import { createRequire } from "node:module";
import { describe, expect, it, vi } from "vitest";
import { archiveFieldsOf, parseMessage } from "../../../server/archive/parse";
import { InlineAnalyzer, TenantScanners } from "../../../server/mail/pipeline/analyze";
import { createOfflineResolver, createScanner, parseForScan } from "../../../server/mail/scan/index";
import { buildRaw, TENANT } from "../mail/scan/support/messages";

/** mailparser's CommonJS module, whose simpleParser the server's parser (server/mail/mime-parser.ts) calls. */
const mailparser = createRequire(import.meta.url)("mailparser") as typeof import("mailparser");

/** How many of a spy's calls parsed exactly these bytes. */
const parsesOf = (parses: { mock: { calls: unknown[][] } }, bytes: Buffer) =>
  parses.mock.calls.filter(([input]) => Buffer.isBuffer(input) && input.equals(bytes)).length;

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
    const parses = vi.spyOn(mailparser, "simpleParser");
    const { fields, assessment } = await analyzer.analyze({ raw, envelope, tenantId: "t-1", tenant: TENANT });
    // Two attached messages (A, and B inside it), each parsed once, where each was parsed twice.
    expect(parsesOf(parses, a)).toBe(1);
    expect(parsesOf(parses, b)).toBe(1);
    parses.mockRestore();

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
