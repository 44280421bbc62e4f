import type { AuthResults, Signal } from "./types";
import { round2 } from "./weights";

/** One symbol as rspamd's /checkv2 returns it. */
export interface RspamdSymbol {
  name: string;
  score: number;
  description?: string;
  options?: string[];
}

/** The parts of rspamd's /checkv2 answer the adapter uses. */
export interface RspamdReply {
  score: number;
  required_score?: number;
  action: string;
  symbols: Record<string, RspamdSymbol>;
}

/** Reads an untrusted JSON body into an RspamdReply, or null when it is not one. */
export function parseRspamdReply(body: unknown): RspamdReply | null {
  if (!body || typeof body !== "object") return null;
  const b = body as { score?: unknown; required_score?: unknown; action?: unknown; symbols?: unknown };
  if (typeof b.score !== "number" || typeof b.action !== "string") return null;
  const symbols: Record<string, RspamdSymbol> = {};
  if (b.symbols && typeof b.symbols === "object") {
    for (const [key, raw] of Object.entries(b.symbols as Record<string, unknown>)) {
      if (!raw || typeof raw !== "object") continue;
      const s = raw as { name?: unknown; score?: unknown; description?: unknown; options?: unknown };
      const symbol: RspamdSymbol = {
        name: typeof s.name === "string" ? s.name : key,
        score: typeof s.score === "number" ? s.score : 0,
      };
      if (typeof s.description === "string") symbol.description = s.description;
      if (Array.isArray(s.options))
        symbol.options = s.options.filter((o): o is string => typeof o === "string").slice(0, 10);
      symbols[key] = symbol;
    }
  }
  const reply: RspamdReply = { score: b.score, action: b.action, symbols };
  if (typeof b.required_score === "number") reply.required_score = b.required_score;
  return reply;
}

/** rspamd symbol → authentication result, per check (first matching symbol wins). */
const AUTH_SYMBOLS: Record<keyof AuthResults, Record<string, string>> = {
  spf: {
    R_SPF_ALLOW: "pass",
    R_SPF_FAIL: "fail",
    R_SPF_SOFTFAIL: "softfail",
    R_SPF_NEUTRAL: "neutral",
    R_SPF_DNSFAIL: "temperror",
    R_SPF_PERMFAIL: "permerror",
    R_SPF_NA: "none",
  },
  dkim: {
    R_DKIM_ALLOW: "pass",
    R_DKIM_REJECT: "fail",
    R_DKIM_TEMPFAIL: "temperror",
    R_DKIM_PERMFAIL: "permerror",
    R_DKIM_NA: "none",
  },
  dmarc: {
    DMARC_POLICY_ALLOW: "pass",
    DMARC_POLICY_ALLOW_WITH_FAILURES: "pass",
    DMARC_POLICY_REJECT: "fail",
    DMARC_POLICY_QUARANTINE: "fail",
    DMARC_POLICY_SOFTFAIL: "fail",
    DMARC_DNSFAIL: "temperror",
    DMARC_BAD_POLICY: "permerror",
    DMARC_NA: "none",
  },
  arc: {
    ARC_ALLOW: "pass",
    ARC_REJECT: "fail",
    ARC_INVALID: "permerror",
    ARC_DNSFAIL: "temperror",
    ARC_NA: "none",
  },
};

/**
 * Authentication results read from rspamd's symbols; a check rspamd did not report is "none", except DMARC: rspamd
 * reports DMARC_NA when it found no policy, and nothing when it ran no check (a client in its local networks, or From
 * unreadable to it), which is no result ("temperror"), so that no permit takes it for "no policy" (`permitApplies`).
 */
export function authFromSymbols(symbols: Record<string, RspamdSymbol>): AuthResults {
  const pick = (table: Record<string, string>): string => {
    for (const [name, result] of Object.entries(table)) if (name in symbols) return result;
    return "none";
  };
  const dmarc = dmarcSymbolOf(symbols);
  return {
    spf: pick(AUTH_SYMBOLS.spf),
    dkim: pick(AUTH_SYMBOLS.dkim),
    dmarc: dmarc ? (AUTH_SYMBOLS.dmarc[dmarc.name] ?? "temperror") : "temperror",
    arc: pick(AUTH_SYMBOLS.arc),
  };
}

