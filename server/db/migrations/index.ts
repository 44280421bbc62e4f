import type { Migration } from "kysely";
import * as core from "./0001_core";

/**
 * Every migration, in order. Kysely's Migrator runs them by name; a static
 * list (rather than a directory scan) works the same under tsx, vitest and bundlers.
 */
export const migrations: Record<string, Migration> = {
  "0001_core": core,
};
