import type { Kysely } from "kysely";
import { appendAudit } from "../audit/log";
import type { Database } from "../db/schema";
import type { Logger } from "../logger";
import { serverKeyFingerprint, type ServerKey } from "./server-key";
import { openTotpSecret, sealTotpSecret } from "./totp-at-rest";

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
    const rows = await trx
      .selectFrom("users")
      .select(["id", "tenant_id", "totp_secret"])
      .where("totp_secret", "is not", null)
      .orderBy("id")
      .forUpdate()
      .execute();
    const perTenant = new Map<string, number>();
    for (const row of rows) {
      const secret = row.totp_secret === null ? null : openTotpSecret(previous, row.id, row.totp_secret);
      if (secret === null) continue;
      await trx
        .updateTable("users")
        .set({ totp_secret: sealTotpSecret(serverKey.key, row.id, secret) })
        .where("id", "=", row.id)
        .execute();
      perTenant.set(row.tenant_id, (perTenant.get(row.tenant_id) ?? 0) + 1);
    }
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
