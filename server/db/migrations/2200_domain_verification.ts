import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * A domain a tenant admin adds from the portal takes mail only once its owner has proved it in DNS (a TXT record
 * with `verification_token`), as Microsoft 365 asks: on a Mailward shared by several organisations, one could
 * otherwise claim another's domain and receive its mail. Domains already here, and those the operator adds (first
 * start, the CLI), count as verified. Only a verified domain is unique across organisations, so a claim left pending
 * cannot keep the domain's real owner from adding it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE tenant_domains ADD COLUMN verified_at timestamptz`,
    `ALTER TABLE tenant_domains ADD COLUMN verification_token text`,
    `UPDATE tenant_domains SET verified_at = created_at`,
    `ALTER TABLE tenant_domains ADD CONSTRAINT tenant_domains_proof
      CHECK (verified_at IS NOT NULL OR verification_token IS NOT NULL)`,
    `DROP INDEX tenant_domains_domain`,
    `CREATE UNIQUE INDEX tenant_domains_verified_domain ON tenant_domains (domain) WHERE verified_at IS NOT NULL`,
  ]);
}
