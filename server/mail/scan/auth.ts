import { authenticate, type DNSResolver } from "mailauth";
import { mailauthResolver, type DnsResolver } from "./dns";
import { alignedCheckUndecided, withUndecidedAsTemperror, type MailauthOutcome } from "./auth-undecided";
import { closedComments } from "./auth-comments";
import { useLineHeaderScan } from "./mailauth-header-scan";
import { bareAddress } from "./client-ip";
import { addressWithAsciiDomain } from "./domains";
import { DEFAULT_AUTHSERV_ID, type ArcInput, type AuthResults, type ScanInput, type Signal } from "./types";
import { signal } from "./weights";

/** What sender authentication found: the four results, the signals they raise, and the DMARC policy. */
export interface AuthCheck {
  auth: AuthResults;
  signals: Signal[];
  dmarcPolicy: string | null;
  /**
   * mailauth's Received-SPF and Authentication-Results fields (RFC 8601, under `authservId`),
   * CRLF-terminated, for the relayed copy; "" when the check did not complete.
   */
  headers: string;
  /** What an ARC seal of the relayed copy needs (RFC 8617): our results, and the chain's state so far. */
  arc: ArcInput | null;
  /** What passed, for checks of the From domain: the domain SPF passed for, and a passing DKIM signature aligned with From. */
  passed: { spfDomain: string; dkimAligned: boolean };
  /** An SPF or DKIM check that could have vouched for the From domain could not be made (temperror). */
  alignedUndecided: boolean;
  /** The From addresses as mailauth read them, the ones DMARC was applied to; null when the check did not complete. */
  headerFrom: readonly string[] | null;
}

const UNCHECKED: AuthResults = { spf: "temperror", dkim: "temperror", dmarc: "temperror", arc: "temperror" };

/** Collapses several DKIM signature results into one word: a single pass wins, then temperror, fail, neutral. */
export function summarizeDkim(results: readonly string[]): string {
  if (results.length === 0) return "none";
  for (const wanted of ["pass", "temperror", "fail", "policy", "permerror", "neutral"]) {
    if (results.includes(wanted)) return wanted;
  }
  return results[0] ?? "none";
}

/** The MAIL FROM address as SPF looks it up: DNS names and mailauth's SPF check take the domain in punycode only. */
export function envelopeSender(mailFrom: string): string | undefined {
  const trimmed = mailFrom.trim().replace(/^<|>$/g, "");
  return trimmed === "" ? undefined : addressWithAsciiDomain(trimmed);
}

/**
 * Runs SPF, DKIM, DMARC and ARC through mailauth with the given resolver.
 * Never throws: a DNS outage gives `temperror`, missing records give `none`,
 * and any unexpected failure inside mailauth gives `temperror` for all four.
 */
