import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../../../server/mail/scan/decide";
import { RspamdScanner } from "../../../../server/mail/scan/rspamd";
import type { RspamdSymbol } from "../../../../server/mail/scan/rspamd-map";
import { rspamdSpoofEvidence } from "../../../../server/mail/scan/rspamd-tenant";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import type { Assessment, ScanInput } from "../../../../server/mail/scan/types";
import { startDnsServer, type DnsServerHandle } from "./support/dns-server";
import { dkimKey, dkimSignedWithLength, dkimSigned, partlyBrokenResolver } from "./support/fake-dns";
import { buildRaw, scanInput, TENANT, type MessageParts } from "./support/messages";
import { startRspamd, type RspamdHandle } from "./support/rspamd";
import { buildZip } from "./support/zip-builder";

// Mailward's tenant-aware checks (impersonation.ts, lookalike.ts, spoofing.ts) on the rspamd path, through a real
// rspamd that looks up the same zone as the built-in engine. The tenant is contoso.com (no DMARC record) and
// contoso-mail.co.uk (p=none), whose mail leaves from 198.51.100.7 signed with sel1; Jane Doe works there.
const FORGER_IP = "203.0.113.5";
const OWN_IP = "198.51.100.7";
const key = dkimKey();
const zone = {
  txt: {
    "contoso.com": [`v=spf1 ip4:${OWN_IP} -all`],
    "mail.contoso.com": [`v=spf1 ip4:${OWN_IP} -all`],
    "sel1._domainkey.contoso.com": [key.record],
    "contoso-mail.co.uk": [`v=spf1 ip4:${OWN_IP} -all`],
    "_dmarc.contoso-mail.co.uk": ["v=DMARC1; p=none"],
    "sel1._domainkey.contoso-mail.co.uk": [key.record],
    "evil.example": [`v=spf1 ip4:${FORGER_IP} -all`],
    "mx.evil.example": [`v=spf1 ip4:${FORGER_IP} -all`],
  },
};
/** The forger's own domain whose DNS server is down: SERVFAIL, SPF temperror in both engines. */
const OUTAGE = "outage.example";
/** Our own bounce domain while its DNS is down: SPF temperror for a domain of our organisation. */
const OWN_OUTAGE = "bounce.contoso.com";
const TENANT_SIGNALS = [
  "impersonation.display_name",
  "impersonation.internal_address_in_name",
  "impersonation.lookalike_domain",
  "impersonation.brand_in_domain",
  "impersonation.own_domain",
];

let dns: DnsServerHandle | null = null;
let rspamd: RspamdHandle = { ok: false, reason: "not started" };

beforeAll(async () => {
  dns = await startDnsServer(zone, [OUTAGE, OWN_OUTAGE]);
  rspamd = await startRspamd({ nameserver: dns.address });
  if (!rspamd.ok) console.warn(`SKIPPED real-rspamd tests: ${rspamd.reason}`);
}, 400_000);

afterAll(async () => {
  if (rspamd.ok) await rspamd.stop();
  await dns?.stop();
});

interface Sent extends MessageParts {
  envelope?: Partial<ScanInput["envelope"]>;
  /** The DKIM signer (selector sel1 of the zone's key). */
  sign?: string;
  /** The Date field, instead of buildRaw's fixed one. */
  date?: Date;
  /** Text added after the body `sign` signed, its signature saying how long that was (`l=`). */
  appended?: string;
}

