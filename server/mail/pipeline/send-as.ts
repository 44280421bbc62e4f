import type { ArchiveFields } from "../../archive/parse";

/**
 * Why a signed-in sender's message may not go out as it is, or null when it may: its From must be their
 * own address, as its envelope sender already must be (the gateway's 553 at MAIL FROM). Without this a
 * signed-in agent, or whoever stole their SMTP password, could send "From: ceo@our-company" to colleagues,
 * and our own users' mail is trusted (it is only held for malware). One From field (RFC 5322 §3.6), every
 * address in it theirs (their own, or one of `otherAddresses`, the aliases an admin gave them); a message without a From address impersonates nobody and is left to the reader.
 */
export function sendAsRefusal(
  fields: ArchiveFields,
  senderEmail: string,
  otherAddresses: readonly string[] = [],
): string | null {
  const own = senderEmail.toLowerCase();
  const fromFields = fields.headers.filter((h) => h.key.toLowerCase() === "from").length;
  if (fromFields > 1) return "5.7.1 A message may have only one From field";
  const foreign = fields.fromAddresses.find(
    (address) => address !== own && !otherAddresses.includes(address),
  );
  return foreign ? `5.7.1 ${own} may not send as ${foreign}` : null;
}

/** Whether a signed-in sender may use this address (MAIL FROM, From): their own, or one of their other addresses. */
export function isOwnAddress(
  sender: { email: string; addresses?: readonly string[] },
  address: string,
): boolean {
  const lowered = address.toLowerCase();
  return lowered === sender.email.toLowerCase() || (sender.addresses ?? []).includes(lowered);
}
