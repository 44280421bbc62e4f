import http from "node:http";
import https from "node:https";
import { senderOf } from "./sender";
import {
  authFromSymbols,
  bayesProbability,
  isKnownPhishSymbol,
  isMalwareSymbol,
  parseRspamdReply,
  signalsFromSymbols,
  type RspamdReply,
} from "./rspamd-map";
import { DEFAULT_AUTHSERV_ID, type Assessment, type ScanInput, type Scanner, type Signal } from "./types";
import { authenticationResultsField } from "./auth-results";
import { rspamdFromSignals, rspamdUnsignedTailSignals } from "./rspamd-auth";
import { rspamdTenantSignals } from "./rspamd-tenant";
import { DEFAULT_HOLD_THRESHOLD, isPhishFamily, round2, sumWeights } from "./weights";

/** How to reach rspamd and how to read its scores. */
export interface RspamdScannerOptions {
  /** Base URL of rspamd's normal worker, e.g. `http://127.0.0.1:11333` (the `RSPAMD_URL` setting). */
  url: string;
  timeoutMs?: number;
  /** rspamd's "add header" score (6 by default); it is mapped onto our hold threshold. */
  addHeaderScore?: number;
  /** Used when rspamd cannot be reached or answers garbage, so mail still gets a real assessment. */
  fallback?: Scanner;
  /** The authserv-id of the Authentication-Results field written from rspamd's results (default "mailward"). */
  authservId?: string;
  /** Optional rspamd password (the `Password` header), never logged. */
  password?: string;
}