export async function checkAuthentication(
  input: Pick<ScanInput, "raw" | "envelope">,
  resolver: DnsResolver,
  timeouts: { perLookupMs?: number; overallMs?: number } = {},
  authservId = DEFAULT_AUTHSERV_ID,
): Promise<AuthCheck> {
  useLineHeaderScan();
  const guarded = mailauthResolver(resolver, timeouts.perLookupMs ?? 3000);
  const ip = bareAddress(input.envelope.clientIp);
  let timer: NodeJS.Timeout | undefined;
  // SPF may chain up to ten lookups: one overall deadline keeps a slow DNS from stalling SMTP.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("authentication deadline")), timeouts.overallMs ?? 10_000);
  });
  try {
    const running = authenticate(input.raw, {
      ip: ip === "" ? undefined : ip,
      helo: input.envelope.helo.trim() || undefined,
      sender: envelopeSender(input.envelope.mailFrom),
      mta: authservId,
      resolver: guarded.resolver as DNSResolver,
      disableBimi: true,
    });
    running.catch(() => undefined);
    const result = await Promise.race([running, deadline]);
    const dkimResults = (result.dkim?.results ?? []).map((r) => r.status?.result ?? "none");
    const auth = withUndecidedAsTemperror(
      {
        spf: result.spf ? (result.spf.status?.result ?? "none") : "none",
        dkim: summarizeDkim(dkimResults),
        dmarc: result.dmarc ? (result.dmarc.status?.result ?? "none") : "none",
        arc: result.arc ? (result.arc.status?.result ?? "none") : "none",
      },
      result as MailauthOutcome,
      guarded.temporarilyFailed,
    );
    const undecided =
      auth.dmarc === "temperror" && result.dmarc ? result.dmarc.status?.result === "fail" : false;
    const spfDomain = result.spf ? result.spf.domain : "";
    const dmarcPolicy = result.dmarc ? result.dmarc.policy || null : null;
    const dmarcDomain = result.dmarc ? result.dmarc.domain : "";
    const unsignedTail =
      auth.dmarc === "pass" ? unsignedTailBytes(result.dmarc ? result.dmarc.alignment : undefined) : 0;
    return {
      auth,
      dmarcPolicy,
      signals: [
        ...authSignals(auth, { spfDomain, dmarcDomain, dmarcPolicy, ip, unsignedTail }),
        ...(undecided
          ? [
              signal(
                "auth.dmarc_undecided",
                `It claims to come from ${dmarcDomain || "a domain"} without the proof that domain asks for, and the check that could give it failed for now (DNS): permits do not apply to it.`,
              ),
            ]
          : []),
      ],
      headers: typeof result.headers === "string" ? closedComments(result.headers) : "",
      arc:
        result.arc && typeof result.arc.authResults === "string"
          ? { authResults: closedComments(result.arc.authResults), chain: auth.arc }
          : null,
      passed: {
        spfDomain: auth.spf === "pass" ? spfDomain : "",
        dkimAligned: (result.dkim?.results ?? []).some(
          (r) =>
            r.status?.result === "pass" && Boolean(r.status.aligned) && !(Number(r.status.underSized) > 0),
        ),
      },
      alignedUndecided: alignedCheckUndecided(result as MailauthOutcome),
      headerFrom: result.dkim?.headerFrom ?? [],
    };
  } catch {
    return {
      auth: { ...UNCHECKED },
      dmarcPolicy: null,
      headers: "",
      arc: null,
      passed: { spfDomain: "", dkimAligned: false },
      alignedUndecided: true,
      headerFrom: null,
      signals: [
        signal(
          "auth.unverified",
          "The sender's identity could not be checked (the check failed or took too long).",
        ),
      ],
    };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * How many bytes of the body no aligned signature covers, when DMARC passed only through DKIM signatures with a body
 * length (`l=`): 0 when SPF aligned or a signature covers the whole body. mailauth passes such a signature however much
 * was appended after `l=` bytes (RFC 6376 §8.2), so anyone holding one signed message of a domain (a newsletter) could
 * append their own text, link or HTML part and have DMARC pass for it, and a permit for that domain deliver it.
 */
export function unsignedTailBytes(
  alignment: { spf?: { result?: unknown }; dkim?: { result?: unknown; underSized?: unknown } } | undefined,
): number {
  if (!alignment || alignment.spf?.result) return 0;
  const tail = Number(alignment.dkim?.result ? alignment.dkim.underSized : 0);
  return Number.isFinite(tail) && tail > 0 ? tail : 0;
}

/** DMARC passed only for the part of the body that `l=` signatures of `dmarcDomain` cover (`unsignedTailBytes`). */
export function unsignedTailSignal(dmarcDomain: string, tailBytes: number): Signal {
  return signal(
    "auth.unsigned_tail",
    `${dmarcDomain} signed only the first part of it: the rest was added afterwards, by anyone (DKIM body length).`,
    `${tailBytes} bytes after the signed length`,
  );
}

interface AuthFacts {
  spfDomain: string;
  dmarcDomain: string;
  dmarcPolicy: string | null;
  ip: string;
  /** Bytes after the end of the only aligned signatures' `l=` (see `unsignedTailBytes`); 0 or absent: none. */
  unsignedTail?: number;
}

/** Turns authentication results into signals worded for a person. */
export function authSignals(auth: AuthResults, facts: AuthFacts): Signal[] {
  const signals: Signal[] = [];
  const spfDomain = facts.spfDomain || "the sender's domain";
  const dmarcDomain = facts.dmarcDomain || "the sender's domain";
  if (auth.spf === "fail") {
    signals.push(
      signal(
        "auth.spf_fail",
        `The server that sent it is not allowed to send mail for ${spfDomain} (SPF failed).`,
        `client ip ${facts.ip || "unknown"}`,
      ),
    );
  } else if (auth.spf === "softfail") {
    signals.push(
      signal(
        "auth.spf_softfail",
        `${spfDomain} says the sending server is probably not theirs (SPF softfail).`,
      ),
    );
  }
  if (auth.dkim === "fail") {
    signals.push(
      signal(
        "auth.dkim_fail",
        "A digital signature on the message does not match its content (DKIM failed).",
      ),
    );
  }
  if (auth.dmarc === "fail") {
    const enforced = facts.dmarcPolicy === "reject" || facts.dmarcPolicy === "quarantine";
    signals.push(
      enforced
        ? signal(
            "auth.dmarc_fail",
            `It claims to come from ${dmarcDomain}, but ${dmarcDomain} says it did not send it (DMARC failed, policy ${facts.dmarcPolicy}).`,
          )
        : signal(
            "auth.dmarc_fail_monitor",
            `It claims to come from ${dmarcDomain}, but fails that domain's sender check (DMARC failed).`,
          ),
    );
  } else if (auth.dmarc === "pass" && (facts.unsignedTail ?? 0) > 0) {
    signals.push(unsignedTailSignal(dmarcDomain, facts.unsignedTail ?? 0));
  } else if (auth.dmarc === "pass") {
    signals.push(signal("auth.aligned_pass", `${dmarcDomain} vouches for this message (DMARC passed).`));
  }
  if (auth.arc === "fail") {
    signals.push(
      signal("auth.arc_fail", "The forwarding chain recorded on the message is broken (ARC failed)."),
    );
  }
  const temporary = (["spf", "dkim", "dmarc", "arc"] as const).filter((k) => auth[k] === "temperror");
  if (temporary.length > 0) {
    signals.push(
      signal(
        "auth.unverified",
        "Some sender checks could not be completed right now (DNS unavailable).",
        temporary.join(", "),
      ),
    );
  }
  return signals;
}