/** The message as rspamd and the built-in engine assess it, from the forger's server unless `envelope` says. */
async function assessBoth(sent: Sent): Promise<{ rspamd: Assessment; builtin: Assessment }> {
  if (!rspamd.ok) throw new Error("rspamd not running");
  const built = buildRaw({ subject: "Wire transfer today", text: "Please call me.", ...sent });
  const date = sent.date?.toUTCString();
  const unsigned = date
    ? Buffer.from(built.toString("latin1").replace(/^Date: .*$/m, `Date: ${date}`), "latin1")
    : built;
  let raw = unsigned;
  if (sent.sign && sent.appended !== undefined)
    raw = await dkimSignedWithLength(unsigned, sent.sign, key.privateKey, sent.appended);
  else if (sent.sign) raw = await dkimSigned(unsigned, sent.sign, key.privateKey);
  const envelope = { mailFrom: "bounce@evil.example", clientIp: FORGER_IP, helo: "mx.evil.example" };
  const input = await scanInput(raw, { ...envelope, ...sent.envelope }, TENANT);
  const scanner = new RspamdScanner({ url: rspamd.url, timeoutMs: 30_000 });
  const broken = { [OUTAGE]: "ESERVFAIL", [OWN_OUTAGE]: "ESERVFAIL" };
  const builtin = new BuiltinScanner({ resolver: partlyBrokenResolver(zone, broken) });
  return { rspamd: await scanner.assess(input), builtin: await builtin.assess(input) };
}

const tenantSignalsOf = (a: Assessment) =>
  a.signals.map((s) => s.id).filter((id) => TENANT_SIGNALS.includes(id));

/** The tenant signals rspamd's assessment carries, checked to be the built-in engine's for the same message. */
async function tenantSignals(sent: Sent): Promise<string[]> {
  const { rspamd: a, builtin } = await assessBoth(sent);
  const label = JSON.stringify({ ...sent, attachments: undefined, html: undefined });
  expect(tenantSignalsOf(a), label).toEqual(tenantSignalsOf(builtin));
  for (const id of tenantSignalsOf(a)) {
    expect(a.signals.find((s) => s.id === id)?.weight, id).toBe(
      builtin.signals.find((s) => s.id === id)?.weight,
    );
  }
  return tenantSignalsOf(a);
}

const CEO = "Chief Executive <ceo@contoso.com>";

describe("our own domain forged from the Internet, through a real rspamd", () => {
  it("raises impersonation.own_domain when nothing vouches for it, and the message is held", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const forged: Sent[] = [
      { from: CEO }, // contoso.com publishes no DMARC: rspamd says DMARC_NA, SPF passes for evil.example only
      { from: "Chief Executive <ceo@contoso-mail.co.uk>" }, // p=none: DMARC_POLICY_SOFTFAIL
      { from: "Payroll <payroll@hr.contoso.com>" },
      { from: CEO, envelope: { mailFrom: "" } }, // a null sender: SPF passes for the forger's HELO name
      { from: CEO, sign: "evil.example" }, // a signature, but not ours
      { from: CEO, sign: "contoso.com", appended: "\r\nWire it to IBAN XX00 today.\r\n" }, // ours, for less (l=)
      { from: CEO, envelope: { mailFrom: "ceo@contoso.com" } }, // SPF fails for contoso.com
      { from: "Contoso: ceo@contoso.com;" }, // a group: rspamd's FROM_INVALID, no DMARC check, nor mailauth's
      // The forger's own MAIL FROM domain answering SERVFAIL: SPF temperror, but for a domain that vouches for
      // nothing of ours (before, any temperror left the forgery unflagged in both engines).
      { from: CEO, envelope: { mailFrom: `bounce@${OUTAGE}` } },
    ];
    for (const sent of forged)
      expect(await tenantSignals(sent), JSON.stringify(sent)).toContain("impersonation.own_domain");

    // Dated today, so that no rspamd rule about an old date adds to the score.
    const { rspamd: a } = await assessBoth({ from: CEO, date: new Date() });
    expect(a.auth).toMatchObject({ spf: "pass", dmarc: "none" });
    expect(decide(a, { org: [], personal: [] })).toMatchObject({ action: "hold", reason: "impersonation" });
  });

  it("raises nothing for our mail that SPF, DKIM or DMARC vouches for, or from our own network", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const vouched: Sent[] = [
      { from: CEO, envelope: { mailFrom: "bounce@contoso.com", clientIp: OWN_IP } }, // aligned SPF pass
      { from: CEO, envelope: { mailFrom: "bounce@mail.contoso.com", clientIp: OWN_IP } },
      { from: CEO, sign: "contoso.com" }, // an aligned DKIM signature, relayed by someone else's server
      { from: CEO, sign: "contoso.com", appended: "" }, // with l=, and nothing after it
      { from: "Jane Doe <jane.doe@contoso-mail.co.uk>", sign: "contoso-mail.co.uk" }, // DMARC passes
      { from: CEO, envelope: { authenticated: true } }, // our colleague submitting from a hotel (SMTP AUTH)
      { from: CEO, envelope: { clientIp: "10.1.2.3" } }, // the office scanner: rspamd checks nothing for it
      { from: CEO, envelope: { clientIp: "100.64.0.9" } }, // carrier-grade NAT: rspamd checks, SPF fails
      // Our own bounce domain's DNS down: SPF for our organisation could not be checked, so nothing is known.
      { from: CEO, envelope: { mailFrom: `bounce@${OWN_OUTAGE}` } },
    ];
    for (const sent of vouched) expect(await tenantSignals(sent), JSON.stringify(sent)).toEqual([]);
    for (const domain of [OUTAGE, OWN_OUTAGE]) {
      const outage = await assessBoth({ from: CEO, envelope: { mailFrom: `bounce@${domain}` } });
      expect([outage.rspamd.auth.spf, outage.builtin.auth.spf], domain).toEqual(["temperror", "temperror"]);
    }
    // What tells them apart is what rspamd said: the same message from the forger's server is flagged.
    expect(await tenantSignals({ from: CEO, envelope: { mailFrom: "bounce@contoso.com" } })).toEqual([
      "impersonation.own_domain",
    ]);
  });
});

