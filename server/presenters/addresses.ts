import { domainToUnicode } from "node:url";

// Latin letters that no ASCII letter can be mistaken for, beyond the accented ones (which decompose to ASCII + marks).
const DISTINCT_LATIN = new Set(["ß", "æ", "ø", "œ", "þ", "ð", "đ", "ł", "ħ"]);

/** Whether a Unicode label is shown as it is: ASCII, accented Latin letters and a few distinct Latin ones only. */
function readableLabel(label: string): boolean {
  for (const char of label) {
    if (/[a-z0-9-]/.test(char) || DISTINCT_LATIN.has(char)) continue;
    // ä, é, ñ, ...: an ASCII letter and combining marks; not ı, ɑ or Cyrillic а, which pass for ASCII letters.
    if (!/^[a-z]\p{M}+$/u.test(char.normalize("NFD"))) return false;
  }
  return true;
}

/**
 * How an archived address (kept with its domain in punycode) is shown to people: `info@müller-shop.de` rather than
 * `info@xn--mller-shop-t9a.de` when every label of the domain reads unambiguously in Latin letters, and in punycode
 * otherwise, so a Cyrillic or mixed-script copy of a known domain (`аpple.com`) is shown for what it is.
 */
export function displayAddress(address: string): string {
  const at = address.lastIndexOf("@");
  const domain = address.slice(at + 1);
  if (at < 0 || !domain.split(".").some((label) => label.startsWith("xn--"))) return address;
  const unicode = domainToUnicode(domain);
  if (unicode === "" || !unicode.split(".").every(readableLabel)) return address;
  return `${address.slice(0, at)}@${unicode}`;
}
