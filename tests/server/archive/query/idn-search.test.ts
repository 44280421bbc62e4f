import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileWhere, parseQuery } from "../../../../server/archive/query";
import { archiveFieldsOf, parseMessage } from "../../../../server/archive/parse";
import { ArchiveSqlHarness, type FixtureMessage } from "./pglite-harness";

// The archive stores addresses with their domains in punycode (archiveFieldsOf: mailparser decodes them), and
// people type them as they read them, in Unicode or not.
const row = (
  label: string,
  fromAddress: string,
  toAddresses: string[],
  ccAddresses: string[] = [],
): FixtureMessage => ({
  label,
  date: "2024-05-01T10:00:00Z",
  fromAddress,
  fromName: "",
  toAddresses,
  ccAddresses,
  attachmentNames: [],
  subject: "Stock count",
  bodyText: "The count is done.",
});

let harness: ArchiveSqlHarness;

beforeAll(async () => {
  harness = await ArchiveSqlHarness.start([
    row("books", "lena@xn--bcher-kva.example", ["anna@xn--bcher-kva.example"], ["otto@xn--caf-dma.example"]),
    row("plain", "bob@beta.example", ["agent@mailward.test"]),
  ]);
});

afterAll(async () => {
  await harness?.close();
});

const search = (query: string) => harness.labels(compileWhere(parseQuery(query)));

describe("address fields at internationalised domains", () => {
  it.each([
    ["from:lena@bücher.example", ["books"]],
    ["from:Lena@BÜCHER.example", ["books"]],
    ["from:bücher", ["books"]],
    ["from:xn--bcher-kva.example", ["books"]],
    ["to:anna@bücher.example", ["books"]],
    ["cc:café.example", ["books"]],
    ["cc:otto@xn--caf-dma.example", ["books"]],
    ["from:beta.example", ["plain"]],
    ["to:anna@bücher.other", []],
    ["-from:bücher", ["plain"]],
  ])("%s finds %j", async (query, expected) => {
    expect(await search(query)).toEqual(expected);
  });
});

describe("archiveFieldsOf", () => {
  it("keeps From, To and Cc addresses lower-case with their domains in punycode", async () => {
    const raw = Buffer.from(
      [
        "From: Lena <Lena@xn--bcher-kva.example>",
        "To: Anna <anna@XN--BCHER-KVA.example>, agent@mailward.test",
        "Cc: otto@café.example",
        "Subject: Stock count",
        "",
        "The count is done.",
        "",
      ].join("\r\n"),
    );
    const parsed = await parseMessage(raw);
    if (!parsed) throw new Error("mailparser could not parse the test message");
    const fields = archiveFieldsOf(parsed);
    expect(fields.fromAddress).toBe("lena@xn--bcher-kva.example");
    expect(fields.fromAddresses).toEqual(["lena@xn--bcher-kva.example"]);
    expect(fields.to).toEqual(["anna@xn--bcher-kva.example", "agent@mailward.test"]);
    expect(fields.cc).toEqual(["otto@xn--caf-dma.example"]);
  });
});
