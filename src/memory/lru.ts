import { SlotIndex } from './slot-index.js';

/**
 * The memory tier's bookkeeping: a least-recently-used list with a byte budget (the base of the
 * other eviction policies, see sieve.ts).
 *
 * Entries live in slots. The list links and sizes are typed arrays indexed by slot, and a hash table
 * in a typed array (slot-index.ts) goes from key identity to slot, so a hit allocates nothing and
 * the garbage collector sees a handful of large arrays instead of an object per entry. Slot 0 is a sentinel: the list is circular through it,
 * which removes every head/tail special case from the hot path.
 *
 * The tier only keeps order and accounts bytes. It never evicts on its own: the owner walks from the
 * least recent end (`lru()`, `newer()`), decides what to write where, and removes what it has spilled.
 * That way a failed spill leaves every entry in place.
 */
export class LruSlots<K, V> {
  private readonly index = new SlotIndex();
  private keys: (K | undefined)[] = [undefined];
  private values: (V | undefined)[] = [undefined];
  private sizes = new Float64Array(16);
  /** Links towards newer entries; prev[0] is the least recent. */
  protected prev = new Uint32Array(16);
  /** Links towards older entries; next[0] is the most recent. */
  protected next = new Uint32Array(16);
  private flagBits = new Uint8Array(16);
  private sums = new Uint32Array(16);
  /** One byte per slot for an eviction policy's own use (zero for a new entry). */
  protected marks = new Uint8Array(16);
  private freeSlots: number[] = [];
  private used = 1;
  private totalBytes = 0;

  /** Number of entries held. */
  get count(): number {
    return this.index.size;
  }

  /** Sum of the sizes of all entries held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Slot of an identity, or 0 when absent. Does not change recency. */
  find(id: unknown): number {
    return this.index.find(id);
  }

  /** Adds a new entry as the most recent; the identity must not be present. */
  add(id: unknown, key: K, value: V, size: number, flags: number): number {
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.grow();
    this.index.set(id, slot);
    this.keys[slot] = key;
    this.values[slot] = value;
    this.sizes[slot] = size;
    this.flagBits[slot] = flags;
    this.totalBytes += size;
    this.linkFront(slot);
    return slot;
  }

  /** Replaces the value of a slot and makes it the most recent. */
  replace(slot: number, value: V, size: number, flags: number): void {
    this.totalBytes += size - this.sizes[slot]!;
    this.values[slot] = value;
    this.sizes[slot] = size;
    this.flagBits[slot] = flags;
    this.touch(slot);
  }

  /** Makes a slot the most recent. */
  touch(slot: number): void {
    if (this.next[0] === slot) return;
    this.unlink(slot);
    this.linkFront(slot);
  }

  remove(slot: number): void {
    this.index.delete(slot);
    this.unlink(slot);
    this.totalBytes -= this.sizes[slot]!;
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.sizes[slot] = 0;
    this.flagBits[slot] = 0;
    this.marks[slot] = 0;
    this.freeSlots.push(slot);
  }

  clear(): void {
    this.index.clear();
    this.keys = [undefined];
    this.values = [undefined];
    this.sizes = new Float64Array(16);
    this.prev = new Uint32Array(16);
    this.next = new Uint32Array(16);
    this.flagBits = new Uint8Array(16);
    this.sums = new Uint32Array(16);
    this.marks = new Uint8Array(16);
    this.freeSlots = [];
    this.used = 1;
    this.totalBytes = 0;
  }

  key(slot: number): K {
    return this.keys[slot] as K;
  }

  value(slot: number): V {
    return this.values[slot] as V;
  }

  size(slot: number): number {
    return this.sizes[slot]!;
  }

  flags(slot: number): number {
    return this.flagBits[slot]!;
  }

  setFlags(slot: number, flags: number): void {
    this.flagBits[slot] = flags;
  }

  /** A 32-bit number kept beside the entry for its owner (the chest keeps the stored copy's checksum). */
  checksum(slot: number): number {
    return this.sums[slot]!;
  }

  setChecksum(slot: number, sum: number): void {
    this.sums[slot] = sum;
  }

  /** The least recent slot, or 0 when empty. */
  lru(): number {
    return this.prev[0]!;
  }

  /** The slot used just after this one (towards the most recent), or 0 at the end. */
  newer(slot: number): number {
    // next[] points towards older entries (linkFront), prev[] towards newer ones.
    return this.prev[slot]!;
  }

  /**
   * Slots in the order they should leave memory, as long as the caller keeps asking: here least
   * recent first. The caller removes what it spills afterwards.
   */
  *evictionOrder(): Generator<number, void, undefined> {
    for (let slot = this.prev[0]!; slot !== 0; slot = this.prev[slot]!) yield slot;
  }

  /** Slots from least to most recent. Removing the yielded slot while iterating is safe. */
  *slots(): Generator<number> {
    let slot = this.prev[0]!;
    while (slot !== 0) {
      const before = this.prev[slot]!;
      yield slot;
      slot = before;
    }
  }

  private linkFront(slot: number): void {
    const first = this.next[0]!;
    this.next[slot] = first;
    this.prev[slot] = 0;
    this.prev[first] = slot;
    this.next[0] = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    this.next[p] = n;
    this.prev[n] = p;
  }

  private grow(): number {
    const slot = this.used++;
    if (slot >= this.sizes.length) {
      const capacity = this.sizes.length * 2;
      this.sizes = resize(this.sizes, new Float64Array(capacity));
      this.prev = resize(this.prev, new Uint32Array(capacity));
      this.next = resize(this.next, new Uint32Array(capacity));
      this.flagBits = resize(this.flagBits, new Uint8Array(capacity));
      this.sums = resize(this.sums, new Uint32Array(capacity));
      this.marks = resize(this.marks, new Uint8Array(capacity));
    }
    return slot;
  }
}

function resize<T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
