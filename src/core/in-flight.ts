import { keyIdentity } from '../keys/codec.js';
import { hashOf } from '../memory/slot-index.js';

/** Where a key sits among the batches in flight: the batch's ticket and the entry's index in it. */
export interface InFlightEntry {
  readonly ticket: number;
  readonly index: number;
}

/**
 * The keys of the batches in flight to the spill thread, by the identities (`keyIdentity`) of each
 * batch, so that a `get` that misses memory can tell at once whether its key is in one of them.
 *
 * Why: a miss must not read the index without a batch that holds its key, and waiting for every
 * batch in flight (each a transaction of up to 4,096 entries) before every such read stalled reads
 * for as long as the thread took to commit. Waiting only for a key in flight was not enough either:
 * uniform gets over W1's million keys hit one of the 2,300 keys of a batch about five times before
 * the next batch, so the thread was waited for after nearly every batch. The chest takes such a
 * key's value (or deletion) back from the batch instead (see `Chest`), so no get waits for it.
 *
 * Each batch's hashes are counted in one `Map`, so that a key in no batch (nearly every miss) is
 * told with one lookup; a hash found there is confirmed by comparing identities. A batch is indexed
 * so only when a miss first asks while it is in flight: a run of sets, which asks nothing, pays
 * nothing for it (indexing each batch as it was handed over ran W1's inserts at 0.86 times the
 * speed, median of ten interleaved runs).
 */
export class InFlightKeys {
  /** How many keys in flight have each hash. */
  private readonly counts = new Map<number, number>();
  /** Each batch's keys, by ticket, oldest first, with their identities and hashes (NaN for an odd one) once indexed. */
  private readonly batches = new Map<number, Batch>();
  /** Batches not indexed yet. */
  private unindexed = 0;
  /** Keys in flight whose identity is neither a string nor a number (rare): not hashed, compared. */
  private odd = 0;

  /** Records the keys of a batch handed over under `ticket` (the array is kept, not copied). */
  add(ticket: number, keys: readonly unknown[]): void {
    this.batches.set(ticket, { keys, ids: undefined, codes: undefined });
    this.unindexed++;
  }

  /** Takes a settled batch out (committed or failed alike). */
  remove(ticket: number): void {
    const batch = this.batches.get(ticket);
    if (batch === undefined) return;
    this.batches.delete(ticket);
    if (batch.codes === undefined) {
      this.unindexed--;
      return;
    }
    const counts = this.counts;
    for (const code of batch.codes) {
      if (Number.isNaN(code)) {
        this.odd--;
        continue;
      }
      const left = counts.get(code)! - 1;
      if (left === 0) counts.delete(code);
      else counts.set(code, left);
    }
  }

  /** The newest entry of the key of identity `id` in a batch in flight, or undefined when none holds it. */
  find(id: unknown): InFlightEntry | undefined {
    if (this.batches.size === 0) return undefined;
    if (this.unindexed > 0) this.index();
    const code = hashable(id) ? hashOf(id) : NaN;
    if (Number.isNaN(code) ? this.odd === 0 : !this.counts.has(code)) return undefined;
    let found: InFlightEntry | undefined;
    // Oldest batch and entry first: the last match is the newest value of the key. An odd key's
    // code is NaN, which equals nothing: those are compared by identity alone.
    for (const [ticket, { ids, codes }] of this.batches) {
      for (let i = 0; i < codes!.length; i++) {
        const c = codes![i]!;
        if (c === code ? ids![i] === id : Number.isNaN(c) && Number.isNaN(code) && sameKey(ids![i], id))
          found = { ticket, index: i };
      }
    }
    return found;
  }

  private index(): void {
    const counts = this.counts;
    for (const batch of this.batches.values()) {
      if (batch.codes !== undefined) continue;
      const ids = batch.keys.map(keyIdentity);
      const codes = new Float64Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (!hashable(id)) {
          codes[i] = NaN;
          this.odd++;
          continue;
        }
        const code = hashOf(id);
        codes[i] = code;
        counts.set(code, (counts.get(code) ?? 0) + 1);
      }
      batch.ids = ids;
      batch.codes = codes;
    }
    this.unindexed = 0;
  }
}

interface Batch {
  readonly keys: readonly unknown[];
  ids: unknown[] | undefined;
  codes: Float64Array | undefined;
}

function hashable(id: unknown): id is string | number {
  return typeof id === 'string' || (typeof id === 'number' && id === id);
}

/** SameValueZero, as a `Map` compares keys: NaN is one key. */
function sameKey(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}
