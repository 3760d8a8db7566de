import { LruSlots } from './lru.js';

const VISITED = 1;
/** Handed out by the current walk: not handed out again by it. */
const CHOSEN = 2;

/**
 * SIEVE (Zhang et al., NSDI 2024): entries stay in insertion order and a hit only sets a bit, so a
 * hit never relinks anything. Eviction sweeps a hand from the oldest entry towards the newest: a
 * visited entry loses its bit and stays, an unvisited one goes. An entry read once (a scan) is gone
 * at the first sweep that reaches it, while one read again since the last sweep survives it, which
 * keeps a hot set in memory where LRU lets a stream of one-time reads push it out.
 *
 * The list, slots and accounting are LruSlots'; only what a hit does and the eviction order differ.
 */
export class SieveSlots<K, V> extends LruSlots<K, V> {
  /** Where the next sweep starts; 0 means at the oldest entry. */
  private hand = 0;

  /** A hit: marks the entry visited; its place in the list does not change. */
  override touch(slot: number): void {
    this.marks[slot] = VISITED;
  }

  override remove(slot: number): void {
    if (slot === this.hand) this.hand = this.prev[slot]!;
    super.remove(slot);
  }

  override clear(): void {
    super.clear();
    this.hand = 0;
  }

  /**
   * Unvisited entries from the hand on, clearing the bits it passes and wrapping around at most
   * once more than it takes to clear them all. The hand stays after the last entry handed out.
   */
  override *evictionOrder(): Generator<number, void, undefined> {
    const chosen: number[] = [];
    let slot = this.hand !== 0 ? this.hand : this.prev[0]!;
    try {
      for (let steps = 2 * this.count; slot !== 0 && steps > 0; steps--) {
        const newer = this.prev[slot]!;
        const mark = this.marks[slot]!;
        if (mark === VISITED) this.marks[slot] = 0;
        else if (mark === 0) {
          this.marks[slot] = CHOSEN;
          chosen.push(slot);
          this.hand = newer;
          yield slot;
        }
        slot = newer !== 0 ? newer : this.prev[0]!;
      }
    } finally {
      // Entries handed out and then kept (not spilled after all) become ordinary ones again.
      for (const c of chosen) if (this.marks[c] === CHOSEN) this.marks[c] = 0;
    }
  }
}
