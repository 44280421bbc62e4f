import fs from "node:fs";
import path from "node:path";
import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";

const COMPACT_AT_BYTES = 1024 * 1024;

/**
 * A local append-only journal of "the next hop answered 250 to delivery X".
 * It is written synchronously in the same tick the 250 is read, before the
 * database is told, so a crash right after the next hop accepted loses nothing:
 * the line is in the kernel's page cache the moment write() returns (this
 * covers a killed process, not a power cut). On start, lines whose database
 * update never happened are replayed. This narrows the at-least-once window to
 * the time between the next hop's 250 and our event loop reading it.
 */
export class DeliveryReceipts {
  private fd: number | null = null;
  private unconfirmed = 0;
  private size = 0;

  constructor(private readonly file: string) {}

  /** Records a 250 for a delivery (synchronous on purpose). */
  record(deliveryId: string, response: string): void {
    if (this.fd === null) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      this.fd = fs.openSync(this.file, "a");
    }
    const line = `${JSON.stringify({ id: deliveryId, response: response.slice(0, 500) })}\n`;
    fs.writeSync(this.fd, line);
    this.size += Buffer.byteLength(line);
    this.unconfirmed += 1;
  }

  /** The database now says delivered too; the journal is emptied once nothing is pending and it has grown. */
  confirmed(): void {
    this.unconfirmed = Math.max(0, this.unconfirmed - 1);
    if (this.unconfirmed === 0 && this.size > COMPACT_AT_BYTES && this.fd !== null) {
      fs.ftruncateSync(this.fd, 0);
      this.size = 0;
    }
  }

  /**
   * Applies receipts a previous run wrote but could not confirm (it died in
   * between), then empties the journal. Returns how many rows it marked.
   */
  async replay(db: Kysely<Database>): Promise<number> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch {
      return 0;
    }
    const receipts = new Map<string, string>();
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as { id?: unknown; response?: unknown };
        if (typeof entry.id === "string" && /^[0-9a-f-]{36}$/i.test(entry.id))
          receipts.set(entry.id, typeof entry.response === "string" ? entry.response : "");
      } catch {
        // A torn last line (killed mid-write) carries no complete receipt.
      }
    }
    let marked = 0;
    for (const [id, response] of receipts) {
      const result = await db
        .updateTable("deliveries")
        .set({
          state: "delivered",
          delivered_at: sql<Date>`now()`,
          locked_until: null,
          last_response: `(replayed) ${response}`.slice(0, 1000),
          last_error: null,
          transient_raw: null,
        })
        .where("id", "=", id)
        .where("state", "in", ["sending", "queued", "deferred"])
        .executeTakeFirst();
      marked += Number(result.numUpdatedRows);
    }
    fs.writeFileSync(this.file, "");
    this.size = 0;
    return marked;
  }

  /** Closes the journal file. */
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
