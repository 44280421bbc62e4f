import type { Kysely } from "kysely";
import type { Database } from "../../server/db/schema";

/** A tenant's signing secret as the database keeps it: what a forger who read the database would hold. */
export async function storedTenantSecret(
  db: Kysely<Database>,
  tenantId: string,
  name: string,
): Promise<Buffer> {
  const row = await db
    .selectFrom("tenant_secrets")
    .select("secret")
    .where("tenant_id", "=", tenantId)
    .where("name", "=", name)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.secret);
}
