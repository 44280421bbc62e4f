import type { Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The labelled mail an administrator trained the tenant's classifier on (`npm run mailward -- train`), by the
 * SHA-256 of its bytes: training the same mail again changes nothing, and training it under another label moves it
 * instead of counting it twice. Such mail need not be in the archive, so it is not keyed by an archived message the
 * way `classifier_training` (agents' reports and releases) is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `CREATE TABLE classifier_corpus (
      tenant_id uuid NOT NULL REFERENCES tenants(id),
      sha256 text NOT NULL,
      label text NOT NULL CHECK (label IN ('ham', 'spam', 'phish')),
      learned_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, sha256)
    )`,
  ]);
}
