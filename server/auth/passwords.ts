import argon2 from "argon2";

/** argon2id parameters (OWASP 2023 minimum: m=19 MiB, t=2, p=1; we use more memory). */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a password with argon2id. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

/** Checks a password against its argon2 hash; a malformed hash is simply a mismatch. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * What an unknown address's password is verified against, so its answer takes as long as a real account's: an argon2id
 * hash with the same parameters as hashPassword's, made ahead of time (made on first use, the first unknown address
 * after a start took twice as long as a real one).
 */
export const DUMMY_PASSWORD_HASH =
  "$argon2id$v=19$m=19456,p=1,t=2$71S167VeEDGioutnYVKL7w$Ob7/La0shyG7ITCLXRwDecj6JmIEaqr9ocYmOKsaI3I";

/** Spends the same time as a real verification (the answer is thrown away). */
export async function verifyAgainstDummy(password: string): Promise<void> {
  await verifyPassword(DUMMY_PASSWORD_HASH, password);
}
