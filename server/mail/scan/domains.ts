import { domainToASCII, domainToUnicode } from "node:url";
import { getDomain, getPublicSuffix } from "tldts";

/** Lower-case punycode form of a host, or "" when it is not a usable host name. */
export function asciiHost(host: string): string {
  const trimmed = host.trim().replace(/\.$/, "").toLowerCase();
  if (trimmed === "" || trimmed.length > 253) return "";
  return domainToASCII(trimmed) || "";
}

/**
 * The address with its domain in punycode and its local part as written: DNS and every SMTP server take that form,
 * where a Unicode domain needs SMTPUTF8. smtp-server hands envelope addresses over with the domain decoded to Unicode.
 */
export function addressWithAsciiDomain(address: string): string {
  const at = address.lastIndexOf("@");
  const ascii = at < 0 ? "" : asciiHost(address.slice(at + 1));
  return ascii === "" ? address : `${address.slice(0, at)}@${ascii}`;
}

// RFC 5322 dot-atom, with Unicode letters and digits for SMTPUTF8 local parts (RFC 6531).
const DOT_ATOM_RE = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;

/**
 * The address with a quoted local part written as a dot-atom when it needs no quotes: RFC 5321 §4.1.2 and RFC 5322
 * §3.4.1 make `"tina"@example.com` (and `"t\ina"@…`, a quoted-pair) the same mailbox as `tina@example.com`, so it
 * must be looked up, filed and matched by sender rules as that. A local part that needs its quotes (a space, an `@`,
 * two dots in a row) stays as written, as does anything that is not one whole quoted string.
 */
export function withDotAtomLocalPart(address: string): string {
  const at = address.lastIndexOf("@");
  const local = at < 0 ? address : address.slice(0, at);
  if (local.length < 2 || !local.startsWith('"') || !local.endsWith('"')) return address;
  let inner = "";
  for (let i = 1; i < local.length - 1; i++) {
    let ch = local[i] ?? "";
    if (ch === "\\") {
      i += 1;
      if (i >= local.length - 1) return address; // the closing quote escaped: not one quoted string
      ch = local[i] ?? "";
    } else if (ch === '"') {
      return address;
    }
    inner += ch;
  }
  return DOT_ATOM_RE.test(inner) ? `${inner}${at < 0 ? "" : address.slice(at)}` : address;
}

/**
 * The form in which addresses are looked up, compared and filed: lower-case, the domain in punycode, the way
 * tenant domains are stored, and a quoted local part that needs no quotes unquoted (`withDotAtomLocalPart`).
 * `Anna@Bücher.example` (SMTPUTF8, or as smtp-server decodes it) is `anna@xn--bcher-kva.example`, `"Tina"@example.com`
 * is `tina@example.com`.
 */
export function canonicalAddress(address: string): string {
  return addressWithAsciiDomain(withDotAtomLocalPart(address).toLowerCase());
}

/** Unicode form of a punycode host (for showing people and for confusable checks). */
export function unicodeHost(host: string): string {
  return domainToUnicode(host) || host;
}

/** The registrable domain (eTLD+1) of a host, e.g. `mail.contoso.co.uk` → `contoso.co.uk`; the host itself when unknown. */
export function registrableDomain(host: string): string {
  const ascii = asciiHost(host);
  if (!ascii) return "";
  return getDomain(ascii, { allowPrivateDomains: false }) ?? ascii;
}

/**
 * Relaxed alignment (RFC 7489 §3.1): `domain` is of the same organisation (registrable domain) as `other`; never for
 * a host with no registrable domain.
 */
export function sameOrganisation(domain: string, other: string): boolean {
  const organisation = registrableDomain(other);
  return organisation !== "" && registrableDomain(domain) === organisation;
}

/** The registrable domain split into its own label and its public suffix: `contoso.co.uk` → [`contoso`, `co.uk`]. */
export function splitRegistrable(host: string): { label: string; suffix: string } {
  const reg = registrableDomain(host);
  const suffix = getPublicSuffix(reg, { allowPrivateDomains: false }) ?? "";
  if (suffix && reg.endsWith(`.${suffix}`)) return { label: reg.slice(0, -(suffix.length + 1)), suffix };
  const dot = reg.indexOf(".");
  return dot < 0 ? { label: reg, suffix: "" } : { label: reg.slice(0, dot), suffix: reg.slice(dot + 1) };
}

/** True when `host` is one of the tenant's domains or a subdomain of one. */
export function isOwnDomain(host: string, tenantDomains: readonly string[]): boolean {
  const ascii = asciiHost(host);
  if (!ascii) return false;
  return tenantDomains.some((d) => {
    const own = asciiHost(d);
    return own !== "" && (ascii === own || ascii.endsWith(`.${own}`));
  });
}

/** The domain part of an address (lower-case punycode), or "". */
export function domainOfAddress(address: string): string {
  const at = address.lastIndexOf("@");
  if (at < 0) return "";
  return asciiHost(address.slice(at + 1).replace(/>$/, ""));
}
