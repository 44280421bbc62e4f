import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { isAttachedMessage, looksLikeMessage } from "../../../../server/mail/scan/attached-message";
import { collectParts } from "../../../../server/mail/scan/collect";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { buildRaw, forwardsPastLimits, scanInput } from "./support/messages";
import { buildZip } from "./support/zip-builder";

// A forward attached as a file named .eml under a generic type (application/x-unknown, text/plain, ...) was checked
// as a file: its links and attachments went unchecked, though Outlook and Thunderbird open it as a message.

const PE = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200, 0x90)]);

/** A forward carrying a program, a script in a zip, an IP-address link and a lookalike of the tenant's domain. */
function dangerousForward(): Buffer {
  return buildRaw({
    from: "x@example.net",
    html: '<p>See file, or <a href="https://login.c0ntoso.com/">sign in</a> at <a href="http://198.51.100.7/o365/login">our portal</a></p>',
    attachments: [
      { filename: "tool.exe", content: PE },
      {
        filename: "invoice.zip",
        content: buildZip([{ name: "invoice.js", content: Buffer.from("WScript.Echo(1)") }]),
      },
    ],
  });
}

async function signalIds(raw: Buffer): Promise<string[]> {
  return (await new BuiltinScanner().assess(await scanInput(raw))).signals.map((s) => s.id);
}

/**
 * A message from Alice whose second part has `partHeaders` and `content` in base64 (written out by hand: buildRaw
 * gives every attachment a filename and an attachment disposition), after a text part `first` unless null.
 */
function withPart(partHeaders: string[], content: Buffer, first: string | null = "forwarding"): Buffer {
  return Buffer.from(
    [
      "From: Alice <alice@example.org>",
      "To: jane.doe@contoso.com",
      "Subject: fwd",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      ...(first === null ? [] : ["--b", "Content-Type: text/plain", "", first]),
      "--b",
      ...partHeaders,
      "Content-Transfer-Encoding: base64",
      "",
      content.toString("base64"),
      "--b--",
      "",
    ].join("\r\n"),
  );
}

const SIGNALS_OF_THE_FORWARD = [
  "attachment.archive_dangerous",
  "attachment.executable",
  "impersonation.lookalike_domain",
  "url.ip_host",
];

describe("an attached .eml under a generic type", () => {
  it("gets the signals of what it carries, as when attached as message/rfc822", async () => {
    const asMessage = buildRaw({
      text: "forwarding",
      attachments: [{ filename: "fwd.eml", contentType: "message/rfc822", content: dangerousForward() }],
    });
    const expected = await signalIds(asMessage);
    expect(expected).toEqual(expect.arrayContaining(SIGNALS_OF_THE_FORWARD));
    for (const [contentType, filename] of [
      ["application/octet-stream", "fwd.eml"],
      ["application/x-unknown", "fwd.eml"],
      ["text/plain", "fwd.eml"],
      ["application/x-unknown", "FWD.EML"],
    ] as const) {
      const raw = buildRaw({
        text: "forwarding",
        attachments: [{ filename, contentType, content: dangerousForward() }],
      });
      const ids = (await signalIds(raw)).sort();
      expect({ contentType, filename, ids }).toEqual({ contentType, filename, ids: [...expected].sort() });
    }
  });

  it("opens it under the type's name alone, or a name with trailing dots, as Windows reads it", async () => {
    const raw = withPart(
      ['Content-Type: application/x-unknown; name="fwd.eml."', "Content-Disposition: attachment"],
      dangerousForward(),
    );
    expect(await signalIds(raw)).toEqual(expect.arrayContaining(SIGNALS_OF_THE_FORWARD));
  });

  it.each([
    ["with no disposition", []],
    ["with an inline disposition", ["Content-Disposition: inline"]],
  ])(
    "opens a text/plain part named fwd.eml %s, which Outlook lists as an attachment",
    async (_how, disposition) => {
      // mailparser reads such a part as body text: its links were read as the body's, its attachments never.
      const raw = withPart(['Content-Type: text/plain; name="fwd.eml"', ...disposition], dangerousForward());
      expect(await signalIds(raw)).toEqual(expect.arrayContaining(SIGNALS_OF_THE_FORWARD));
    },
  );

  it("keeps the depth and size limits of attached messages", async () => {
    const { nested, large } = forwardsPastLimits("application/x-unknown", PE);
    expect(await signalIds(nested)).toEqual(["policy.scan_incomplete"]);
    const { outer } = forwardsPastLimits("text/plain", PE);
    expect(await signalIds(outer)).toEqual(["policy.scan_incomplete"]);
    // A named text part is read 2 MB at most: one cut there is not opened as whole.
    const named = withPart(['Content-Type: text/plain; name="fwd.eml"'], large, null);
    expect(await signalIds(named)).toEqual(["policy.scan_incomplete"]);
  });
});

