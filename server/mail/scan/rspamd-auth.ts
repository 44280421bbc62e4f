import { dkimVerify, type DNSResolver } from "mailauth";
import type { ParsedMail } from "mailparser";
import { unsignedTailSignal } from "./auth";
import { fromSignals } from "./auth-from";
import { createOfflineResolver } from "./dns";
import { domainOfAddress, registrableDomain, sameOrganisation } from "./domains";
import { useLineHeaderScan } from "./mailauth-header-scan";
import { authFromSymbols, dmarcSymbolOf, type RspamdSymbol } from "./rspamd-map";
import { fromFieldAddresses } from "./sender";
import type { Assessment, ScanInput, Signal } from "./types";
import { signal } from "./weights";

// The From checks beside rspamd's DMARC, as auth-from.ts makes them beside mailauth's: rspamd's DMARC reads From its
// own way, and says in its symbols which domain it looked up, or why it looked none up.

/** rspamd's DMARC_NA reasons that name no domain (plugins/dmarc.lua). */
const SEVERAL_SENDERS = "Duplicate From header";
const NO_ADDRESS = new Set(["No domain in From header", "No From header"]);

/**
 * The From as rspamd's DMARC check read it, in the shape `fromSignals` takes mailauth's reading: null when rspamd ran
 * no DMARC check on a From it could read (a client in its local networks, a module turned off); no address when it
 * found none (DMARC_NA "No From header", "No domain in From header", or no check beside its own FROM_INVALID or
 * MISSING_FROM); several when it found several ("Duplicate From header": `fieldAddresses` when they are several too);
 * else `@` and the domain it looked the policy up for. That is the organisational domain when the policy came from
 * there (`news.bank.test` under `_dmarc.bank.test`): a From beneath it then counts as the one checked.
 */
export function rspamdDmarcFrom(
  symbols: Record<string, RspamdSymbol>,
  fromDomain: string,
  fieldAddresses: readonly string[],
): string[] | null {
  const dmarc = dmarcSymbolOf(symbols);
  if (!dmarc) return "FROM_INVALID" in symbols || "MISSING_FROM" in symbols ? [] : null;
  const reason = dmarc.options?.[0] ?? "";
  if (dmarc.name === "DMARC_NA" && reason === SEVERAL_SENDERS) {
    if (fieldAddresses.length > 1) return [...fieldAddresses];
    const named = symbols.MULTIPLE_FROM?.options ?? [];
    return named.length > 1 ? [...named] : ["(unreadable)", "(unreadable)"];
  }
  if (dmarc.name === "DMARC_NA" && NO_ADDRESS.has(reason)) return [];
  // "bank.test", "bank.test : SPF not aligned", "bank.test: no valid DMARC record": a domain has no ":".
  const domain = reason.split(":")[0]?.trim() ?? "";
  if (domain === "") return [];
  const beneath = fromDomain.endsWith(`.${domain}`) && registrableDomain(fromDomain) === domain;
  return [`@${beneath ? fromDomain : domain}`];
}

/**
 * The From signals of an rspamd check, from the same decision point as the built-in engine's (`fromSignals`): several
 * senders (`auth.ambiguous_from`), or a From domain rspamd's DMARC did not check (`auth.from_unchecked`); with
 * `auth.unverified` (0 points) when it checked none, which leaves DMARC without a result (see `authFromSymbols`).
 */
export function rspamdFromSignals(
  symbols: Record<string, RspamdSymbol>,
  parsed: ParsedMail,
  from: Assessment["from"],
): Signal[] {
  const fields = fromFieldAddresses(parsed);
  const checked = rspamdDmarcFrom(symbols, from.domain, fields);
  const unverified =
    dmarcSymbolOf(symbols) === undefined
      ? [
          signal(
            "auth.unverified",
            "The sender's identity was not checked (rspamd ran no DMARC check).",
            "dmarc",
          ),
        ]
      : [];
  return [...fromSignals(from, checked, fields), ...unverified];
}

