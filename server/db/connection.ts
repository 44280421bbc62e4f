import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { Database } from "./schema";
import { PGlitePool } from "./pglite-pool";
import { LossAwarePool } from "./pg-pool";

/** An open database: the Kysely handle, which engine it is, and how to close it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: "pglite" | "postgres";
  /**
   * A handle on connections of their own for `role` (at most `max` of them, opened once per role; the first call's
   * settings stay) whose every statement PostgreSQL cancels past `statementTimeoutMs`: the gateway's reads and commits,
   * and the delivery worker's, so that neither they nor the API can take all of the others' connections, and a
   * statement waiting on a lock for minutes is cancelled rather than keeping its connection. A connection that hears
   * nothing for `statementTimeoutMs` plus SILENT_PATH_GRACE_MS (a network path that drops packets: PostgreSQL never
   * sees the statement, so never cancels it) is closed, one still connecting too, so a dead path costs them no
   * connection for longer than that, where TCP alone would wait ~15 minutes, or for ever behind a firewall that forgot
   * the flow. On PGlite, `db` itself (one connection, in this process).
   */
  bounded(role: BoundedRole, statementTimeoutMs: number, max: number): Kysely<Database>;
  close(): Promise<void>;
}

/**
 * How much longer than its statement timeout a bounded connection may hear nothing before it is closed: PostgreSQL
 * answers a cancelled statement at once, so silence past the timeout means the path is gone, but a commit's WAL
 * flush, which the timeout does not count, may take a moment on a busy disk.
 */
export const SILENT_PATH_GRACE_MS = 5_000;

/**
 * After how long without traffic the shared pool's connections have the kernel probe their peer (TCP keepalive). A
 * statement whose answer a network path lost (a firewall or NAT that forgot the flow after a failover) leaves nothing
 * unacknowledged on this side, so without probes the connection would wait for ever; with them it fails ~70 s after
 * the last traffic, as Node's libuv sets the probes 1 s apart and gives up after 10 (`strace` on Node 20.20 shows
 * TCP_KEEPINTVL 1 and TCP_KEEPCNT 10 beside TCP_KEEPIDLE 60; not the kernel's 75 s × 9). A statement lost on its way
 * out is retransmitted instead, and fails only when TCP gives up (`tcp_retries2`: ~15 minutes by default). Long
 * statements (an index build, an ANALYZE) are not affected: PostgreSQL's kernel answers the probes while its backend
 * works.
 */
export const KEEPALIVE_DELAY_MS = 60_000;

/** How the shared pool's connections (the API's, the jobs', the CLI's) name themselves to PostgreSQL. */
export const SHARED_APPLICATION_NAME = "mailward";

/** Who has connections of its own (`DatabaseHandle.bounded`). */
export type BoundedRole = "gateway" | "delivery";

/** How each role's bounded connections name themselves to PostgreSQL (`pg_stat_activity.application_name`). */
export const BOUNDED_APPLICATION_NAME: Readonly<Record<BoundedRole, string>> = {
  gateway: "mailward gateway",
  delivery: "mailward delivery",
};

/**
 * A socket for the pg driver that closes itself after `silenceMs` without a byte either way. Closed, not failed: the
 * driver may already have let go of it (an idle connection the pool ended), and then nobody would hear its error; a
 * query still waiting on it fails with the driver's "Connection terminated unexpectedly".
 */
function closedWhenSilent(silenceMs: number): net.Socket {
  const socket = new net.Socket();
  socket.setTimeout(silenceMs, () => socket.destroy());
  return socket;
}

/** Where to find the data: a PostgreSQL URL, a PGlite folder, or an in-memory PGlite (the benches'). */
export type DatabaseTarget =
  | { kind: "postgres"; url: string; max?: number }
  | { kind: "pglite"; dataDir: string }
  | { kind: "pglite-memory" };

// Keep int8 (count(*), bigserial) as JS numbers on the pg driver, as PGlite does.
pg.types.setTypeParser(20, (value: string) => Number(value));

/** The folder PGlite keeps its database in, inside a data folder (MAILWARD_DATA_DIR): what a backup copies. */
export function pgliteFolderOf(dataDir: string): string {
  return path.join(dataDir, "pglite");
}

/** Opens the database named by `target`. The caller must `close()` it: an open PGlite keeps Node alive. */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.kind === "postgres") {
    const open = (options: pg.PoolConfig) => {
      const pool = new pg.Pool({ connectionString: target.url, ...options });
      pool.on("error", () => undefined); // idle-client errors surface on the next query instead
      // A connection that dies while checked out (PostgreSQL restarted, a backend terminated, a dead path closed) fails
      // its query, and the pool drops it on release; its client also emits "error", which without a listener would
      // end the whole process.
      pool.on("connect", (client) => client.on("error", () => undefined));
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new LossAwarePool(pool) }) });
    };
    const db = open({
      max: target.max ?? 10,
      application_name: SHARED_APPLICATION_NAME,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    });
    const bounded = new Map<BoundedRole, Kysely<Database>>();
    return {
      db,
      engine: "postgres",
      bounded(role, statementTimeoutMs, max) {
        const existing = bounded.get(role);
        if (existing) return existing;
        const opened = open({
          max,
          application_name: BOUNDED_APPLICATION_NAME[role],
          statement_timeout: statementTimeoutMs,
          stream: () => closedWhenSilent(statementTimeoutMs + SILENT_PATH_GRACE_MS),
        });
        bounded.set(role, opened);
        return opened;
      },
      async close() {
        for (const opened of bounded.values()) await opened.destroy();
        await db.destroy();
      },
    };
  }
  let pglite: PGlite;
  // pg_trgm, as on a PostgreSQL server: archive search's from: reads a trigram index (migration 0500).
  const extensions = { pg_trgm };
  if (target.kind === "pglite") {
    const dir = pgliteFolderOf(target.dataDir);
    fs.mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir, { relaxedDurability: false, extensions });
  } else {
    pglite = await PGlite.create({ extensions });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
  return {
    db,
    engine: "pglite",
    bounded: () => db,
    async close() {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** True when the database answers a trivial query. */
export async function isDatabaseReachable(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
