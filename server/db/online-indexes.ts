import { sql, type Kysely } from "kysely";
import type { Database } from "./schema";

/**
 * An index built after the migrations instead of inside one: a migration runs in a transaction, and
 * building a large index there blocks every write to its table (the gateway's archive commits) for
 * as long as the build takes. Outside it, a PostgreSQL server builds CONCURRENTLY.
 */
export interface OnlineIndex {
  name: string;
  table: string;
  /** What follows `ON table`: method and key, e.g. `USING gin (common_grams(search_vector))`. */
  definition: string;
  /** An extension the index needs; without it the index is not built (queries stay correct, only slower). */
  extension?: string;
}

/** Indexes that queries use only once `isIndexReady` says so (they stay correct, only slower, without). */
export const ONLINE_INDEXES: readonly OnlineIndex[] = [
  // Phrases of frequent words (server/archive/search-grams.ts); ~10 minutes to build at 1,000,000 messages.
  { name: "messages_common_grams", table: "messages", definition: "USING gin (common_grams(search_vector))" },
  // from: substring matches; migration 0500 creates it where pg_trgm was there then (an older PGlite archive had none).
  {
    name: "messages_from_trgm",
    table: "messages",
    definition: "USING gin (from_address gin_trgm_ops, (coalesce(from_name, '')) gin_trgm_ops)",
    extension: "pg_trgm",
  },
];

/** The statement that builds `index` (also used by bench:search, which rebuilds it after a bulk load). */
export function createIndexSql(index: OnlineIndex, concurrently = false): string {
  return `CREATE INDEX ${concurrently ? "CONCURRENTLY " : ""}IF NOT EXISTS ${index.name} ON ${index.table} ${index.definition}`;
}

/** Whether the index exists, and whether PostgreSQL may use it (an interrupted CONCURRENTLY build leaves it invalid). */
export type IndexState = "valid" | "invalid" | "missing";

/** The state of index `name` in the current schema. */
export async function indexState(db: Kysely<Database>, name: string): Promise<IndexState> {
  const result = await sql<{
    valid: boolean;
    ready: boolean;
  }>`SELECT i.indisvalid AS valid, i.indisready AS ready
    FROM pg_index i WHERE i.indexrelid = to_regclass(${name})`.execute(db);
  const row = result.rows[0];
  if (!row) return "missing";
  return row.valid && row.ready ? "valid" : "invalid";
}

async function hasExtension(db: Kysely<Database>, name: string): Promise<boolean> {
  const result = await sql`SELECT 1 FROM pg_extension WHERE extname = ${name}`.execute(db);
  return result.rows.length > 0;
}

const ready = new WeakMap<Kysely<Database>, Set<string>>();

/** True once index `name` is valid; remembered per database handle from then on (one catalogue read until then). */
export async function isIndexReady(db: Kysely<Database>, name: string): Promise<boolean> {
  const known = ready.get(db);
  if (known?.has(name)) return true;
  if ((await indexState(db, name)) !== "valid") return false;
  if (known) known.add(name);
  else ready.set(db, new Set([name]));
  return true;
}

/** Where the builder reports what it starts and finishes (pino's signature). */
export interface OnlineIndexLog {
  info(fields: Record<string, unknown>, message: string): void;
}

/** A running build: `done` settles when every index is valid; `stop` cancels a build in progress. */
export interface OnlineIndexBuild {
  /** The names built by this run (none when all were there). Rejects when a build failed or was cancelled. */
  done: Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Builds every missing index of `indexes`, one at a time; an invalid one (a build interrupted by a
 * crash or by `stop`) is dropped and built again. On a PostgreSQL server the build is CONCURRENTLY,
 * so mail keeps being archived meanwhile; on PGlite, which runs one statement at a time anyway, it is
 * a plain build. `stop` cancels the statement in progress (its index is left invalid and rebuilt at
 * the next start), so shutting down never waits for a long build.
 */
export function startOnlineIndexBuild(
  db: Kysely<Database>,
  engine: "pglite" | "postgres",
  log: OnlineIndexLog,
  indexes: readonly OnlineIndex[] = ONLINE_INDEXES,
): OnlineIndexBuild {
  let backendPid: number | null = null;
  let stopped = false;
  const concurrently = engine === "postgres";
  const buildOne = async (index: OnlineIndex): Promise<boolean> => {
    const state = await indexState(db, index.name);
    if (state === "valid" || stopped) return false;
    if (index.extension && !(await hasExtension(db, index.extension))) return false;
    const started = performance.now();
    log.info(
      { index: index.name, state },
      "building index (searches that use it stay slower until it is ready)",
    );
    await db.connection().execute(async (connection) => {
      backendPid =
        (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(connection)).rows[0]?.pid ?? null;
      // stop() may have come while this looked the index up: then nothing is started.
      if (stopped) return;
      try {
        if (state === "invalid")
          await sql
            .raw(`DROP INDEX ${concurrently ? "CONCURRENTLY " : ""}IF EXISTS ${index.name}`)
            .execute(connection);
        await sql.raw(createIndexSql(index, concurrently)).execute(connection);
      } finally {
        backendPid = null;
      }
    });
    log.info(
      { index: index.name, seconds: Math.round((performance.now() - started) / 100) / 10 },
      "index built",
    );
    return true;
  };
  const done = (async () => {
    const built: string[] = [];
    for (const index of indexes) if (await buildOne(index)) built.push(index.name);
    return built;
  })();
  return {
    done,
    async stop() {
      stopped = true;
      const pid = backendPid;
      // PGlite runs one statement at a time: nothing could cancel its build, which is awaited at start anyway.
      if (pid !== null && engine === "postgres") await sql`SELECT pg_cancel_backend(${pid})`.execute(db);
      await done.catch(() => undefined);
    },
  };
}
