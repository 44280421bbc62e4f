import type { ParsedMail } from "mailparser";
import { parseAddressHeader } from "../mime-parser";
import { domainOfAddress, withDotAtomLocalPart } from "./domains";
import type { Assessment, ScanInput } from "./types";

/**
 * The sender a person sees (header From), falling back to the envelope sender when From is missing or broken,
 * with every address the From fields name (`addresses`, for the block rows of the precedence table).
 */
export function senderOf(input: Pick<ScanInput, "parsed" | "envelope">): Assessment["from"] {
  const first = firstFrom(input.parsed);
  const raw = (first?.address ?? "").trim() || input.envelope.mailFrom.trim().replace(/^<|>$/g, "");
  const address = canonicalAddress(raw);
  const addresses = new Set([address, ...fromFieldAddresses(input.parsed).map(canonicalAddress)]);
  return {
    address,
    domain: domainOfAddress(raw),
    displayName: (first?.name ?? "").slice(0, 200),
    addresses: [...addresses].filter(Boolean),
  };
}

/**
 * Lower-case local part, unquoted when it needs no quotes (`<"bob"@evil.test>` is bob@evil.test, and mailparser keeps
 * the quotes inside angle brackets), and the domain as `domainOfAddress` reads it, so rules match every spelling alike.
 */
function canonicalAddress(written: string): string {
  const address = withDotAtomLocalPart(written);
  const at = address.lastIndexOf("@");
  const domain = domainOfAddress(address);
  const normalized =
    at > 0 && domain ? `${address.slice(0, at).toLowerCase()}@${domain}` : address.toLowerCase();
  return normalized.slice(0, 320);
}

function firstFrom(parsed: ParsedMail): { address?: string | undefined; name: string } | undefined {
  const value = parsed.from?.value;
  if (!Array.isArray(value)) return undefined;
  for (const entry of value) {
    if (entry.address) return entry;
    const member = entry.group?.find((g) => g.address);
    if (member) return member;
  }
  return value[0];
}

/** The Reply-To domain, when the message names one. */
export function replyToDomain(parsed: ParsedMail): string {
  const address = parsed.replyTo?.value?.find((v) => v.address)?.address ?? "";
  return domainOfAddress(address);
}

/**
 * Every distinct address the From fields name, group members included, across all From fields: mailparser keeps the
 * first field only, and mailauth counts no group member, so `From: x@evil.test` with a second field
 * `From: Bank: ceo@bank.test;` (or both in one field) named two senders that neither counted as two.
 */
export function fromFieldAddresses(parsed: ParsedMail): string[] {
  const values = (parsed.headerLines ?? [])
    .filter((line) => line.key === "from")
    .map((line) => line.line.slice(line.line.indexOf(":") + 1));
  if (values.length === 0) return [];
  const found = new Set<string>();
  for (const entry of parseAddressHeader(values).value) {
    for (const member of [entry, ...(entry.group ?? [])]) {
      if (member.address) found.add(member.address.toLowerCase());
    }
  }
  return [...found];
}