/** A DKIM-Signature field's value with a body length tag (`l=`). */
const BODY_LENGTH_TAG = /(?:^|;)\s*l\s*=/i;

/** Whether a DKIM-Signature of the message carries a body length (`l=`). */
function hasBodyLengthTag(parsed: ParsedMail): boolean {
  return (parsed.headerLines ?? []).some(
    (l) => l.key === "dkim-signature" && BODY_LENGTH_TAG.test(l.line.slice(l.line.indexOf(":") + 1)),
  );
}

/**
 * The DKIM signatures rspamd passed (R_DKIM_ALLOW names them `domain:s=selector`) whose domain is aligned with From
 * (relaxed, RFC 7489 §3.1), each as the bytes of body after its signed length (`l=`; 0 when it covers the whole body).
 * rspamd passes such a signature however much follows its `l=` bytes and does not say so; mailauth's body hashing
 * measures it here (offline: whether a signature passed is rspamd's word). Without an `l=` tag nothing is hashed again.
 */
export async function alignedSignatureTails(
  symbols: Record<string, RspamdSymbol>,
  input: Pick<ScanInput, "raw" | "parsed">,
  fromDomain: string,
): Promise<number[]> {
  const passed = (symbols.R_DKIM_ALLOW?.options ?? []).map((o) => o.toLowerCase());
  const aligned = passed.filter((o) => sameOrganisation(o.split(":")[0] ?? "", fromDomain));
  if (aligned.length === 0) return [];
  if (!hasBodyLengthTag(input.parsed)) return aligned.map(() => 0);
  useLineHeaderScan();
  const { results } = await dkimVerify(input.raw, { resolver: createOfflineResolver() as DNSResolver });
  return results
    .filter((r) => aligned.includes(`${r.signingDomain}:s=${r.selector ?? ""}`.toLowerCase()))
    .map((r) => {
      const tail = Number(r.status?.underSized ?? 0);
      return Number.isFinite(tail) && tail > 0 ? tail : 0;
    });
}

/**
 * How many bytes of the body no signature covers, when rspamd's DMARC passed only through DKIM signatures with a body
 * length (`l=`) aligned with From, as `unsignedTailBytes` says for mailauth's: 0 when SPF passed for an envelope domain
 * aligned with From, or a passing aligned signature covers the whole body (`alignedSignatureTails`).
 */
export async function rspamdUnsignedTail(
  symbols: Record<string, RspamdSymbol>,
  input: Pick<ScanInput, "raw" | "parsed" | "envelope">,
  fromDomain: string,
): Promise<number> {
  if (authFromSymbols(symbols).dmarc !== "pass" || !hasBodyLengthTag(input.parsed)) return 0;
  if ("R_SPF_ALLOW" in symbols && sameOrganisation(domainOfAddress(input.envelope.mailFrom), fromDomain))
    return 0;
  const tails = await alignedSignatureTails(symbols, input, fromDomain);
  return tails.length > 0 ? Math.min(...tails) : 0;
}

/**
 * `auth.unsigned_tail` (0 points, no permit) for an rspamd check whose DMARC pass covers only part of the body
 * (`rspamdUnsignedTail`); when the body could not be measured, it is raised too, as nothing shows the rest was signed.
 */
export async function rspamdUnsignedTailSignals(
  symbols: Record<string, RspamdSymbol>,
  input: Pick<ScanInput, "raw" | "parsed" | "envelope">,
  fromDomain: string,
): Promise<Signal[]> {
  try {
    const tail = await rspamdUnsignedTail(symbols, input, fromDomain);
    return tail > 0 ? [unsignedTailSignal(fromDomain, tail)] : [];
  } catch {
    return [{ ...unsignedTailSignal(fromDomain, 0), detail: "the signed length could not be measured" }];
  }
}