describe("a colleague's name and lookalikes of our domains, through a real rspamd", () => {
  it("raises a colleague's name or our address on an outside sender, not a stranger's or our own", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    expect(await tenantSignals({ from: '"Jane Doe" <jane.doe@evil.example>' })).toEqual([
      "impersonation.display_name",
    ]);
    expect(await tenantSignals({ from: '"Doe, Jane" <ceo.office@evil.example>' })).toEqual([
      "impersonation.display_name",
    ]);
    expect(await tenantSignals({ from: '"jane.doe@contoso.com" <x@evil.example>' })).toEqual([
      "impersonation.internal_address_in_name",
    ]);
    expect(await tenantSignals({ from: '"Alice Sender" <alice@evil.example>' })).toEqual([]);
    const own = { mailFrom: "jane.doe@contoso.com", clientIp: OWN_IP };
    expect(await tenantSignals({ from: '"Jane Doe" <jane.doe@contoso.com>', envelope: own })).toEqual([]);
  });

  it("raises lookalikes of our domains as the sender or a link, not other domains nor our own", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    expect(await tenantSignals({ from: "Accounts <ap@c0ntoso.com>" })).toEqual([
      "impersonation.lookalike_domain",
    ]);
    expect(await tenantSignals({ from: "Accounts <ap@contoso.co>" })).toEqual([
      "impersonation.lookalike_domain",
    ]);
    expect(await tenantSignals({ from: "IT <it@mycontosoportal.example>" })).toEqual([
      "impersonation.brand_in_domain",
    ]);
    const html = (href: string) => `<p>Your mailbox is full: <a href="${href}">open it</a>.</p>`;
    expect(await tenantSignals({ html: html("https://contoso.com.mailbox-login.example/") })).toEqual([
      "impersonation.lookalike_domain",
    ]);
    // A lookalike link inside an attached message counts too, as in the built-in engine.
    const inner = buildRaw({ html: html("https://c0nt0so.com/reset") });
    const attached = { filename: "fwd.eml", contentType: "message/rfc822", content: inner };
    expect(await tenantSignals({ attachments: [attached] })).toEqual(["impersonation.lookalike_domain"]);
    // And one in a web page inside an attached zip (rspamd's own checks do not read the pages in archives).
    const zipped = buildZip([
      { name: "mailbox/login.html", content: Buffer.from(html("https://c0nt0so.com/reset")) },
    ]);
    const zip = { filename: "mailbox.zip", contentType: "application/zip", content: zipped };
    expect(await tenantSignals({ attachments: [zip] })).toEqual(["impersonation.lookalike_domain"]);

    expect(await tenantSignals({ from: "Alice <alice@fabrikam.example>" })).toEqual([]);
    const ordinary = html("https://www.contoso.com/intranet") + html("https://example.org/agenda");
    expect(await tenantSignals({ html: ordinary })).toEqual([]);
  });
});

