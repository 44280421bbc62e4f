import type { Kysely } from "kysely";
import type { Database } from "../db/schema";

/**
 * The Entra directory an organisation's people and domains are read from: its own mapping
 * (tenants.entra_tenant_id), or, for the default (first) organisation without one, the configured
 * MAILWARD_GRAPH_TENANT_ID. Another organisation without a mapping has none: it is never read from someone else's.
 */
export function directoryFor(
  tenant: { entra_tenant_id: string | null },
  isFirstTenant: boolean,
  defaultDirectory: string,
): string | null {
  return tenant.entra_tenant_id ?? (isFirstTenant ? defaultDirectory : null);
}

/** directoryFor one organisation, read from the database (the first organisation is the oldest). */
export async function directoryOfTenant(
  db: Kysely<Database>,
  tenantId: string,
  defaultDirectory: string,
): Promise<string | null> {
  const [first, tenant] = await Promise.all([
    db.selectFrom("tenants").select("id").orderBy("created_at").orderBy("id").executeTakeFirst(),
    db.selectFrom("tenants").select("entra_tenant_id").where("id", "=", tenantId).executeTakeFirst(),
  ]);
  if (!tenant) return null;
  return directoryFor(tenant, first?.id === tenantId, defaultDirectory);
}