describe("a file named .eml that is not a message", () => {
  const prose = Buffer.from("Hello Jane,\r\n\r\nthe minutes: see http://198.51.100.7/o365/login\r\n");
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));

  it.each([
    ["prose", prose],
    ["binary", binary],
    ["a program", PE],
    ["empty", Buffer.alloc(0)],
  ])("is not opened as one (%s), under every type", async (_kind, content) => {
    for (const contentType of ["application/octet-stream", "application/x-unknown", "text/plain"]) {
      const raw = buildRaw({
        text: "see attached",
        attachments: [{ filename: "x.eml", contentType, content }],
      });
      const parsed = (await scanInput(raw)).parsed;
      const [part] = parsed.attachments;
      expect(part && isAttachedMessage(part)).toBe(false);
      const collected = await collectParts(parsed, 3, raw);
      expect(collected.unreadable).toBe(0);
      expect(collected.attachments.map((a) => a.filename)).toEqual(["x.eml"]);
    }
  });

  it("adds no signal of its own, and a program so named is checked as the program it is", async () => {
    // application/octet-stream: mailparser types an .eml by its name (message/rfc822), so whatever its bytes, it was opened as a
    // message, and a program named x.eml was never checked as a file.
    for (const content of [prose, binary]) {
      const raw = buildRaw({ text: "see attached", attachments: [{ filename: "x.eml", content }] });
      expect(await signalIds(raw)).toEqual([]);
    }
    const program = buildRaw({ text: "see attached", attachments: [{ filename: "x.eml", content: PE }] });
    expect(await signalIds(program)).toContain("attachment.executable");
  });
});

describe("looksLikeMessage", () => {
  it("reads a header field on the first line, after a byte order mark or an mbox From line", () => {
    expect(
      looksLikeMessage(Buffer.from("Received: from a by b; Mon, 2 Jun 2025\r\nFrom: a@b\r\n\r\nx")),
    ).toBe(true);
    expect(looksLikeMessage(Buffer.from("X-Mozilla-Status: 0001\nSubject: hi\n\nx"))).toBe(true);
    expect(looksLikeMessage(Buffer.from("\ufeffFrom: a@b\r\n\r\nx"))).toBe(true);
    expect(looksLikeMessage(Buffer.from("From a@b Mon Jun  2 10:00:00 2025\nFrom: a@b\n\nx"))).toBe(true);
    expect(looksLikeMessage(Buffer.from("Subject : obsolete space before the colon\r\n\r\n"))).toBe(true);
  });

  it("refuses prose, binary, a blank first line and a bare mbox line", () => {
    expect(looksLikeMessage(Buffer.from("Hello Jane, here: the minutes\r\n"))).toBe(false);
    expect(looksLikeMessage(Buffer.from("\r\nFrom: a@b\r\n"))).toBe(false);
    expect(looksLikeMessage(Buffer.from("From a@b Mon Jun  2 10:00:00 2025\n\nbody"))).toBe(false);
    expect(looksLikeMessage(PE)).toBe(false);
    expect(looksLikeMessage(Buffer.from("PK\x03\x04rest"))).toBe(false);
    expect(looksLikeMessage(Buffer.alloc(0))).toBe(false);
  });

  it("mailparser parses what it passes, the mbox line aside", async () => {
    const parsed = await simpleParser(
      Buffer.from("From a@b Mon Jun  2 10:00:00 2025\nSubject: hi\n\nbody\n"),
    );
    expect(parsed.subject).toBe("hi");
    expect(parsed.text?.trim()).toBe("body");
  });
});
