/** How a GroupCommit forms and runs its batches. */
export interface GroupCommitOptions<T> {
  /** The most items in one transaction (default 32). */
  maxBatch?: number;
  /**
   * How many transactions may be in flight at once (default 1: what arrives during a commit waits for it and goes
   * in the next, so batches are larger and each message pays a smaller share of a statement's fixed cost; with 2,
   * the gateway's PostgreSQL used 20 % more CPU per message and took less mail: BENCHMARKS.md, "Session 46").
   */
  concurrency?: number;
  /**
   * Bounds a batch besides its count: items join a batch while their weights add up to at most `max`
   * (a heavier item goes alone). The gateway weighs a message by the bind parameters it adds to the
   * commit statement, which PostgreSQL limits to 65,535.
   */
  weight?: { of: (item: T) => number; max: number };
}

/** One submitted item and the promise its caller waits on. */
interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items that arrive while earlier batches are being committed wait and go
 * together in the next transaction, so concurrent SMTP sessions share round trips and the
 * commit's fsync instead of each paying for its own. Nothing waits on a timer: a lone item
 * commits at once. A failed batch is retried one item at a time, so one bad message cannot
 * fail the others and each caller gets its own error (a database outage fails every one).
 */
export class GroupCommit<T, R> {
  private readonly waiting: Array<Waiting<T, R>> = [];
  private inFlight = 0;

  private readonly maxBatch: number;
  private readonly concurrency: number;
  private readonly weight: GroupCommitOptions<T>["weight"] | null;

  /** @param commit commits the items in one transaction and returns one result per item, in order */
  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    options: GroupCommitOptions<T> = {},
  ) {
    this.maxBatch = options.maxBatch ?? 32;
    this.concurrency = options.concurrency ?? 1;
    this.weight = options.weight ?? null;
  }

  /** Resolves with the item's result once its transaction has committed. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.concurrency && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.batchLength());
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.drain();
      });
    }
  }

  /** How many of the waiting items the next batch takes: at most maxBatch, within the weight bound, at least one. */
  private batchLength(): number {
    const limit = Math.min(this.maxBatch, this.waiting.length);
    if (!this.weight) return limit;
    let total = 0;
    for (let n = 0; n < limit; n++) {
      total += this.weight.of((this.waiting[n] as Waiting<T, R>).item);
      if (total > this.weight.max) return Math.max(1, n);
    }
    return limit;
  }

  private async run(batch: Array<Waiting<T, R>>): Promise<void> {
    try {
      const results = await this.commit(batch.map((w) => w.item));
      batch.forEach((w, index) => {
        const result = results[index];
        if (result === undefined) w.reject(new Error("group commit returned fewer results than items"));
        else w.resolve(result);
      });
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
    }
    for (const w of batch) {
      try {
        const [result] = await this.commit([w.item]);
        if (result === undefined) throw new Error("group commit returned no result");
        w.resolve(result);
      } catch (error) {
        w.reject(error);
      }
    }
  }
}
