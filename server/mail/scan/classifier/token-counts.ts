/** A token's message counts per class: [ham, spam, phish]. */
export type TokenCounts = readonly [number, number, number];

const INITIAL_SLOTS = 1024;

/**
 * The classifier's per-token counts: each token has a slot of three numbers in one typed array, instead of an array
 * of its own. A trained model holds ~170,000 tokens; as a small array each (two heap objects) they were 340,000
 * objects that every major GC of the gateway's thread marked again, with the gateway's transactions waiting on the
 * marking steps (BENCHMARKS.md, "Ingest", session 49). Float64 slots keep every count a number can hold, as before.
 */
export class TokenCountTable {
  private readonly slots = new Map<string, number>();
  private table = new Float64Array(INITIAL_SLOTS * 3);
  /** Slots of deleted tokens, reused first, so a model that keeps changing does not keep growing. */
  private readonly freeSlots: number[] = [];
  private slotsHandedOut = 0;

  /** Number of tokens with counts. */
  get size(): number {
    return this.slots.size;
  }

  /** The token's slot, for `count`; undefined for an unknown token. */
  slotOf(token: string): number | undefined {
    return this.slots.get(token);
  }

  /** One class's count in a slot from `slotOf` (0 ham, 1 spam, 2 phish). */
  count(slot: number, classIndex: 0 | 1 | 2): number {
    return this.table[slot * 3 + classIndex] ?? 0;
  }

  /** The token's counts, or undefined. */
  get(token: string): TokenCounts | undefined {
    const slot = this.slots.get(token);
    if (slot === undefined) return undefined;
    return [this.count(slot, 0), this.count(slot, 1), this.count(slot, 2)];
  }

  /** Sets the token's counts; counts that sum to zero or less drop the token. */
  set(token: string, counts: TokenCounts): void {
    if (counts[0] + counts[1] + counts[2] <= 0) {
      this.delete(token);
      return;
    }
    const slot = this.slots.get(token) ?? this.newSlot(token);
    this.table[slot * 3] = counts[0];
    this.table[slot * 3 + 1] = counts[1];
    this.table[slot * 3 + 2] = counts[2];
  }

  /** Adds `delta` to one class's count (never below zero); a token left with no counts is dropped. */
  add(token: string, classIndex: 0 | 1 | 2, delta: number): void {
    const counts = this.get(token) ?? [0, 0, 0];
    const changed: [number, number, number] = [counts[0], counts[1], counts[2]];
    changed[classIndex] = Math.max(0, changed[classIndex] + delta);
    this.set(token, changed);
  }

  /** Drops the token; true when it had counts. */
  delete(token: string): boolean {
    const slot = this.slots.get(token);
    if (slot === undefined) return false;
    this.slots.delete(token);
    this.table.fill(0, slot * 3, slot * 3 + 3);
    this.freeSlots.push(slot);
    return true;
  }

  /** Every token with its counts, in the order the tokens were first counted. */
  *entries(): IterableIterator<[string, TokenCounts]> {
    for (const [token, slot] of this.slots)
      yield [token, [this.count(slot, 0), this.count(slot, 1), this.count(slot, 2)]];
  }

  private newSlot(token: string): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slotsHandedOut++;
      if (slot * 3 + 3 > this.table.length) {
        const grown = new Float64Array(this.table.length * 2);
        grown.set(this.table);
        this.table = grown;
      }
    }
    this.slots.set(token, slot);
    return slot;
  }
}
