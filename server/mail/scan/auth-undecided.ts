import { sameOrganisation } from "./domains";
import type { AuthResults } from "./types";

/** The parts of mailauth's `authenticate` result the undecided checks read. */
export interface MailauthOutcome {
  spf?: { domain?: string; status?: { result?: string } } | false | null;
  dkim?: { headerFrom?: string[]; results?: Array<{ signingDomain?: string; status?: { result?: string } }> };
  arc?: { status?: { result?: string } } | null;
}

interface ArcLink {
  [header: string]: { parsed?: { s?: { value?: string }; d?: { value?: string } } } | undefined;
}

/**
 * Whether SPF or a DKIM signature that could have aligned with the From domain could not be checked (temperror): then
 * a DMARC "fail" was never decided (RFC 7489 §6.6.2), and neither is whether the From domain sent it. Only aligned
 * ones count: a sender cannot escape a DMARC fail, or the own-domain check, by making its own unrelated domain's DNS
 * time out.
 */
export function alignedCheckUndecided(result: MailauthOutcome): boolean {
  const fromDomain = (result.dkim?.headerFrom?.[0] ?? "").split("@").pop() ?? "";
  const spf = result.spf || null;
  if (spf?.status?.result === "temperror" && sameOrganisation(spf.domain ?? "", fromDomain)) return true;
  return (result.dkim?.results ?? []).some(
    (r) => r.status?.result === "temperror" && sameOrganisation(r.signingDomain ?? "", fromDomain),
  );
}

/** The key names (`s._domainkey.d`) of a message's ARC seals and message signatures. */
function arcKeyNames(result: MailauthOutcome): string[] {
  const chain = (result.arc as { chain?: ArcLink[] } | null | undefined)?.chain ?? [];
  return chain.flatMap((link) =>
    ["arc-seal", "arc-message-signature"].flatMap((header) => {
      const parsed = link[header]?.parsed;
      const selector = parsed?.s?.value;
      const domain = parsed?.d?.value;
      return selector && domain ? [`${selector}._domainkey.${domain}`.toLowerCase()] : [];
    }),
  );
}

/**
 * The four results with the failures a passing DNS fault caused turned into `temperror`: DMARC "fail" when an aligned
 * SPF or DKIM check could not be made, and ARC "fail" when a key of its chain could not be looked up (mailauth counts
 * every ARC failure as permanent). A held message, a lost ARC seal and refused permits then wait for DNS instead.
 */
export function withUndecidedAsTemperror(
  auth: AuthResults,
  result: MailauthOutcome,
  temporarilyFailed: ReadonlySet<string>,
): AuthResults {
  const settled = { ...auth };
  if (auth.dmarc === "fail" && alignedCheckUndecided(result)) settled.dmarc = "temperror";
  if (auth.arc === "fail" && arcKeyNames(result).some((name) => temporarilyFailed.has(name)))
    settled.arc = "temperror";
  return settled;
}
