import type { ParsedMail } from "mailparser";
import { domainOfAddress } from "./domains";
import type { Assessment, ScanInput } from "./types";

/** The sender a person sees (header From), falling back to the envelope sender when From is missing or broken. */
export function senderOf(input: Pick<ScanInput, "parsed" | "envelope">): Assessment["from"] {
  const first = firstFrom(input.parsed);
  const address = (first?.address ?? "").trim() || input.envelope.mailFrom.trim().replace(/^<|>$/g, "");
  const at = address.lastIndexOf("@");
  const domain = domainOfAddress(address);
  const normalized =
    at > 0 && domain ? `${address.slice(0, at).toLowerCase()}@${domain}` : address.toLowerCase();
  return { address: normalized.slice(0, 320), domain, displayName: (first?.name ?? "").slice(0, 200) };
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
