import type { Kysely } from "kysely";
import { appendAudit } from "../audit/log";
import type { Database } from "../db/schema";
import type { Logger } from "../logger";
import { serverKeyFingerprint, type ServerKey } from "./server-key";
import { openTotpSecret, resealTotpSecrets, sealTotpSecret } from "./totp-at-rest";

/**
 * Moves the database to a new server key (MAILWARD_SECRET_KEY, with the key it replaces in
 * MAILWARD_SECRET_KEY_PREVIOUS): every TOTP secret sealed with the previous key is sealed again with the new one, and
 * the new key's fingerprint recorded, in one transaction, audited per tenant. What to do after a key may have leaked,
 * or on a schedule. Runs at start before the key check; does nothing without a previous key, or once the database is
 * on the new key (so the setting left in place for a while is harmless). Returns how many secrets it moved.
 * A secret that does not open with the previous key (already unreadable) is left as it is.
 */
export async function rotateServerKey(
  db: Kysely<Database>,
  serverKey: ServerKey,
  logger: Logger,
  now = new Date(),
): Promise<number> {
  const previous = serverKey.previous;
  if (!previous) return 0;
  const moved = await db.transaction().execute(async (trx) => {
    const stored = await trx
      .selectFrom("key_checks")
      .select("fingerprint")
      .where("name", "=", "secret_key")
      .forUpdate()
      .executeTakeFirst();
    // Another instance rotated first, or the database never had the previous key: the key check decides.
    if (stored?.fingerprint !== serverKeyFingerprint(previous)) return null;
    const perTenant = await resealTotpSecrets(trx, false, (userId, sealed) => {
      const secret = openTotpSecret(previous, userId, sealed);
      return secret === null ? null : sealTotpSecret(serverKey.key, userId, secret);
    });
    await trx
      .updateTable("key_checks")
      .set({ fingerprint: serverKeyFingerprint(serverKey.key) })
      .where("name", "=", "secret_key")
      .execute();
    const tenants = await trx.selectFrom("tenants").select("id").orderBy("created_at").execute();
    for (const { id } of tenants) {
      await appendAudit(trx, {
        tenantId: id,
        actorId: null,
        actorLabel: "system:startup",
        action: "server_key.rotated",
        details: { totpSecretsReEncrypted: perTenant.get(id) ?? 0 },
        at: now,
      });
    }
    return [...perTenant.values()].reduce((sum, n) => sum + n, 0);
  });
  if (moved === null) {
    logger.info("MAILWARD_SECRET_KEY_PREVIOUS is set but the database is not on that key: nothing to rotate");
    return 0;
  }
  logger.warn(
    { totpSecrets: moved },
    "rotated the server key: TOTP secrets re-encrypted; digest links and preview URLs made with the previous key " +
      "no longer work; remove MAILWARD_SECRET_KEY_PREVIOUS",
  );
  return moved;
}