describe("rspamdSpoofEvidence: what rspamd's symbols vouch for", () => {
  const symbols = (...list: Array<[string, ...string[]]>): Record<string, RspamdSymbol> =>
    Object.fromEntries(list.map(([name, ...options]) => [name, { name, score: 0, options }]));
  const input = async () =>
    scanInput(buildRaw({ from: CEO }), { mailFrom: "bounce@contoso.com", clientIp: FORGER_IP });

  it("is no result when rspamd checked nothing, and DMARC none when it could read no From domain", async () => {
    expect(await rspamdSpoofEvidence({}, await input(), "contoso.com")).toBeNull();
    expect(await rspamdSpoofEvidence(symbols(["FROM_INVALID"]), await input(), "contoso.com")).toEqual({
      auth: { spf: "none", dkim: "none", dmarc: "none", arc: "none" },
      passed: { spfDomain: "", dkimAligned: false },
      alignedUndecided: false,
    });
  });

  it("names SPF's domain when it passed, and only DKIM signatures of our organisation as aligned", async () => {
    const spf = await rspamdSpoofEvidence(
      symbols(["R_SPF_ALLOW", "+ip4:203.0.113.5"], ["DMARC_NA", "contoso.com"], ["R_DKIM_NA"]),
      await input(),
      "contoso.com",
    );
    expect(spf?.passed).toEqual({ spfDomain: "contoso.com", dkimAligned: false });
    const dkim = (signer: string) =>
      symbols(["R_DKIM_ALLOW", `${signer}:s=sel1`], ["DMARC_NA", "contoso.com"], ["R_SPF_FAIL", "-all"]);
    expect(
      (await rspamdSpoofEvidence(dkim("mail.contoso.com"), await input(), "contoso.com"))?.passed,
    ).toEqual({
      spfDomain: "",
      dkimAligned: true,
    });
    expect(
      (await rspamdSpoofEvidence(dkim("contoso.co"), await input(), "contoso.com"))?.passed.dkimAligned,
    ).toBe(false);
    const outage = symbols(["R_SPF_DNSFAIL"], ["DMARC_NA", "contoso.com"], ["R_DKIM_NA"]);
    const spfOutage = await rspamdSpoofEvidence(outage, await input(), "contoso.com");
    expect([spfOutage?.auth.spf, spfOutage?.alignedUndecided]).toEqual(["temperror", true]);
  });

  it("counts a check it could not make as undecided only for a domain of our organisation", async () => {
    const fromForger = async () =>
      scanInput(buildRaw({ from: CEO }), { mailFrom: "bounce@outage.example", clientIp: FORGER_IP });
    const spfDown = symbols(["R_SPF_DNSFAIL"], ["DMARC_NA", "contoso.com"], ["R_DKIM_NA"]);
    expect((await rspamdSpoofEvidence(spfDown, await fromForger(), "contoso.com"))?.alignedUndecided).toBe(
      false,
    );
    const dkimDown = (signer: string) =>
      symbols(["R_DKIM_TEMPFAIL", `${signer}:s=sel1`], ["DMARC_NA", "contoso.com"], ["R_SPF_FAIL", "-all"]);
    const theirs = await rspamdSpoofEvidence(dkimDown("outage.example"), await fromForger(), "contoso.com");
    expect([theirs?.auth.dkim, theirs?.alignedUndecided]).toEqual(["temperror", false]);
    const ours = await rspamdSpoofEvidence(dkimDown("mail.contoso.com"), await fromForger(), "contoso.com");
    expect(ours?.alignedUndecided).toBe(true);
  });
});
