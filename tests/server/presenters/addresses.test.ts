import { describe, expect, it } from "vitest";
import { displayAddress } from "../../../server/presenters/addresses";
import { formatSender } from "../../../server/presenters/held";

// Archived addresses are kept in punycode; people read them with the domain in Unicode, unless it could pass for
// another (ASCII) domain.
describe("displayAddress", () => {
  it.each([
    ["info@xn--mller-shop-9db.de", "info@müller-shop.de"],
    ["lena@xn--bcher-kva.example", "lena@bücher.example"],
    ["chef@xn--caf-dma.fr", "chef@café.fr"],
    ["post@xn--strae-oqa.de", "post@straße.de"],
    ["hans@xn--mnchen-3ya.de", "hans@münchen.de"],
  ])("shows %s as %s (Latin letters with accents read for what they are)", (stored, shown) => {
    expect(displayAddress(stored)).toBe(shown);
  });

  it.each([
    ["Cyrillic а in a Latin name", "billing@xn--pple-43d.com"],
    ["Latin alpha ɑ, which passes for a", "billing@xn--pple-p5b.com"],
    ["dotless ı, which passes for i", "admin@xn--bm-gpa.com"],
    ["a whole Cyrillic name", "info@xn--e1afmkfd.xn--p1ai"],
    ["a Latin label beside a Cyrillic one", "hans@xn--mnchen-3ya.xn--p1ai"],
  ])("keeps punycode for %s", (_, stored) => {
    expect(displayAddress(stored)).toBe(stored);
  });

  it("leaves ASCII addresses, and what is not an address, as they are", () => {
    expect(displayAddress("tina@example.com")).toBe("tina@example.com");
    expect(displayAddress("postmaster")).toBe("postmaster");
    expect(displayAddress("odd@xn--")).toBe("odd@xn--");
  });
});

describe("formatSender", () => {
  it("shows the name and the readable address, and the address alone when the name only repeats it", () => {
    expect(formatSender("Lena", "lena@xn--bcher-kva.example")).toBe("Lena <lena@bücher.example>");
    expect(formatSender("lena@bücher.example", "lena@xn--bcher-kva.example")).toBe("lena@bücher.example");
    expect(formatSender("Apple", "billing@xn--pple-43d.com")).toBe("Apple <billing@xn--pple-43d.com>");
    expect(formatSender("", "tina@example.com")).toBe("tina@example.com");
  });
});
