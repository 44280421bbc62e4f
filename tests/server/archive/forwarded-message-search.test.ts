import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { tempDir } from "../../support/temp";
import { buildTenant, buildUser } from "../../factories";
import { searchArchive } from "../../../server/archive/search";
import type { ArchiveScope } from "../../../server/archive/scope";
import { importMail } from "../../../server/commands/archive/import-mail";
import { sha256Of } from "../../../server/archive/store";
import type { Services } from "../../../server/context";
import { fileFor, uniqueWord } from "./helpers";

// A message forwarded "as attachment" (message/rfc822) was indexed as raw MIME text: its headers and its base64
// lines went into the search text, so a word of its encoded body was not found and a base64 run was.
let database: TestDatabase;
let services: Services;
let owner: Awaited<ReturnType<typeof buildUser>>;
let scope: ArchiveScope;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["forwarded.test"] });
  owner = await buildUser(services.db, { tenantId: tenant.id, email: "fay@forwarded.test" });
  scope = { tenantId: tenant.id, kind: "tenant" };
});

afterAll(async () => {
  await database?.destroy();
});

/** A message from a colleague to the owner: a text part `intro`, then the part `part` (its header lines and body). */
function fromColleague(subject: string, intro: string, part: string[]): Buffer {
  return Buffer.from(
    [
      "From: colleague@outside.example",
      `To: ${owner.email}`,
      `Subject: ${subject}`,
      `Message-ID: <${uniqueWord("fw")}@outside.example>`,
      "MIME-Version: 1.0",
      "Content-Type: multipart/mixed; boundary=outer",
      "",
      "--outer",
      "Content-Type: text/plain; charset=utf-8",
      "",
      intro,
      "--outer",
      ...part,
      "--outer--",
      "",
    ].join("\r\n"),
  );
}

/**
 * A forward with the original attached as message/rfc822 (or, given `fileType`, as a file of that type named
 * original.eml, base64-encoded, as some clients send it: application/octet-stream, which mailparser types by its
 * name, or a type it keeps, such as application/x-unknown or text/plain, which the scanner opens by the name and
 * the bytes), the original's text body base64-encoded.
 */
function forwardOf(
  words: { body: string; subject: string; file: string },
  fileType: string | null = null,
  disposition = true,
) {
  // Padded until its base64 holds no '+', '/' or '=': one run of letters and digits, a single token.
  let body = `The original says ${words.body} in its body`;
  while (!/^[A-Za-z0-9]+$/.test(Buffer.from(body).toString("base64"))) body += ".";
  const encoded = Buffer.from(body).toString("base64");
  const inner = [
    "From: Original Sender <origin@outside.example>",
    "To: someone@outside.example",
    `Subject: About ${words.subject}`,
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=inner",
    "",
    "--inner",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    encoded,
    "--inner",
    `Content-Type: application/pdf; name="${words.file}.pdf"`,
    `Content-Disposition: attachment; filename="${words.file}.pdf"`,
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("%PDF-1.4").toString("base64"),
    "--inner--",
    "",
  ].join("\r\n");
  const part = fileType
    ? [
        `Content-Type: ${fileType}; name="original.eml"`,
        ...(disposition ? ['Content-Disposition: attachment; filename="original.eml"'] : []),
        "Content-Transfer-Encoding: base64",
        "",
        ...(Buffer.from(inner)
          .toString("base64")
          .match(/.{1,76}/g) ?? []),
      ]
    : [
        'Content-Type: message/rfc822; name="original.eml"',
        'Content-Disposition: attachment; filename="original.eml"',
        "",
        inner,
      ];
  const raw = fromColleague("Fwd: see below", "Forwarding this.", part);
  return { raw, encoded };
}

const hits = async (q: string) =>
  (await searchArchive(services.db, scope, { q, limit: 10, sort: "date" })).rows.map((r) => r.id);

// An .eml file of a type mailparser keeps (application/x-unknown, text/plain) was indexed as a file: its raw MIME
// as text, or nothing at all. A text/plain one without a disposition (a named text part, which Outlook lists and opens
// as an attached message) mailparser reads as body text: its raw MIME was indexed as the body.
describe.each([
  ["message/rfc822", null, true],
  ["an application/octet-stream .eml file", "application/octet-stream", true],
  ["an application/x-unknown .eml file", "application/x-unknown", true],
  ["a text/plain .eml file", "text/plain", true],
  ["a text/plain .eml part without a disposition", "text/plain", false],
])("archive search of a forwarded message (%s)", (_kind, fileType, disposition) => {
  it("finds the attached message by its body, subject, sender and attachment names, not by its base64", async () => {
    const viaArchive = { body: uniqueWord("ba"), subject: uniqueWord("sa"), file: uniqueWord("fa") };
    const viaImport = { body: uniqueWord("bi"), subject: uniqueWord("si"), file: uniqueWord("fi") };
    // The archive's own write path (parseMessage) and the import pipeline's (the scanner's parse).
    const archived = forwardOf(viaArchive, fileType, disposition);
    const filed = await fileFor(services.db, owner.tenantId, archived.raw, [owner]);
    const imported = forwardOf(viaImport, fileType, disposition);
    const folder = tempDir("forwarded-");
    fs.writeFileSync(path.join(folder, "1.eml"), imported.raw);
    expect(await importMail(services, owner.actor, folder, owner.email)).toMatchObject({ imported: 1 });
    const [importedRow] = await services.db
      .selectFrom("messages")
      .select("id")
      .where("tenant_id", "=", owner.tenantId)
      .where("sha256", "=", sha256Of(imported.raw))
      .execute();
    const importedId = importedRow?.id;

    for (const [words, id, encoded] of [
      [viaArchive, filed.id, archived.encoded],
      [viaImport, importedId, imported.encoded],
    ] as const) {
      expect(await hits(words.body)).toEqual([id]);
      expect(await hits(words.subject)).toEqual([id]);
      expect(await hits(`${words.file}.pdf`)).toEqual([id]);
      expect(await hits(`origin@outside.example ${words.body}`)).toEqual([id]);
      expect(await hits(encoded)).toEqual([]);
    }
    // Nor its MIME headers.
    expect(await hits("boundary")).toEqual([]);
    // The outer message's own text is still its body, and the attached message is named among its attachments.
    const stored = await services.db
      .selectFrom("messages")
      .select(["id", "body_text", "has_attachments", "attachment_names"])
      .where("id", "in", [filed.id, importedId ?? filed.id])
      .execute();
    expect(stored).toHaveLength(2);
    for (const row of stored) {
      expect(row.body_text.trim()).toBe("Forwarding this.");
      expect(row.has_attachments).toBe(true);
      expect(row.attachment_names).toContain("original.eml");
    }
  });
});

describe("archive search of a file named .eml that is not a message", () => {
  it("indexes its text as a text file's, as before", async () => {
    const word = uniqueWord("pe");
    const raw = fromColleague("notes", "See the notes.", [
      'Content-Type: text/plain; charset=utf-8; name="notes.eml"',
      'Content-Disposition: attachment; filename="notes.eml"',
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from(`Hello Fay,\r\n\r\nthe minutes mention ${word} twice.\r\n`).toString("base64"),
    ]);
    const filed = await fileFor(services.db, owner.tenantId, raw, [owner]);
    expect(await hits(word)).toEqual([filed.id]);
  });
});
