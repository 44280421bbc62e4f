import { pemSetting, type Config } from "../../config";

/** host:port of the next hop (MAILWARD_NEXT_HOP). */
export interface NextHop {
  host: string;
  port: number;
}

/**
 * How the relay protects the hop to the next server (MAILWARD_NEXT_HOP_TLS), after Postfix's levels:
 * `opportunistic` uses STARTTLS when offered and sends in clear otherwise; `required` sends nothing
 * without TLS (the delivery waits and retries); `verified` also checks the certificate against the
 * host name and the system's CAs (or `ca`), so nobody in between can read or change the mail.
 */
export interface NextHopTls {
  mode: "opportunistic" | "required" | "verified";
  /** PEM of the CA(s) that sign the next hop's certificate, instead of the system's (verified only). */
  ca?: Buffer;
}

/** The TLS policy the settings ask for (MAILWARD_NEXT_HOP_TLS, MAILWARD_NEXT_HOP_CA: a PEM or a file holding one). */
export function nextHopTlsOf(
  config: Pick<Config, "MAILWARD_NEXT_HOP_TLS" | "MAILWARD_NEXT_HOP_CA">,
): NextHopTls {
  const ca = config.MAILWARD_NEXT_HOP_CA;
  return {
    mode: config.MAILWARD_NEXT_HOP_TLS,
    ...(ca ? { ca: pemSetting(ca) } : {}),
  };
}

/** Parses MAILWARD_NEXT_HOP ("host:port", IPv6 in brackets). */
export function parseNextHop(value: string): NextHop {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value.trim());
  if (!match?.[1] || !match[2]) throw new Error(`MAILWARD_NEXT_HOP must be host:port, got ${value}`);
  return { host: match[1], port: Number(match[2]) };
}
