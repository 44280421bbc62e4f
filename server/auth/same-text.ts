import { createHash, timingSafeEqual } from "node:crypto";

/**
 * True when two secrets are equal, compared in constant time over their SHA-256 (so neither their content nor their
 * length shows in the time taken): OAuth state, a metrics token, a subscription's client state.
 */
export function sameText(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}
