import fs from "node:fs";
import pg from "pg";

/**
 * CPU seconds a process or thread has used so far (utime + stime of a /proc stat file, Linux only):
 * `/proc/PID/stat` for a process, `/proc/thread-self/stat` for the calling thread, 0 where unreadable.
 */
export function cpuSecondsAt(statFile: string): number {
  try {
    const stat = fs.readFileSync(statFile, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of this process's main thread so far (where the gateway runs with inline scanning). */
export function mainThreadCpuSeconds(): number {
  return cpuSecondsAt(`/proc/self/task/${process.pid}/stat`);
}

/**
 * Measures the CPU the PostgreSQL backends serving one database use during a run, so the bench can
 * show the server's share per message beside the Node process's (both share the same 2 cores).
 * Background processes (WAL writer, checkpointer) serve every database and are not counted.
 */
export class BackendCpuMeter {
  private before = new Map<number, number>();

  constructor(private readonly databaseUrl: string) {}

  private async backendPids(): Promise<number[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      const rows = await client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      return rows.rows.map((r) => r.pid);
    } finally {
      await client.end();
    }
  }

  /** Notes the backends' CPU at the start of the measured part. */
  async start(): Promise<void> {
    this.before = new Map((await this.backendPids()).map((pid) => [pid, cpuSecondsAt(`/proc/${pid}/stat`)]));
  }

  /** CPU seconds the backends used since `start` (backends that appeared since count in full). */
  async stop(): Promise<number> {
    let total = 0;
    for (const pid of await this.backendPids())
      total += cpuSecondsAt(`/proc/${pid}/stat`) - (this.before.get(pid) ?? 0);
    return total;
  }
}
