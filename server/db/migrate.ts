import { Migrator, type Kysely } from "kysely";
import type { Database } from "./schema";
import { migrations } from "./migrations/index";

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${failed?.migrationName ?? "(unknown)"} failed: ${reason}`);
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** True when every known migration has been applied. */
export async function isMigrated(db: Kysely<Database>): Promise<boolean> {
  try {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const list = await migrator.getMigrations();
    return list.every((m) => m.executedAt !== undefined);
  } catch {
    return false;
  }
}
