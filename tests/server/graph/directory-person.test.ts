import { describe, expect, it } from "vitest";
import { directoryGroupOf, directoryPersonOf } from "../../../server/graph/directory-entries";

// Which directory users the gateway takes mail for, and at which addresses (pure: no Graph, no database).
const DOMAINS = new Set(["contoso.test", "contoso-old.test"]);

describe("directoryPersonOf", () => {
  it("takes the SMTP: proxy address as primary and the other smtp: ones in the domains as aliases", () => {
    expect(
      directoryPersonOf(
        {
          id: "oid-1",
          displayName: " Adele Vance ",
          mail: "adele@contoso.test",
          proxyAddresses: [
            "smtp:Adele.Vance@Contoso.test",
            "SMTP:Adele@Contoso.test",
            "smtp:adele@contoso-old.test",
            "smtp:adele@contoso.onmicrosoft.com",
            "X500:/o=ExchangeLabs/cn=Recipients/cn=adele",
            "SIP:adele@contoso.test",
            "smtp:adele.vance@contoso.test",
          ],
        },
        DOMAINS,
      ),
    ).toEqual({
      oid: "oid-1",
      primary: "adele@contoso.test",
      displayName: "Adele Vance",
      aliases: ["adele.vance@contoso.test", "adele@contoso-old.test"],
    });
  });

  it("falls back to mail when there are no proxy addresses, and to the address's local part for a name", () => {
    expect(
      directoryPersonOf({ id: "oid-2", mail: "Megan@contoso.test", displayName: null }, DOMAINS),
    ).toEqual({
      oid: "oid-2",
      primary: "megan@contoso.test",
      displayName: "megan",
      aliases: [],
    });
  });

  it("stores an internationalised domain in punycode, as the gateway looks recipients up", () => {
    const domains = new Set(["xn--bcher-kva.example"]);
    expect(
      directoryPersonOf(
        { id: "oid-6", mail: "Anna@Bücher.example", proxyAddresses: ["smtp:a.b@BÜCHER.example"] },
        domains,
      ),
    ).toEqual({
      oid: "oid-6",
      primary: "anna@xn--bcher-kva.example",
      displayName: "anna",
      aliases: ["a.b@xn--bcher-kva.example"],
    });
    expect(directoryGroupOf({ id: "g-4", mail: "Team@Bücher.example" }, domains)?.addresses).toEqual([
      "team@xn--bcher-kva.example",
    ]);
  });

  it("leaves out people without a mailbox in the organisation's domains", () => {
    // No mailbox at all.
    expect(
      directoryPersonOf({ id: "oid-3", userPrincipalName: "svc@contoso.test", mail: null }, DOMAINS),
    ).toBeNull();
    // A guest, whose mail is elsewhere, even with a proxy address in our domain.
    expect(
      directoryPersonOf(
        {
          id: "oid-4",
          mail: "lee@fabrikam.test",
          proxyAddresses: ["SMTP:lee@fabrikam.test", "smtp:lee@contoso.test"],
        },
        DOMAINS,
      ),
    ).toBeNull();
    // A proxy address without an @ is not an address.
    expect(
      directoryPersonOf({ id: "oid-5", mail: null, proxyAddresses: ["SMTP:nobody"] }, DOMAINS),
    ).toBeNull();
  });
});

describe("directoryGroupOf", () => {
  it("takes a group's mail and smtp: proxy addresses in the organisation's domains", () => {
    expect(
      directoryGroupOf(
        {
          id: "g-1",
          displayName: "Support Team",
          mail: "Team@contoso.test",
          proxyAddresses: [
            "SMTP:team@contoso.test",
            "smtp:support@contoso-old.test",
            "smtp:team@contoso.onmicrosoft.com",
            "X500:/o=ExchangeLabs/cn=team",
          ],
        },
        DOMAINS,
      ),
    ).toEqual({
      oid: "g-1",
      displayName: "Support Team",
      addresses: ["support@contoso-old.test", "team@contoso.test"],
    });
  });

  it("leaves out a group with no address in the organisation's domains", () => {
    expect(
      directoryGroupOf({ id: "g-2", displayName: "Laptops", mail: null, proxyAddresses: [] }, DOMAINS),
    ).toBeNull();
    expect(
      directoryGroupOf({ id: "g-3", displayName: "Cloud", mail: "cloud@contoso.onmicrosoft.com" }, DOMAINS),
    ).toBeNull();
  });
});
