import { skeleton } from "./confusables";
import { isOwnDomain } from "./domains";
import type { Signal, TenantContext } from "./types";
import { signal } from "./weights";

// Hangul fillers and the blank braille pattern: letters or symbols to Unicode, a blank the width of a letter on screen.
const BLANK_GLYPHS = /[\u115F\u1160\u3164\uFFA0\u2800]/g;
// A right-to-left override shows the letters after it, up to its pop (or an isolate's end), in reverse order.
const RTL_OVERRIDE = /\u202E([^\u202C\u2069]*)[\u202C\u2069]?/g;
const IDEOGRAPHIC_STOPS = /[\u3002\uFF61]/g;

/**
 * A display name as a mail app shows it: compatibility forms folded (fullwidth "＠" and "Ｊ" are "@" and "J"), the
 * invisible characters (zero-width, soft hyphen, direction marks) dropped, blank-looking letters read as spaces, a
 * right-to-left override run read in the order it is shown, and ideographic full stops read as dots (IDNA does).
 * Without this, "Jane\u3164Doe", "jane.doe@con\u200Btoso.com" or "\u202Eeod enaj" showed a colleague's name or our own
 * address while comparing as other words.
 */
export function shownText(displayName: string): string {
  return displayName
    .normalize("NFKC")
    .replace(BLANK_GLYPHS, " ")
    .replace(RTL_OVERRIDE, (_, run: string) => [...run].reverse().join(""))
    .replace(/\p{Default_Ignorable_Code_Point}/gu, "")
    .replace(IDEOGRAPHIC_STOPS, ".");
}

/** Reduces a display name to comparable words: confusables mapped, punctuation and titles dropped, sorted. */
export function nameKey(displayName: string): string {
  const words = skeleton(shownText(displayName.slice(0, 200)))
    .replace(/["'`()[\]<>{}]/g, " ")
    .split(/[\s,._-]+/)
    .map((w) => w.replace(/[^\p{L}\p{N}]/gu, ""))
    .filter((w) => w.length > 0 && !["mr", "mrs", "ms", "dr", "via", "from"].includes(w));
  return words.sort().join(" ");
}

/** A name specific enough to compare: two words or more, or one long word (a lone "Jane" or "Sales" is not). */
function distinctiveName(key: string): boolean {
  const words = key.split(" ").filter((w) => w.length > 0);
  return (words.length >= 2 && key.replace(/ /g, "").length >= 5) || (words.length === 1 && key.length >= 8);
}

const EMBEDDED_ADDRESS = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;

/**
 * Looks for an outside sender dressed up as one of the tenant's people: the
 * display name of a colleague ("Jane Doe" vs "Doe, Jane"), or one of our own
 * addresses written into the display name. Mail from our own domains is never flagged.
 */
export function impersonationSignals(
  from: { address: string; domain: string; displayName: string },
  tenant: TenantContext,
): Signal[] {
  if (!from.domain || isOwnDomain(from.domain, tenant.domains)) return [];
  const signals: Signal[] = [];
  const shown = from.displayName.trim();
  if (shown === "") return signals;

  const key = nameKey(shown);
  if (distinctiveName(key)) {
    const person = tenant.people.find((p) => nameKey(p.displayName) === key);
    if (person) {
      signals.push(
        signal(
          "impersonation.display_name",
          `It uses the name of ${person.displayName}, who works here, but comes from an outside address (${from.address}).`,
        ),
      );
    }
  }

  const embedded = shownText(shown).match(EMBEDDED_ADDRESS) ?? [];
  const ownAddress = embedded.find((addr) =>
    isOwnDomain(addr.slice(addr.lastIndexOf("@") + 1), tenant.domains),
  );
  if (ownAddress) {
    signals.push(
      signal(
        "impersonation.internal_address_in_name",
        `Its sender name shows our own address ${ownAddress}, but it really comes from ${from.address}.`,
      ),
    );
  }
  return signals;
}
