import { attachmentSignals } from "./attachments";
import { addPageLinks, collectParts } from "./collect";
import { asciiHost, domainOfAddress, sameOrganisation } from "./domains";
import { alignedSignatureTails } from "./rspamd-auth";
import { authFromSymbols, dmarcSymbolOf, type RspamdSymbol } from "./rspamd-map";
import { ownDomainSpoofSignal, type SpoofEvidence } from "./spoofing";
import { scanIncomplete, senderAndLinkSignals, tenantOf } from "./tenant-checks";
import type { Assessment, ScanInput, Signal } from "./types";
import { DEFAULT_ZIP_LIMITS } from "./zip-inspect";

// The built-in engine's tenant-aware checks on the rspamd path: rspamd knows nothing of the organisation's domains
// and people, so a colleague's name on an outside address, a lookalike of our domain, or our own domain forged from
// the Internet raised nothing of Mailward's own there.

/**
 * The domain rspamd's SPF check was about, as mailauth's (`checkAuthentication`) is: the MAIL FROM domain, or the HELO
 * name for a null sender. rspamd's R_SPF_* symbols name the mechanism that matched, not the domain.
 */
function spfDomainOf(envelope: ScanInput["envelope"]): string {
  const mailFrom = envelope.mailFrom.trim().replace(/^<|>$/g, "");
  return mailFrom === "" ? asciiHost(envelope.helo) : domainOfAddress(mailFrom);
}

/**
 * Whether a check rspamd could not make was for the From domain's organisation: SPF for an aligned MAIL FROM (or HELO)
 * domain (R_SPF_DNSFAIL), or an aligned DKIM signature (R_DKIM_TEMPFAIL names them `domain:s=selector`), as mailauth's
 * `alignedCheckUndecided` reads. A forger's own domain failing DNS is not ours being undecided.
 */
function alignedTempfail(
  symbols: Record<string, RspamdSymbol>,
  envelope: ScanInput["envelope"],
  spfResult: string,
  fromDomain: string,
): boolean {
  const ours = (domain: string) => sameOrganisation(domain, fromDomain);
  if (spfResult === "temperror" && ours(spfDomainOf(envelope))) return true;
  return (symbols.R_DKIM_TEMPFAIL?.options ?? []).some((option) =>
    ours(option.split(":")[0]?.toLowerCase() ?? ""),
  );
}

/**
 * What rspamd's symbols say vouches for the From domain, in the shape `ownDomainSpoofSignal` reads mailauth's: the
 * four results (`authFromSymbols`: a DNS failure is `temperror`), SPF's domain when it passed, and whether a DKIM
 * signature rspamd passed is aligned with From and covers the whole body (`alignedSignatureTails`). Never throws.
 *
 * A check rspamd did not run: with no DMARC symbol and a From it could read, rspamd checked nothing for this client
 * (its local networks, an authenticated or whitelisted sender, the module off) — no result, null, as when mailauth's
 * check does not complete. Where it ran no DMARC because From named no domain it could read (FROM_INVALID,
 * MISSING_FROM), DMARC is `none`: mailauth finds no policy for such a From either, and SPF and DKIM still count. A
 * missing SPF or DKIM symbol beside a DMARC one is `none` (rspamd's DMARC waits for both checks).
 */
export async function rspamdSpoofEvidence(
  symbols: Record<string, RspamdSymbol>,
  input: Pick<ScanInput, "raw" | "parsed" | "envelope">,
  fromDomain: string,
): Promise<SpoofEvidence | null> {
  const auth = authFromSymbols(symbols);
  if (!dmarcSymbolOf(symbols)) {
    if (!("FROM_INVALID" in symbols || "MISSING_FROM" in symbols)) return null;
    auth.dmarc = "none";
  }
  // A body that could not be measured is not shown to be signed whole, as `rspamdUnsignedTailSignals` reads it.
  const tails = await alignedSignatureTails(symbols, input, fromDomain).catch(() => []);
  return {
    auth,
    passed: {
      spfDomain: auth.spf === "pass" ? spfDomainOf(input.envelope) : "",
      dkimAligned: tails.some((tail) => tail === 0),
    },
    alignedUndecided: alignedTempfail(symbols, input.envelope, auth.spf, fromDomain),
  };
}

/**
 * The tenant-aware signals of the built-in engine for a message rspamd checked, with the same ids and weights:
 * impersonation of a colleague and lookalike domains (`senderAndLinkSignals`, over the links of attached messages
 * and of the web pages inside attached zips too), and our own domain forged from the Internet
 * (`ownDomainSpoofSignal` over `rspamdSpoofEvidence`). Never throws.
 */
export async function rspamdTenantSignals(
  symbols: Record<string, RspamdSymbol>,
  input: ScanInput,
  from: Assessment["from"],
): Promise<Signal[]> {
  const tenant = tenantOf(input);
  const signals: Signal[] = [];
  try {
    const collected = await collectParts(input.parsed);
    // The pages inside attached zips, as the built-in engine reads them (rspamd's own checks do not): only the zip
    // reader's files are wanted here, rspamd judges the attachments themselves.
    await attachmentSignals(collected.attachments, DEFAULT_ZIP_LIMITS, (file) =>
      addPageLinks(collected, file),
    );
    signals.push(...senderAndLinkSignals(input, from, tenant, collected.links));
  } catch {
    signals.push(scanIncomplete("links and sender"));
  }
  const spoof = ownDomainSpoofSignal(
    input,
    from,
    tenant,
    await rspamdSpoofEvidence(symbols, input, from.domain),
  );
  if (spoof) signals.push(spoof);
  return signals;
}
