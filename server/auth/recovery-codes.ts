import { createHash, randomBytes } from "node:crypto";

/** How many one-time recovery codes an enrolment hands out. */
export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** A new recovery code, `xxxxx-xxxxx` (about 49 bits; shown once, stored only as a hash). */
export function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length] ?? "a");
  return `${chars.slice(0, 5).join("")}-${chars.slice(5).join("")}`;
}

/** The stored form of a recovery code: SHA-256 of its normalised text (codes are random, so no slow hash is needed). */
export function hashRecoveryCode(code: string): string {
  const normalised = code.toLowerCase().replace(/[^a-z0-9]/g, "");
  return createHash("sha256").update(`mailward-recovery:${normalised}`).digest("hex");
}

/** A fresh set of codes and their hashes. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: count }, () => newRecoveryCode());
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/** True when the text looks like a recovery code rather than a 6-digit TOTP. */
export function looksLikeRecoveryCode(text: string): boolean {
  return !/^[0-9]{6}$/.test(text);
}