/** The symbol that carries rspamd's DMARC result (the first of `AUTH_SYMBOLS.dmarc` present), if it ran the check. */
export function dmarcSymbolOf(symbols: Record<string, RspamdSymbol>): RspamdSymbol | undefined {
  for (const name of Object.keys(AUTH_SYMBOLS.dmarc)) {
    const symbol = symbols[name];
    if (symbol) return { ...symbol, name };
  }
  return undefined;
}

/** Symbols that mean malware on their own (antivirus hits and executable attachments). */
const MALWARE_SYMBOL =
  /(VIRUS|CLAM_|CLAMAV|MALWARE|ICAP_|AVAST|KASPERSKY|FPROT|SOPHOS|^MIME_BAD_EXTENSION$|^MIME_DOUBLE_BAD_EXTENSION$|^MIME_BAD_UNICODE$)/;
/** Symbols that mean known phishing. */
const PHISH_KNOWN_SYMBOL = /^PHISHED_/;

/** Our signal family for an rspamd symbol, so `decide` can name a hold reason. */
export function familyOfSymbol(name: string): string {
  if (
    MALWARE_SYMBOL.test(name) ||
    /^MIME_(ARCHIVE|ENCRYPTED|BAD|OBFUSCATED)/.test(name) ||
    /^OLETOOLS/.test(name)
  )
    return "attachment";
  if (
    /^PHISH/.test(name) ||
    /URIBL|SURBL|^URL_|^REDIRECTOR|^HAS_ONION|^R_SUSPICIOUS_URL|^OMOGRAPH/.test(name)
  )
    return "url";
  if (/SPF|DKIM|DMARC|^ARC_|^AUTH_NA|^FORGED_SENDER$|^SPOOF/.test(name)) return "auth";
  if (/DISPLAY_NAME|^FROM_NAME_HAS_TITLE|^SPOOF_DISPLAY_NAME|^FROM_NEQ_DISPLAY_NAME/.test(name))
    return "impersonation";
  return "content";
}

/** True when an rspamd symbol marks malware. */
export function isMalwareSymbol(name: string): boolean {
  return MALWARE_SYMBOL.test(name);
}

/** True when an rspamd symbol marks known phishing. */
export function isKnownPhishSymbol(name: string): boolean {
  return PHISH_KNOWN_SYMBOL.test(name);
}

/**
 * rspamd symbols as our signals: id `<family>.rspamd.<SYMBOL>`, weight scaled to
 * our score scale (`factor`), label from rspamd's own description. Zero-score
 * symbols are kept only when they carry authentication or malware meaning.
 */
export function signalsFromSymbols(symbols: Record<string, RspamdSymbol>, factor: number): Signal[] {
  const signals: Signal[] = [];
  for (const symbol of Object.values(symbols)) {
    const family = familyOfSymbol(symbol.name);
    if (symbol.score === 0 && family !== "auth" && !isMalwareSymbol(symbol.name)) continue;
    const description = symbol.description ?? symbol.name.toLowerCase().replace(/_/g, " ");
    const built: Signal = {
      id: `${family}.rspamd.${symbol.name}`,
      label: `${description} (rspamd ${symbol.name}).`,
      weight: round2(symbol.score * factor),
    };
    if (symbol.options && symbol.options.length > 0) built.detail = symbol.options.join("; ").slice(0, 300);
    signals.push(built);
  }
  return signals.sort((a, b) => b.weight - a.weight);
}

/** rspamd's Bayes opinion (BAYES_SPAM/BAYES_HAM options carry "99.99%") as a 0..1 spam probability, or null. */
export function bayesProbability(symbols: Record<string, RspamdSymbol>): number | null {
  const spam = symbols.BAYES_SPAM;
  const ham = symbols.BAYES_HAM;
  const percent = (s: RspamdSymbol | undefined): number | null => {
    const option = s?.options?.find((o) => /^[0-9.]+%$/.test(o));
    return option ? Number.parseFloat(option) / 100 : null;
  };
  const spamP = percent(spam);
  if (spamP !== null) return 0.5 + spamP / 2;
  const hamP = percent(ham);
  if (hamP !== null) return 0.5 - hamP / 2;
  return null;
}
