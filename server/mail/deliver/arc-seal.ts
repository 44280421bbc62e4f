import { createPrivateKey } from "node:crypto";
import { sealMessage, type ARCSealOptions } from "mailauth";
import { pemSetting, type Config } from "../../config";
import type { MessageTrace } from "./trace";

/** Who seals: the ARC signing domain, selector and private key (MAILWARD_ARC_*). */
export interface ArcSealer {
  signingDomain: string;
  selector: string;
  privateKey: Buffer;
}

/**
 * The sealer the settings ask for, or null when ARC sealing is off. All three settings or none:
 * anything in between is a configuration mistake that must stop the start, not silently send unsealed mail.
 */
export function arcSealerOf(
  config: Pick<Config, "MAILWARD_ARC_DOMAIN" | "MAILWARD_ARC_SELECTOR" | "MAILWARD_ARC_KEY">,
): ArcSealer | null {
  const { MAILWARD_ARC_DOMAIN: domain, MAILWARD_ARC_SELECTOR: selector, MAILWARD_ARC_KEY: key } = config;
  if (!domain && !selector && !key) return null;
  if (!domain || !selector || !key)
    throw new Error(
      "ARC sealing needs MAILWARD_ARC_DOMAIN, MAILWARD_ARC_SELECTOR and MAILWARD_ARC_KEY together (or none of them)",
    );
  const privateKey = pemSetting(key);
  try {
    createPrivateKey(privateKey);
  } catch {
    throw new Error("MAILWARD_ARC_KEY is not a private key in PEM (or a file holding one)");
  }
  return { signingDomain: domain, selector, privateKey };
}

/**
 * Seals the relayed copy with an ARC set (RFC 8617): our authentication results as the gateway found
 * them, a signature over the copy as it leaves (trace fields included), and the seal over the chain.
 * Microsoft 365 can then trust our results through "trusted ARC sealers" even where a later hop breaks
 * DKIM. Only a chain that was absent or valid is sealed (cv=none/pass), as mailauth itself does; a
 * broken one is passed on as it came, for the receiver to judge.
 *
 * The signing time is given (`now`), never left to mailauth: without one, its message signature reads the clock
 * twice, once for the `t=` it signs and again for the `t=` it writes, and when a second ticked over in between
 * (about one message in 400 here) the signature did not verify and the receiver saw a broken chain.
 */
export async function sealRelayed(
  message: Buffer,
  trace: MessageTrace,
  sealer: ArcSealer,
  now: Date,
): Promise<Buffer> {
  const arc = trace.arc;
  if (!arc || !["none", "pass"].includes(arc.chain)) return message;
  // mailauth takes the ARC set's results and chain state as well, though its typings list only the key fields.
  const seal: ARCSealOptions & { authResults: string; cv: string } = {
    ...sealer,
    signTime: now,
    authResults: arc.authResults,
    cv: arc.chain,
  };
  const headers = await sealMessage(message, seal);
  return Buffer.concat([headers, message]);
}
