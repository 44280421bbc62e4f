import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import { dnsError, type DnsResolver } from "../../../../../server/mail/scan/dns";

/** Records a fake zone serves: name → TXT strings (one entry per record) and A addresses. */
export interface FakeZone {
  txt?: Record<string, string[]>;
  a?: Record<string, string[]>;
}

/**
 * A fake public DNS (the one outside service these tests may fake): answers TXT
 * and A from the zone, NXDOMAIN for everything else, and records every query.
 */
export function fakeResolver(zone: FakeZone): DnsResolver & { queries: string[] } {
  const queries: string[] = [];
  const resolver = async (name: string, rrtype: string) => {
    const key = name.toLowerCase().replace(/\.$/, "");
    queries.push(`${rrtype} ${key}`);
    if (rrtype === "TXT" && zone.txt?.[key]) return zone.txt[key].map((record) => [record]);
    if (rrtype === "A" && zone.a?.[key]) return zone.a[key];
    throw dnsError("ENOTFOUND", name);
  };
  return Object.assign(resolver, { queries });
}

/**
 * A partial outage: the names in `failing` fail with their code (what node's resolver throws: ESERVFAIL, ETIMEOUT,
 * ECONNREFUSED, …), every other name is answered from the zone.
 */
export function partlyBrokenResolver(
  zone: FakeZone,
  failing: Record<string, string>,
): DnsResolver & { queries: string[] } {
  const answers = fakeResolver(zone);
  const resolver = async (name: string, rrtype: string) => {
    const code = failing[name.toLowerCase().replace(/\.$/, "")];
    if (code) {
      answers.queries.push(`${rrtype} ${name.toLowerCase()}`);
      throw dnsError(code, name);
    }
    return answers(name, rrtype);
  };
  return Object.assign(resolver, { queries: answers.queries });
}

/** A resolver whose server never answers usefully (SERVFAIL/timeout/refused). */
export function brokenResolver(code = "ETIMEOUT"): DnsResolver {
  return async (name: string) => {
    throw dnsError(code, name);
  };
}

/** A fresh RSA key pair with its DKIM TXT record. */
export function dkimKey(): { privateKey: string; record: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ type: "spki", format: "der" });
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    record: `v=DKIM1; k=rsa; p=${der.toString("base64")}`,
  };
}

/** The message with a DKIM signature by `domain` (selector sel1) in front, made with `privateKey`. */
export async function dkimSigned(raw: Buffer, domain: string, privateKey: string): Promise<Buffer> {
  const signer = { signingDomain: domain, selector: "sel1", privateKey };
  const result = await dkimSign(raw, { ...signer, signatureData: [signer] });
  if (result.errors.length > 0) throw new Error(`DKIM signing failed: ${JSON.stringify(result.errors)}`);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}
