import { describe, expect, it } from "vitest";
import { emptyArchiveFields, type ArchiveFields } from "../../../../server/archive/parse";
import { sendAsRefusal } from "../../../../server/mail/pipeline/send-as";

const fields = (fromAddresses: string[], fromFields = fromAddresses.length > 0 ? 1 : 0): ArchiveFields => ({
  ...emptyArchiveFields(),
  fromAddress: fromAddresses[0] ?? "",
  fromAddresses,
  headers: Array.from({ length: fromFields }, () => ({ key: "from", value: fromAddresses.join(", ") })),
});

describe("sendAsRefusal", () => {
  it("lets a signed-in sender send as their own address, whatever its case", () => {
    expect(sendAsRefusal(fields(["agent@example.com"]), { email: "Agent@Example.com" })).toBeNull();
  });

  it("refuses a From naming someone else, alone or beside their own address", () => {
    expect(sendAsRefusal(fields(["ceo@example.com"]), { email: "agent@example.com" })).toBe(
      "5.7.1 agent@example.com may not send as ceo@example.com",
    );
    expect(
      sendAsRefusal(fields(["agent@example.com", "ceo@example.com"]), { email: "agent@example.com" }),
    ).toBe("5.7.1 agent@example.com may not send as ceo@example.com");
  });

  it("lets them send as one of their other addresses (aliases), and still not as anyone else", () => {
    const tina = { email: "tina@example.com", addresses: ["jane.doe@example.com"] };
    expect(sendAsRefusal(fields(["jane.doe@example.com"]), tina)).toBeNull();
    expect(sendAsRefusal(fields(["jane.doe@example.com", "ceo@example.com"]), tina)).toBe(
      "5.7.1 tina@example.com may not send as ceo@example.com",
    );
  });

  it("takes their own address at an internationalised domain in either spelling", () => {
    const anna = { email: "anna@xn--bcher-kva.example", addresses: ["a.b@xn--bcher-kva.example"] };
    expect(sendAsRefusal(fields(["anna@bücher.example"]), anna)).toBeNull();
    expect(sendAsRefusal(fields(["A.B@Bücher.example"]), anna)).toBeNull();
    expect(sendAsRefusal(fields(["ceo@bücher.example"]), anna)).toBe(
      "5.7.1 anna@xn--bcher-kva.example may not send as ceo@bücher.example",
    );
  });

  it("refuses two From fields, and leaves a message without a From address alone", () => {
    expect(sendAsRefusal(fields(["agent@example.com"], 2), { email: "agent@example.com" })).toBe(
      "5.7.1 A message may have only one From field",
    );
    expect(sendAsRefusal(fields([]), { email: "agent@example.com" })).toBeNull();
  });
});
