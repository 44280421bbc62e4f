import pg from "pg";
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";

/**
 * True when a query's error means its connection is gone, not just the statement: PostgreSQL ending the session
 * (FATAL, e.g. an administrator's pg_terminate_backend or a shutdown) or the driver losing the socket.
 */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) return error.severity === "FATAL" || error.severity === "PANIC";
  return true;
}

/**
 * pg's pool as Kysely's PostgresDialect expects it, except that a connection whose query failed because the
 * connection is gone is destroyed on release instead of going back to the pool. PostgreSQL's FATAL answer arrives
 * before the socket closes, and the pool would otherwise hand the dying connection to the next query, which then
 * fails too ("Connection terminated unexpectedly").
 */
export class LossAwarePool implements PostgresPool {
  constructor(private readonly pool: pg.Pool) {}

  /** Lends a connection of the pool, watching its queries' failures. */
  async connect(): Promise<PostgresPoolClient> {
    const client = await this.pool.connect();
    let lost = false;
    return {
      async query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        try {
          return (await client.query(sqlText, parameters as unknown[])) as unknown as PostgresQueryResult<R>;
        } catch (error) {
          lost ||= isConnectionLost(error);
          throw error;
        }
      },
      release() {
        client.release(lost);
      },
    } as PostgresPoolClient;
  }

  /** Closes every connection of the pool. */
  end(): Promise<void> {
    return this.pool.end();
  }
}
