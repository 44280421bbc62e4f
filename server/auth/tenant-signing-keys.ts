import { randomBytes } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema";
import { derivedKey } from "./server-key";

/**
 * A tenant's key for signing one kind of token (`name`: digest links, preview tickets): 32 random bytes kept in
 * `tenant_secrets`, bound to the server key (`derivedKey`), so the database alone signs nothing. `create` makes it on
 * first use, when issuing; a check never creates one, and gets null when nothing was ever signed.
 */
export async function tenantSigningKey(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
  name: string,
  serverKey: Buffer,
  create: boolean,
): Promise<Buffer | null> {
  const read = () =>
    db
      .selectFrom("tenant_secrets")
      .select("secret")
      .where("tenant_id", "=", tenantId)
      .where("name", "=", name)
      .executeTakeFirst();
  let row = await read();
  if (!row && create) {
    await db
      .insertInto("tenant_secrets")
      .values({ tenant_id: tenantId, name, secret: randomBytes(32) })
      .onConflict((oc) => oc.columns(["tenant_id", "name"]).doNothing())
      .execute();
    row = await read();
  }
  return row ? derivedKey(serverKey, name, row.secret) : null;
}
