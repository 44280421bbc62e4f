import type { ArchiveFields } from "../../archive/parse";
import { canonicalAddress } from "../scan/domains";

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
 * Why a signed-in sender's message may not go out as it is, or null when it may: its From must be their
 * own address, as its envelope sender already must be (the gateway's 553 at MAIL FROM). Without this a
 * signed-in agent, or whoever stole their SMTP password, could send "From: ceo@our-company" to colleagues,
 * and our own users' mail is trusted (it is only held for malware). One From field (RFC 5322 §3.6), every
 * address in it theirs (their own or an alias an admin gave them); a message without a From address
 * impersonates nobody and is left to the reader.
 */
export function sendAsRefusal(fields: ArchiveFields, sender: SendingIdentity): string | null {
  const fromFields = fields.headers.filter((h) => h.key.toLowerCase() === "from").length;
  if (fromFields > 1) return "5.7.1 A message may have only one From field";
  const foreign = fields.fromAddresses.find((address) => !isOwnAddress(sender, address));
  return foreign ? `5.7.1 ${sender.email.toLowerCase()} may not send as ${foreign}` : null;
}
