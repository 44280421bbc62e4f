import { Secret, TOTP } from "otpauth";

/** TOTP parameters: RFC 6238 defaults every authenticator app understands. */
const PERIOD = 30;

/** Builds the TOTP object for a user's base32 secret. */
export function totpFor(secretBase32: string, label = "Mailward"): TOTP {
  return new TOTP({
    issuer: "Mailward",
    label,
    algorithm: "SHA1",
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new random TOTP secret, base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/**
 * Checks a code with ±1 step of drift and returns the time step it matched,
 * or null. The caller refuses a step at or before the last one used (no replay).
 */
export function matchTotpStep(secretBase32: string, code: string, now: Date): number | null {
  const totp = totpFor(secretBase32);
  const delta = totp.validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(now.getTime() / 1000 / PERIOD) + delta;
}
