import { describe, expect, it } from "vitest";
import { emptyArchiveFields, type ArchiveFields } from "../../../../server/archive/parse";
import {
  originatorFields,
  sendAsRefusal,
  type SendingIdentity,
} from "../../../../server/mail/pipeline/send-as";

const fields = (fromAddresses: string[], fromFields = fromAddresses.length > 0 ? 1 : 0): ArchiveFields => ({
  ...emptyArchiveFields(),
  fromAddress: fromAddresses[0] ?? "",
  fromAddresses,
  headers: Array.from({ length: fromFields }, () => ({ key: "from", value: fromAddresses.join(", ") })),
});

/** The refusal for what mailparser read, the raw header block saying nothing more. */
const refusal = (parsed: ArchiveFields, sender: SendingIdentity) =>
  sendAsRefusal(parsed, sender, Buffer.alloc(0));

describe("sendAsRefusal", () => {
  it("lets a signed-in sender send as their own address, whatever its case", () => {
    expect(refusal(fields(["agent@example.com"]), { email: "Agent@Example.com" })).toBeNull();
  });

  it("refuses a From naming someone else, alone or beside their own address", () => {
    expect(refusal(fields(["ceo@example.com"]), { email: "agent@example.com" })).toBe(
      "5.7.1 agent@example.com may not send as ceo@example.com",
    );
    expect(refusal(fields(["agent@example.com", "ceo@example.com"]), { email: "agent@example.com" })).toBe(
      "5.7.1 agent@example.com may not send as ceo@example.com",
    );
  });

  it("lets them send as one of their other addresses (aliases), and still not as anyone else", () => {
    const tina = { email: "tina@example.com", addresses: ["jane.doe@example.com"] };
    expect(refusal(fields(["jane.doe@example.com"]), tina)).toBeNull();
    expect(refusal(fields(["jane.doe@example.com", "ceo@example.com"]), tina)).toBe(
      "5.7.1 tina@example.com may not send as ceo@example.com",
    );
  });

  it("takes their own address at an internationalised domain in either spelling", () => {
    const anna = { email: "anna@xn--bcher-kva.example", addresses: ["a.b@xn--bcher-kva.example"] };
    expect(refusal(fields(["anna@bücher.example"]), anna)).toBeNull();
    expect(refusal(fields(["A.B@Bücher.example"]), anna)).toBeNull();
    expect(refusal(fields(["ceo@bücher.example"]), anna)).toBe(
      "5.7.1 anna@xn--bcher-kva.example may not send as ceo@bücher.example",
    );
  });

  it("refuses two From fields, and leaves a message without a From address alone", () => {
    expect(refusal(fields(["agent@example.com"], 2), { email: "agent@example.com" })).toBe(
      "5.7.1 A message may have only one From field",
    );
    expect(refusal(fields([]), { email: "agent@example.com" })).toBeNull();
  });
});

describe("originatorFields", () => {
  const raw = (lines: string[]) => Buffer.from([...lines, "", "From: body@example.com", ""].join("\r\n"));

  it("reads every From and Sender field of the header block, unfolded, and nothing of the body", () => {
    expect(
      originatorFields(
        raw(["From: A <a@example.com>,", "\tb@example.com", "Subject: x", "SENDER : s@example.com"]),
      ),
    ).toEqual({ from: [["a@example.com", "b@example.com"]], sender: [["s@example.com"]] });
  });

  it("reads a first line mailparser skips as an mbox separator, and a group's members", () => {
    expect(originatorFields(raw(["From : ceo@example.com"])).from).toEqual([["ceo@example.com"]]);
    expect(originatorFields(raw(["From: Board: ceo@example.com, cfo@example.com;"])).from).toEqual([
      ["ceo@example.com", "cfo@example.com"],
    ]);
    expect(originatorFields(raw(["From sender@example.com Mon Jan  1 00:00:00 2024"])).from).toEqual([]);
  });

  it("refuses what only the raw header block shows", () => {
    const agent = { email: "agent@example.com" };
    const fields = { ...emptyArchiveFields(), fromAddresses: ["agent@example.com"] };
    expect(sendAsRefusal(fields, agent, raw(["From: agent@example.com", "Sender: ceo@example.com"]))).toBe(
      "5.7.1 agent@example.com may not send as ceo@example.com",
    );
    expect(sendAsRefusal(fields, agent, raw(["From: agent@example.com", "From: ceo@example.com"]))).toBe(
      "5.7.1 A message may have only one From field",
    );
    expect(
      sendAsRefusal(fields, agent, raw(["From: agent@example.com", "Sender: a@example.com", "Sender: b@x"])),
    ).toBe("5.7.1 A message may have only one Sender field");
    expect(
      sendAsRefusal(fields, agent, raw(["From: agent@example.com", "Sender: Agent@EXAMPLE.com"])),
    ).toBeNull();
  });
});
