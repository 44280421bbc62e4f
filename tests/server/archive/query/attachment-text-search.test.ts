import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileWhere, parseQuery } from "../../../../server/archive/query";
import { archiveFieldsOf, parseMessage } from "../../../../server/archive/parse";
import { searchVectorInputOf } from "../../../../server/archive/store";
import { ArchiveSqlHarness, type FixtureMessage } from "./pglite-harness";

// The text of text-like attachments is indexed at ingest. mailparser hands an attachment over as bytes, in the
// charset its part declares (or, for Windows' "Unicode text", UTF-16 with a byte-order mark): read as UTF-8
// regardless, its words became replacement characters and no search found them.

/** A message with one text attachment: its part's headers and its body (bytes, base64-encoded in the MIME). */
function withAttachment(partHeaders: string[], content: Buffer): Buffer {
  return Buffer.from(
    [
      "From: clerk@acme.example",
      "To: agent@mailward.test",
      "Subject: Customer list",
      "MIME-Version: 1.0",
      "Content-Type: multipart/mixed; boundary=b1",
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "See the attached list.",
      "--b1",
      ...partHeaders,
      "Content-Transfer-Encoding: base64",
      "",
      content.toString("base64"),
      "--b1--",
      "",
    ].join("\r\n"),
  );
}

async function fixture(label: string, raw: Buffer): Promise<FixtureMessage> {
  const parsed = await parseMessage(raw);
  if (!parsed) throw new Error("unparsable fixture");
  return { label, date: "2024-05-01T10:00:00Z", ...searchVectorInputOf(archiveFieldsOf(parsed)) };
}

let harness: ArchiveSqlHarness;

beforeAll(async () => {
  harness = await ArchiveSqlHarness.start([
    await fixture(
      "latin1",
      withAttachment(
        [
          'Content-Type: text/csv; charset="ISO-8859-1"; name="kunden.csv"',
          "Content-Disposition: attachment",
        ],
        Buffer.from("Name;Stadt\r\nMüller;Köln\r\n", "latin1"),
      ),
    ),
    await fixture(
      "utf16",
      withAttachment(
        ["Content-Type: application/octet-stream", 'Content-Disposition: attachment; filename="notes.txt"'],
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("Grüße aus Zürich", "utf16le")]),
      ),
    ),
    await fixture(
      "utf16be",
      withAttachment(
        ["Content-Type: application/octet-stream", 'Content-Disposition: attachment; filename="memo.txt"'],
        Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from("Grüße aus Bärnau", "utf16le").swap16()]),
      ),
    ),
    await fixture(
      "unknown-charset",
      withAttachment(
        ['Content-Type: text/plain; charset="x-unheard-of"; name="plain.txt"'],
        Buffer.from("Straße Bärenplatz", "utf8"),
      ),
    ),
  ]);
});

afterAll(async () => {
  await harness?.close();
});

const search = (query: string) => harness.labels(compileWhere(parseQuery(query)));

describe("attachment text in the charset it was written in", () => {
  it.each([
    ["Müller", ["latin1"]],
    ["Köln", ["latin1"]],
    ["Zürich", ["utf16"]],
    ["Bärnau", ["utf16be"]],
    ["Bärenplatz", ["unknown-charset"]],
  ])("%s finds %j", async (query, expected) => {
    expect(await search(query)).toEqual(expected);
  });
});
