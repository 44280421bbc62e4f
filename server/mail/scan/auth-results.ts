import type { AuthResults } from "./types";

/**
 * A property value (RFC 8601 pvalue: an address or a domain) reduced to the characters of one: no
 * space, ";", "=", comment or line break, so it cannot end the method or start another one.
 */
function pvalue(value: string): string {
  return value.replace(/[^A-Za-z0-9!#$%&'*+\-/?^_`{|}~.@]/g, "").slice(0, 255);
}

/** A result keyword as RFC 8601 spells them (lower-case letters only; anything else is "none"). */
function keyword(result: string): string {
  return /^[a-z]+$/.test(result) ? result : "none";
}

/**
 * An Authentication-Results field (RFC 8601) from results a scanner already has, for engines that
 * do not write one themselves (rspamd's HTTP check answers symbols, not fields): SPF with the
 * envelope sender, DKIM, DMARC with the From domain, and ARC, under our authserv-id. CRLF-terminated.
 */
export function authenticationResultsField(
  authservId: string,
  auth: AuthResults,
  facts: { mailFrom: string; fromDomain: string },
): string {
  const mailFrom = pvalue(facts.mailFrom);
  const fromDomain = pvalue(facts.fromDomain);
  const methods = [
    `spf=${keyword(auth.spf)}${mailFrom ? ` smtp.mailfrom=${mailFrom}` : ""}`,
    `dkim=${keyword(auth.dkim)}`,
    `dmarc=${keyword(auth.dmarc)}${fromDomain ? ` header.from=${fromDomain}` : ""}`,
    `arc=${keyword(auth.arc)}`,
  ];
  return `Authentication-Results: ${authservId};\r\n ${methods.join(";\r\n ")}\r\n`;
}
