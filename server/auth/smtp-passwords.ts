import { createHash, randomBytes } from "node:crypto";

/** 32 letters and digits without the look-alikes l, o, 0 and 1: each character is exactly 5 random bits. */
const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

/** How many SMTP passwords one person may have at once (a device each; revoked ones do not count). */
export const MAX_ACTIVE_SMTP_PASSWORDS = 10;

/** A new SMTP password, `xxxxx-xxxxx-xxxxx-xxxxx` (100 random bits; shown once, stored only as its hash). */
export function newSmtpPassword(): string {
  const chars = [...randomBytes(20)].map((b) => ALPHABET[b & 31] ?? "a");
  const groups = [0, 5, 10, 15].map((start) => chars.slice(start, start + 5).join(""));
  return groups.join("-");
}

/**
 * The stored form of an SMTP password: SHA-256 of its normalised text (lower case, letters and digits
 * only, so a copy with spaces or without dashes still works). A random 100-bit secret needs no slow hash.
 */
export function hashSmtpPassword(password: string): string {
  const normalised = password.toLowerCase().replace(/[^a-z0-9]/g, "");
  return createHash("sha256").update(`mailward-smtp:${normalised}`).digest("hex");
}

/** True when the text has the shape of an SMTP password (20 alphabet characters, in groups or not). */
export function looksLikeSmtpPassword(text: string): boolean {
  const normalised = text.toLowerCase().replace(/[\s-]/g, "");
  return normalised.length === 20 && [...normalised].every((c) => ALPHABET.includes(c));
}
