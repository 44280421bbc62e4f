import { describe, expect, it } from "vitest";
import { findLookalike } from "../../../../server/mail/scan/lookalike";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { buildRaw, scanInput, TENANT } from "./support/messages";

const OURS = ["contoso.com", "contoso.onmicrosoft.com"];

describe("lookalikes of a tenant's onmicrosoft.com domain", () => {
  it.each([
    ["contos0.onmicrosoft.com", "homoglyph"],
    ["c0ntoso.onmicrosoft.com", "homoglyph"],
    ["contosso.onmicrosoft.com", "typo"],
    ["contoso.onmicrosoft.com.evil.example", "prefix"],
  ])("flags %s (%s)", (domain, kind) => {
    // By the Public Suffix List every tenant's domain is "onmicrosoft": the same name as ours, so never a lookalike.
    expect(findLookalike(domain, ["contoso.onmicrosoft.com"])).toMatchObject({ kind, strength: "strong" });
  });

  it("flags a lookalike tenant of the tenant's own domain", () => {
    expect(findLookalike("contos0.onmicrosoft.com", ["contoso.com"])).toMatchObject({ strength: "strong" });
  });

  it.each([
    ["fabrikam.onmicrosoft.com"],
    ["northwind.mail.onmicrosoft.com"],
    ["onmicrosoft.com"],
    ["0nmicrosoft.com"],
  ])("does not take %s for ours", (domain) => {
    // Other tenants are not lookalikes of onmicrosoft.com, which is Microsoft's, not ours.
    expect(findLookalike(domain, OURS)).toBeNull();
  });

  it("never flags the tenant's own onmicrosoft.com domains", () => {
    expect(findLookalike("contoso.onmicrosoft.com", OURS)).toBeNull();
    expect(findLookalike("contoso.mail.onmicrosoft.com", OURS)).toBeNull();
  });

  it("raises the lookalike signal for mail from a lookalike tenant", async () => {
    const tenant = { ...TENANT, domains: [...TENANT.domains, "contoso.onmicrosoft.com"] };
    const raw = buildRaw({ from: "IT Service Desk <it@contos0.onmicrosoft.com>" });
    const input = await scanInput(raw, { mailFrom: "it@contos0.onmicrosoft.com" }, tenant);
    const ids = (await new BuiltinScanner().assess(input)).signals.map((s) => s.id);
    expect(ids).toContain("impersonation.lookalike_domain");
    const other = buildRaw({ from: "Fabrikam Sales <sales@fabrikam.onmicrosoft.com>" });
    const otherInput = await scanInput(other, { mailFrom: "sales@fabrikam.onmicrosoft.com" }, tenant);
    const otherIds = (await new BuiltinScanner().assess(otherInput)).signals.map((s) => s.id);
    expect(otherIds).not.toContain("impersonation.lookalike_domain");
    expect(otherIds).not.toContain("impersonation.brand_in_domain");
  });
});
