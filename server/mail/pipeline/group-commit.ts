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
  /**
   * The longest an item waits for its commit, from submission (default: no limit). Past it the item fails with
   * CommitTimedOut, and a batch whose items have all failed so gives its place up, so a database that stopped
   * answering cannot hold the next batches back once it answers again. The commit itself runs on, to whatever end.
   */
  timeoutMs?: number;
  /** How it waits out `timeoutMs` (default: Node's timers; a test passes a clock it moves itself). */
  clock?: CommitClock;
}

/** Runs `run` once `ms` have passed, unless the returned function cancels it first. */
export interface CommitClock {
  after(ms: number, run: () => void): () => void;
}

const NODE_CLOCK: CommitClock = {
  after(ms, run) {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  },
};

/** An item's commit did not end within the GroupCommit's `timeoutMs`: it may still commit later, or never. */
export class CommitTimedOut extends Error {
  constructor(timeoutMs: number) {
    super(`the database did not commit within ${timeoutMs} ms`);
    this.name = "CommitTimedOut";
  }
}

/** One submitted item, the promise its caller waits on, and the batch it went in. */
interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  cancelTimeout: (() => void) | null;
  batch: Batch<T, R> | null;
}

/** A batch being committed: its items, and whether it still counts against `concurrency`. */
interface Batch<T, R> {
  members: Array<Waiting<T, R>>;
  holdsPlace: boolean;
}

/**
 * Group commit: items that arrive while earlier batches are being committed wait and go
 * together in the next transaction, so concurrent SMTP sessions share round trips and the
 * commit's fsync instead of each paying for its own. No batch waits on a timer to fill: a lone
 * item commits at once. A failed batch is retried one item at a time, so one bad message cannot
 * fail the others and each caller gets its own error (a database outage fails every one).
 */
export class GroupCommit<T, R> {
  private readonly waiting: Array<Waiting<T, R>> = [];
  private inFlight = 0;

  private readonly maxBatch: number;
  private readonly concurrency: number;
  private readonly weight: GroupCommitOptions<T>["weight"] | null;
  private readonly timeoutMs: number | null;
  private readonly clock: CommitClock;

  /** @param commit commits the items in one transaction and returns one result per item, in order */
  constructor(
    private readonly commit: (items: T[]) => Promise<R[]>,
    options: GroupCommitOptions<T> = {},
  ) {
    this.maxBatch = options.maxBatch ?? 32;
    this.concurrency = options.concurrency ?? 1;
    this.weight = options.weight ?? null;
    this.timeoutMs = options.timeoutMs ?? null;
    this.clock = options.clock ?? NODE_CLOCK;
  }

  /** Resolves with the item's result once its transaction has committed. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiting: Waiting<T, R> = {
        item,
        resolve,
        reject,
        settled: false,
        cancelTimeout: null,
        batch: null,
      };
      const timeoutMs = this.timeoutMs;
      if (timeoutMs !== null)
        waiting.cancelTimeout = this.clock.after(timeoutMs, () => this.expire(waiting, timeoutMs));
      this.waiting.push(waiting);
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.concurrency && this.waiting.length > 0) {
      const batch: Batch<T, R> = { members: this.waiting.splice(0, this.batchLength()), holdsPlace: true };
      for (const member of batch.members) member.batch = batch;
      this.inFlight += 1;
      void this.run(batch).finally(() => this.release(batch));
    }
  }

  /** The batch is over for its callers (committed, failed, or every item timed out): the next may start. */
  private release(batch: Batch<T, R>): void {
    if (!batch.holdsPlace) return;
    batch.holdsPlace = false;
    this.inFlight -= 1;
    this.drain();
  }

  private settle(waiting: Waiting<T, R>, outcome: { result: R } | { error: unknown }): void {
    if (waiting.settled) return;
    waiting.settled = true;
    waiting.cancelTimeout?.();
    if ("result" in outcome) waiting.resolve(outcome.result);
    else waiting.reject(outcome.error);
  }

  private expire(waiting: Waiting<T, R>, timeoutMs: number): void {
    this.settle(waiting, { error: new CommitTimedOut(timeoutMs) });
    // Never still queued: batches take the queue's oldest items, which expire first, and a batch gives up its
    // place (starting the next) as its last item expires.
    const batch = waiting.batch;
    if (batch && batch.members.every((member) => member.settled)) this.release(batch);
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

  private async run(batch: Batch<T, R>): Promise<void> {
    const { members } = batch;
    try {
      const results = await this.commit(members.map((w) => w.item));
      members.forEach((w, index) => {
        const result = results[index];
        if (result === undefined)
          this.settle(w, { error: new Error("group commit returned fewer results than items") });
        else this.settle(w, { result });
      });
      return;
    } catch (error) {
      if (members.length === 1) {
        this.settle(members[0] as Waiting<T, R>, { error });
        return;
      }
    }
    for (const w of members) {
      if (w.settled) continue; // timed out: its sender has its 451
      try {
        const [result] = await this.commit([w.item]);
        if (result === undefined) throw new Error("group commit returned no result");
        this.settle(w, { result });
      } catch (error) {
        this.settle(w, { error });
      }
    }
  }
}
