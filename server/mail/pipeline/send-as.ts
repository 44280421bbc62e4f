import addressparser from "nodemailer/lib/addressparser";
import type { ArchiveFields } from "../../archive/parse";
import { canonicalAddress } from "../scan/domains";
import { headerSeparatorOf } from "../scan/parse";

/** A signed-in sender as the send-as rules see them: their address and their other addresses (aliases). */
export interface SendingIdentity {
  email: string;
  addresses?: readonly string[];
}

/**
 * Whether a signed-in sender may use this address (MAIL FROM, From): their own, or one of their other addresses.
 * Compared lower-case with the domain in punycode, as addresses are stored: smtp-server and mailparser both hand
 * an internationalised domain over in Unicode.
 */
export function isOwnAddress(sender: SendingIdentity, address: string): boolean {
  const canonical = canonicalAddress(address);
  return canonical === canonicalAddress(sender.email) || (sender.addresses ?? []).includes(canonical);
}

/**
 * The From and Sender fields of a raw message's header block, each as the addresses it names (a group's members
 * included), read the way a receiver reads the relayed copy: every field however many come before it, every
 * address however many, and a first line "From : x" too (obsolete syntax allows space before the colon; mailparser
 * skips that line as an mbox separator, but behind our Received field it is a From field).
 */
export function originatorFields(raw: Buffer): { from: string[][]; sender: string[][] } {
  const separator = headerSeparatorOf(raw);
  const block = raw.subarray(0, separator ? separator.at : raw.length).toString("utf8");
  const fields: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += line;
    else fields.push(line);
  }
  const found = { from: [] as string[][], sender: [] as string[][] };
  for (const field of fields) {
    const match = /^(from|sender)[ \t]*:(.*)$/is.exec(field);
    if (!match?.[1]) continue;
    const addresses = addressparser(match[2] ?? "", { flatten: true }).flatMap((a) =>
      a.address ? [a.address] : [],
    );
    found[match[1].toLowerCase() === "from" ? "from" : "sender"].push(addresses);
  }
  return found;
}

/**
 * Why a signed-in sender's message may not go out as it is, or null when it may: its From must be their
 * own address, as its envelope sender already must be (the gateway's 553 at MAIL FROM). Without this a
 * signed-in agent, or whoever stole their SMTP password, could send "From: ceo@our-company" to colleagues,
 * and our own users' mail is trusted (it is only held for malware). One From field (RFC 5322 §3.6), every
 * address in it theirs (their own or an alias an admin gave them), and so is a Sender field's (Outlook shows
 * it as who sent the message "on behalf of" the From); a message without a From address impersonates nobody
 * and is left to the reader. Both mailparser's reading (`fields`) and the raw header block's count.
 */
export function sendAsRefusal(fields: ArchiveFields, sender: SendingIdentity, raw: Buffer): string | null {
  const scanned = originatorFields(raw);
  const parsedFromFields = fields.headers.filter((h) => h.key.toLowerCase() === "from").length;
  if (Math.max(parsedFromFields, scanned.from.length) > 1)
    return "5.7.1 A message may have only one From field";
  if (scanned.sender.length > 1) return "5.7.1 A message may have only one Sender field";
  const named = [...fields.fromAddresses, ...scanned.from.flat(), ...scanned.sender.flat()];
  const foreign = named.find((address) => !isOwnAddress(sender, address));
  return foreign ? `5.7.1 ${sender.email.toLowerCase()} may not send as ${foreign}` : null;
}
