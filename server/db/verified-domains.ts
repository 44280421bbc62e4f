import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema";

/**
 * The mail domains that take mail: a domain a tenant admin added but has not yet proved in DNS is left out, so the
 * gateway, sign-in and system mail never act on a claim its owner has not confirmed. Every reader of the tenant's
 * domains outside their administration starts here.
 */
export function verifiedDomains(db: Kysely<Database> | Transaction<Database>) {
  return db.selectFrom("tenant_domains").where("tenant_domains.verified_at", "is not", null);
}

/** The organisation that has proved (or been given) a domain, or null: one at most (a unique index on verified domains). */
export async function verifiedOwnerOf(
  db: Kysely<Database> | Transaction<Database>,
  domain: string,
): Promise<string | null> {
  const owner = await verifiedDomains(db).select("tenant_id").where("domain", "=", domain).executeTakeFirst();
  return owner?.tenant_id ?? null;
}