/** Raw POST to /checkv2 with the envelope as rspamd's protocol headers (several Rcpt lines). */
function postCheck(options: RspamdScannerOptions, input: ScanInput): Promise<unknown> {
  const url = new URL("/checkv2", options.url);
  const headers: http.OutgoingHttpHeaders = {
    "Content-Type": "message/rfc822",
    "Content-Length": String(input.raw.length),
  };
  const ip = input.envelope.clientIp.trim();
  if (ip) headers.IP = ip;
  if (input.envelope.helo.trim()) headers.Helo = input.envelope.helo.trim();
  const from = input.envelope.mailFrom.trim().replace(/^<|>$/g, "");
  if (from) headers.From = from;
  const rcpts = input.envelope.rcptTo.filter((r) => r.trim() !== "").slice(0, 100);
  if (rcpts.length > 0) headers.Rcpt = rcpts;
  if (options.password) headers.Password = options.password;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      { method: "POST", headers, timeout: options.timeoutMs ?? 15_000 },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > 8 * 1024 * 1024) request.destroy(new Error("rspamd reply too large"));
          else chunks.push(chunk);
        });
        response.on("end", () => {
          if ((response.statusCode ?? 500) >= 300)
            return reject(new Error(`rspamd answered HTTP ${response.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown);
          } catch {
            reject(new Error("rspamd answered invalid JSON"));
          }
        });
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("rspamd timed out")));
    request.on("error", reject);
    request.end(input.raw);
  });
}

const HOLD_ACTIONS = new Set(["reject", "add header", "rewrite subject"]);

/**
 * Maps an rspamd reply onto an Assessment on our score scale, with the From checks the built-in engine makes beside
 * DMARC (`rspamdFromSignals`) and the signals of our own checks the caller made (`extra`, e.g. `rspamdTenantSignals`):
 * those add to rspamd's score, and count towards phishing as rspamd's do.
 */
export function assessmentFromRspamd(
  reply: RspamdReply,
  input: ScanInput,
  addHeaderScore = 6,
  extra: readonly Signal[] = [],
): Assessment {
  const factor = addHeaderScore > 0 ? DEFAULT_HOLD_THRESHOLD / addHeaderScore : 1;
  const signals: Signal[] = signalsFromSymbols(reply.symbols, factor);
  const scaled = round2(reply.score * factor);
  const listed = sumWeights(signals);
  // Keep score == sum of signals. The rest comes from symbols rspamd scored 0 but that forced the
  // score (a pre-filter such as GTUBE sets the score directly), or from rounding: name it after them.
  if (Math.abs(scaled - listed) >= 0.01) {
    const listedIds = new Set(signals.map((s) => s.id.split(".").pop()));
    const forcing = Object.values(reply.symbols).find((s) => !listedIds.has(s.name));
    const name = forcing && reply.score !== 0 && listed === 0 ? forcing.name : "OTHER";
    const label =
      name === "OTHER"
        ? "Other rspamd rules (rspamd)."
        : `${forcing?.description ?? name} (rspamd ${name}, action ${reply.action}).`;
    signals.push({ id: `content.rspamd.${name}`, label, weight: round2(scaled - listed) });
  }
  if (HOLD_ACTIONS.has(reply.action) && scaled < DEFAULT_HOLD_THRESHOLD) {
    signals.push({
      id: "content.rspamd.ACTION",
      label: `rspamd recommends "${reply.action}" (rspamd).`,
      weight: round2(DEFAULT_HOLD_THRESHOLD - scaled),
    });
  }
  const from = senderOf(input);
  signals.push(...rspamdFromSignals(reply.symbols, input.parsed, from), ...extra);
  const names = Object.keys(reply.symbols);
  const bayes = bayesProbability(reply.symbols);
  const logistic = 1 / (1 + Math.exp(-(reply.score - addHeaderScore / 2)));
  const phishTechnical = signals
    .filter((s) => s.weight > 0 && isPhishFamily(s.id))
    .reduce((sum, s) => sum + s.weight, 0);
  let phish: Assessment["phishConfidence"] = "none";
  if (names.some(isKnownPhishSymbol)) phish = "high";
  else if (names.includes("PHISHING") || phishTechnical >= 2.5) phish = "low";
  return {
    signals,
    score: sumWeights(signals),
    contentScore: Math.round((bayes ?? logistic) * 10000) / 10000,
    malware: names.some(isMalwareSymbol),
    phishConfidence: phish,
    auth: authFromSymbols(reply.symbols),
    from,
  };
}

/**
 * The rspamd adapter behind the Scanner interface (DESIGN §6), used when
 * `RSPAMD_URL` is set. It never throws: when rspamd is unreachable it uses the
 * fallback scanner (normally the built-in engine) and records that it did.
 */
export class RspamdScanner implements Scanner {
  constructor(private readonly options: RspamdScannerOptions) {}

  /**
   * Sends the raw message to rspamd and maps its symbols and action onto an Assessment, with the built-in engine's
   * checks that depend on the tenant (`rspamdTenantSignals`) and on DKIM body lengths (`rspamdUnsignedTailSignals`).
   */
  async assess(input: ScanInput): Promise<Assessment> {
    let failure = "rspamd answered something we could not read";
    try {
      const reply = parseRspamdReply(await postCheck(this.options, input));
      if (reply) {
        const from = senderOf(input);
        const [tenant, tail] = await Promise.all([
          rspamdTenantSignals(reply.symbols, input, from),
          rspamdUnsignedTailSignals(reply.symbols, input, from.domain),
        ]);
        const assessment = assessmentFromRspamd(reply, input, this.options.addHeaderScore ?? 6, [
          ...tenant,
          ...tail,
        ]);
        const authenticationHeaders = authenticationResultsField(
          this.options.authservId ?? DEFAULT_AUTHSERV_ID,
          assessment.auth,
          { mailFrom: input.envelope.mailFrom, fromDomain: assessment.from.domain },
        );
        return { ...assessment, authenticationHeaders };
      }
    } catch (err) {
      failure = err instanceof Error ? err.message : "rspamd failed";
    }
    const unavailable: Signal = {
      id: "policy.rspamd_unavailable",
      label: "The rspamd scanner could not check this message.",
      weight: 0,
      detail: failure.slice(0, 200),
    };
    if (this.options.fallback) {
      const fallback = await this.options.fallback.assess(input);
      return { ...fallback, signals: [...fallback.signals, unavailable] };
    }
    return {
      signals: [unavailable],
      score: 0,
      contentScore: 0.5,
      malware: false,
      phishConfidence: "none",
      auth: { spf: "temperror", dkim: "temperror", dmarc: "temperror", arc: "temperror" },
      from: senderOf(input),
    };
  }
}
