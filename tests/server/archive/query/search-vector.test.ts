import { describe, expect, it } from "vitest";
import {
  compoundParts,
  MAX_INDEXED_BODY_CHARS,
  prepareSearchTexts,
  type SearchVectorInput,
} from "../../../../server/archive/query";

const base: SearchVectorInput = {
  subject: "",
  fromAddress: "",
  fromName: "",
  toAddresses: [],
  ccAddresses: [],
  attachmentNames: [],
  bodyText: "",
};

describe("compoundParts", () => {
  it("splits addresses into local part, domain and words", () => {
    expect(compoundParts("mail alice.smith@example.com now")).toBe(
      "alice.smith example.com alice smith example com",
    );
  });

  it("splits reference numbers and file names, once per distinct token", () => {
    expect(compoundParts("INV-2024-0042 and INV-2024-0042 in Q4_report.xlsx")).toBe(
      "INV 2024 0042 Q4 report xlsx",
    );
  });

  it("takes a 200 kB run of letters without punctuation in linear time (it once backtracked for minutes)", () => {
    const run = "a".repeat(200_000);
    expect(compoundParts(`${run} INV-7 ${run}`)).toBe("INV 7");
  });

  it("takes whole tokens only, in any script, and no doubled or trailing joiners", () => {
    expect(compoundParts("(alice.smith@example.com), x--y z-, 日本-語 ü_é2")).toBe(
      "alice.smith example.com alice smith example com 日本 語 ü é2",
    );
  });

  it("stops after the limit of distinct tokens", () => {
    expect(compoundParts("a-1 b-2 c-3", 2)).toBe("a 1 b 2");
  });
});

describe("prepareSearchTexts", () => {
  it("groups people and attachment names and appends compound parts", () => {
    const texts = prepareSearchTexts({
      ...base,
      subject: "Re: INV-7",
      fromName: "Alice",
      fromAddress: "alice@acme.example",
      toAddresses: ["Bob <bob@b.example>"],
      ccAddresses: ["c@c.example"],
      attachmentNames: ["Q4_report.xlsx"],
      bodyText: "body",
      attachmentTexts: ["csv text"],
    });
    expect(texts).toEqual({
      subject: "Re: INV-7 INV 7",
      people:
        "Alice alice@acme.example Bob <bob@b.example> c@c.example alice acme.example alice acme example bob b.example bob b example c c.example c c example",
      attachmentNames: "Q4_report.xlsx Q4 report xlsx",
      body: "body\ncsv text",
    });
  });

  it("normalises to NFC and removes NUL and lone surrogates", () => {
    const texts = prepareSearchTexts({ ...base, subject: "u\u0308ber\u0000x", bodyText: "a\ud800b" });
    expect(texts.subject).toBe("über x");
    expect(texts.body).toBe("a b");
  });

  it(`indexes at most ${MAX_INDEXED_BODY_CHARS} characters of body and attachment text`, () => {
    const texts = prepareSearchTexts({ ...base, bodyText: "x ".repeat(MAX_INDEXED_BODY_CHARS) });
    expect(texts.body.length).toBeLessThanOrEqual(MAX_INDEXED_BODY_CHARS);
  });
});
