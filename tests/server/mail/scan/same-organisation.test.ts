import { describe, expect, it } from "vitest";
import { sameOrganisation } from "../../../../server/mail/scan/domains";

describe("sameOrganisation (relaxed alignment)", () => {
  it("matches hosts of one registrable domain, under multi-label public suffixes too", () => {
    expect(sameOrganisation("mail.contoso.com", "contoso.com")).toBe(true);
    expect(sameOrganisation("Bounce.Contoso.com.", "hr.contoso.com")).toBe(true);
    expect(sameOrganisation("news.contoso.co.uk", "contoso.co.uk")).toBe(true);
  });

  it("keeps other organisations apart, and never aligns a host with no registrable domain", () => {
    expect(sameOrganisation("contoso.co.uk", "fabrikam.co.uk")).toBe(false);
    expect(sameOrganisation("contoso.com.evil.example", "contoso.com")).toBe(false);
    expect(sameOrganisation("", "contoso.com")).toBe(false);
    expect(sameOrganisation("", "")).toBe(false);
    expect(sameOrganisation("not a host", "also not one")).toBe(false);
  });
});
