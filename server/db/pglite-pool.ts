import type { PGlite } from "@electric-sql/pglite";
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";

/**
 * Presents one embedded PGlite instance as the `pg`-style pool Kysely's
 * PostgresDialect expects. PGlite has a single connection, so a client is
 * handed out to one borrower at a time: transactions never interleave.
 */
export class PGlitePool implements PostgresPool {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly pglite: PGlite) {}

  /** Waits for the single connection, then lends it until `release()`. */
  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void;
    const previous = this.queue;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    const pglite = this.pglite;
    let released = false;
    return {
      async query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        const result = await pglite.query<R>(sqlText, parameters as unknown[]);
        const command = (result as { command?: string }).command ?? "SELECT";
        return {
          command: command as PostgresQueryResult<R>["command"],
          rowCount: result.affectedRows ?? result.rows.length,
          rows: result.rows,
        };
      },
      release() {
        if (released) return;
        released = true;
        release();
      },
    } as PostgresPoolClient;
  }

  /** Closing the pool leaves the PGlite instance to its owner (see connection.ts). */
  async end(): Promise<void> {
    await this.queue;
  }
}
