import { asciiHost, unicodeHost } from "./domains";
import type { Signal } from "./types";
import { signal } from "./weights";

// The From checks beside DMARC: mailauth applies DMARC to its own reading of From, the sender rules match
// mailparser's, and where the two part (several senders, groups, odd spellings) DMARC vouches for nothing.

/**
 * The From checks of one message: several senders, counted as mailauth read From (`headerFrom`, null when the check
 * did not complete) or, where it saw fewer, in every From field with group members (`fieldAddresses`, see
 * `fromFieldAddresses`: mailauth counts no group member); else a From whose domain DMARC did not check.
 */
export function fromSignals(
  from: { address: string; domain: string },
  headerFrom: readonly string[] | null,
  fieldAddresses: readonly string[],
): Signal[] {
  const senders = headerFrom !== null && headerFrom.length > 1 ? headerFrom : fieldAddresses;
  return [...ambiguousFromSignals(senders), ...uncheckedFromSignals(from, headerFrom)];
}

/**
 * More than one sender in From (two From fields, or one naming several addresses). mailauth, like most DMARC
 * implementations, then applies no DMARC at all (RFC 7489 §6.6.1 leaves such mail to the receiver), so a forger adds a
 * second From beside a domain that publishes p=reject, and mail apps show one of them: held for review, and never
 * vouched for by a permit (see `permitApplies`).
 */
export function ambiguousFromSignals(fromAddresses: readonly string[]): Signal[] {
  if (fromAddresses.length < 2) return [];
  return [
    signal(
      "auth.ambiguous_from",
      "It names more than one sender (From), which gets past the sender's own checks (DMARC): which one your mail app shows cannot be told.",
      fromAddresses.slice(0, 5).join(", ") +
        (fromAddresses.length > 5 ? ` (and ${fromAddresses.length - 5} more)` : ""),
    ),
  ];
}

/**
 * The sender that permits and blocks match (`senderOf`, read by mailparser) is not the one DMARC checked (mailauth's
 * own reading of From). They part where mailparser is lenient: a From naming its sender only inside a group
 * (`Group: ceo@bank.test;`, which mailauth skips, so no DMARC), no From address at all (the envelope sender stands
 * in), `ceo@bank.test>` (DMARC looked up `bank.test>`), a punycode domain mailparser decodes to another one
 * (`ceo@xn--bank-.test` read as bank.test). A forger thus got DMARC "none" for a p=reject domain, and a permit for
 * it delivered the message: held for review like `auth.ambiguous_from`, and never vouched for (`permitApplies`).
 * Only the domain is compared, as DMARC only vouches for that. `headerFrom` null (the check failed) raises nothing.
 */
export function uncheckedFromSignals(
  from: { address: string; domain: string },
  headerFrom: readonly string[] | null,
): Signal[] {
  if (headerFrom === null || headerFrom.length > 1) return []; // more than one: auth.ambiguous_from
  const checked = headerFrom[0];
  if (checked !== undefined && from.domain !== "" && checkedDomain(checked) === from.domain) return [];
  return [
    signal(
      "auth.from_unchecked",
      `Its sender address (${from.address || "none"}) is written so that the sender's own check (DMARC) skipped it: nothing proves who sent it.`,
      `DMARC read From as ${checked === undefined ? "no address" : JSON.stringify(checked.slice(0, 200))}`,
    ),
  ];
}

/**
 * The From domain mailauth's DMARC check applied, canonical like `senderOf`'s. After the last "@": DMARC takes all
 * after the first, but `y@bank.test` has no record, so it falls back to the organisational domain, bank.test. A
 * non-ASCII domain counts only when IDNA's mapping leaves it as it is: mailauth encodes it to punycode as written,
 * where `senderOf` maps it first, so `ｂａｎｋ.test` (fullwidth) or `bank<U+200B>.test` read as bank.test here while
 * DMARC looked up a name without a record. "" when they differ.
 */
function checkedDomain(address: string): string {
  // punycode.js, as mailauth calls it, reads the ideographic full stops as dots, too.
  const written = address
    .slice(address.lastIndexOf("@") + 1)
    .trim()
    .toLowerCase()
    .replace(/[\u3002\uFF0E\uFF61]/g, ".");
  const ascii = asciiHost(written);
  if (/^[\x20-\x7e]*$/.test(written)) return ascii;
  return unicodeHost(ascii) === written.replace(/\.$/, "") ? ascii : "";
}
