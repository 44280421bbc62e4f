import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import { dnsError, type DnsResolver } from "../../../../../server/mail/scan/dns";

/**
 * One TXT record as a test publishes it: its value, which the fake splits into 255-byte strings as a DNS host does, or
 * the strings it is published as (RFC 7208 §3.3 and RFC 6376 §3.6.2.2: a consumer joins them with nothing between).
 */
export type FakeTxtRecord = string | readonly string[];

/** Records a fake zone serves: name → TXT records (one entry per record) and A addresses. */
export interface FakeZone {
  txt?: Record<string, FakeTxtRecord[]>;
  a?: Record<string, string[]>;
}

/** The most bytes one character-string of a TXT record holds (RFC 1035 §3.3: a length octet, then the bytes). */
const TXT_STRING_BYTES = 255;

/**
 * One TXT record as node's `resolveTxt` answers it: its character-strings, each at most 255 bytes, each decoded a byte
 * a character (node reads them as Latin-1). A value is split every 255 bytes, so a 2048-bit DKIM key arrives in two
 * strings, as it does from real DNS; a value of 255 bytes or less is one string.
 */
export function txtAnswer(record: FakeTxtRecord): string[] {
  if (typeof record !== "string") {
    const tooLong = record.find((string) => Buffer.byteLength(string) > TXT_STRING_BYTES);
    if (tooLong !== undefined)
      throw new Error(`a TXT character-string holds at most ${TXT_STRING_BYTES} bytes: ${tooLong}`);
    return [...record];
  }
  const bytes = Buffer.from(record, "utf8");
  const strings: string[] = [];
  for (let at = 0; at < bytes.length; at += TXT_STRING_BYTES)
    strings.push(bytes.subarray(at, at + TXT_STRING_BYTES).toString("latin1"));
  return strings.length > 0 ? strings : [""];
}

/**
 * A fake public DNS (the one outside service these tests may fake): answers TXT
 * (in 255-byte strings, like real DNS) and A from the zone, NXDOMAIN for everything
 * else, and records every query.
 */
export function fakeResolver(zone: FakeZone): DnsResolver & { queries: string[] } {
  const queries: string[] = [];
  const resolver = async (name: string, rrtype: string) => {
    const key = name.toLowerCase().replace(/\.$/, "");
    queries.push(`${rrtype} ${key}`);
    if (rrtype === "TXT" && zone.txt?.[key]) return zone.txt[key].map(txtAnswer);
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
/**
 * The message signed by `domain` (selector sel1) with `l=` set to its body's length, and `tail` appended after the
 * signature was made: what a forger does with one l=-signed message of a domain.
 */
export async function dkimSignedWithLength(
  raw: Buffer,
  domain: string,
  privateKey: string,
  tail = "",
): Promise<Buffer> {
  const length = raw.length - (raw.indexOf("\r\n\r\n") + 4);
  const signer = { signingDomain: domain, selector: "sel1", privateKey, maxBodyLength: length };
  const result = await dkimSign(raw, { ...signer, signTime: new Date(), signatureData: [signer] });
  if (!result.signatures.includes(`l=${length}`)) throw new Error(`DKIM signature without l=${length}`);
  return Buffer.concat([Buffer.from(result.signatures), raw, Buffer.from(tail)]);
}

/**
 * The message signed by `domain` (selector sel1) over its whole body. Both signers pin the signing time: left to
 * mailauth, it reads the clock once for the t= it signs and again for the t= it writes, and about one signature in
 * 400 came out broken (the DKIM tests' rare "bad signature" with the body hash intact).
 */
export async function dkimSigned(raw: Buffer, domain: string, privateKey: string): Promise<Buffer> {
  const signer = { signingDomain: domain, selector: "sel1", privateKey };
  const result = await dkimSign(raw, { ...signer, signTime: new Date(), signatureData: [signer] });
  if (result.errors.length > 0) throw new Error(`DKIM signing failed: ${JSON.stringify(result.errors)}`);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}
