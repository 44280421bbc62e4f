import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import { appendAudit } from "../audit/log";
import { derivedKey } from "./server-key";
import type { Database } from "../db/schema";
import type { Logger } from "../logger";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key TOTP secrets are sealed with: derived from the server key, so its other uses never share it. */
function totpKey(serverKey: Buffer): Buffer {
  return derivedKey(serverKey, "totp secret");
}

/**
 * Encrypts a TOTP secret for the database (AES-256-GCM, `v1:<iv>:<tag>:<ciphertext>` in base64url), bound to the
 * user's id, so a database reader gets no second factor and a row copied to another user does not open.
 */
export function sealTotpSecret(serverKey: Buffer, userId: string, secret: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", totpKey(serverKey), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(userId, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [VERSION, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString("base64url"))].join(
    ":",
  );
}

/**
 * The TOTP secret of a stored value, or null when it does not open: another key, another user's row, tampering,
 * or plain text (only an older version writes it; start-up seals those, so plain text is not trusted).
 */
export function openTotpSecret(serverKey: Buffer, userId: string, stored: string): string | null {
  const parts = stored.split(":");
  if (parts.length !== 4 || parts[0] !== VERSION) return null;
  const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, "base64url"));
  if (!iv || !tag || !ciphertext || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", totpKey(serverKey), iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(userId, "utf8"));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/**
 * Rewrites the stored TOTP secrets (only the plain-text ones an older version left, with `plainOnly`), each row locked,
 * in the caller's transaction: `reseal` gives a row's new value, or null to leave it. How many it rewrote per tenant.
 */
export async function resealTotpSecrets(
  trx: Transaction<Database>,
  plainOnly: boolean,
  reseal: (userId: string, stored: string) => string | null,
): Promise<Map<string, number>> {
  let query = trx
    .selectFrom("users")
    .select(["id", "tenant_id", "totp_secret"])
    .where("totp_secret", "is not", null);
  if (plainOnly) query = query.where("totp_secret", "not like", `${VERSION}:%`);
  const rows = await query.orderBy("id").forUpdate().execute();
  const perTenant = new Map<string, number>();
  for (const row of rows) {
    const resealed = row.totp_secret === null ? null : reseal(row.id, row.totp_secret);
    if (resealed === null) continue;
    await trx.updateTable("users").set({ totp_secret: resealed }).where("id", "=", row.id).execute();
    perTenant.set(row.tenant_id, (perTenant.get(row.tenant_id) ?? 0) + 1);
  }
  return perTenant;
}

/**
 * Encrypts the TOTP secrets an older version stored in plain text, in one transaction, audited per tenant. Run at
 * start after the migrations; rows already sealed are left alone, so it is idempotent. Returns how many it sealed.
 */
export async function sealStoredTotpSecrets(
  db: Kysely<Database>,
  serverKey: Buffer,
  logger: Logger,
  now = new Date(),
): Promise<number> {
  const sealed = await db.transaction().execute(async (trx) => {
    const perTenant = await resealTotpSecrets(trx, true, (userId, plain) =>
      sealTotpSecret(serverKey, userId, plain),
    );
    for (const [tenantId, users] of perTenant) {
      await appendAudit(trx, {
        tenantId,
        actorId: null,
        actorLabel: "system:startup",
        action: "mfa.totp_secrets_encrypted",
        details: { users },
        at: now,
      });
    }
    return [...perTenant.values()].reduce((sum, n) => sum + n, 0);
  });
  if (sealed > 0)
    logger.info({ users: sealed }, "encrypted the TOTP secrets an older version stored in plain text");
  return sealed;
}
