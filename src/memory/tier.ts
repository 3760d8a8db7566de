import { ownKey } from '../keys/own.js';
import { LruSlots } from './lru.js';
import { SieveSlots } from './sieve.js';

/**
 * Which entries leave memory first: `'lru'` the least recently used; `'sieve'` the oldest not read
 * again since the last sweep (SIEVE), which keeps a hot set through scans. See docs/ARCHITECTURE.md
 * for the measurements behind the default.
 *
 * @example
 * ```ts
 * import { Chest, type EvictionPolicy } from 'spillchest';
 *
 * const eviction: EvictionPolicy = 'lru';
 * using chest = new Chest<string, string>({ availableMemory: '1 MB', eviction });
 * ```
 */
export type EvictionPolicy = 'lru' | 'sieve';

export const EVICTION_POLICIES: readonly EvictionPolicy[] = ['lru', 'sieve'];

/** What the memory tier knows of an entry beside its value. One byte per slot. */
export const Flag = {
  /** The value in memory is newer than what the store holds (or the store holds nothing). */
  DIRTY: 1,
  /** The store holds an entry for this key (an older one when DIRTY is also set). */
  ON_DISK: 2,
  /** Whether the store holds this key is not known yet; found out only when it matters. */
  DISK_UNKNOWN: 4,
  /** The last attempt to serialize this value failed: it stays in memory until it changes. */
  UNSPILLABLE: 8,
  /**
   * A tombstone: the key was deleted, and the store's copy is to be deleted with the next spill or
   * flush. Deletes travel in batches this way instead of costing a store transaction each. Without
   * DIRTY, the delete is stored already (a deletion taken back from the spill thread, whose batch
   * has committed since): it leaves memory with the next spill and writes nothing.
   */
  DELETED: 16,
} as const;

/**
 * Per-entry bytes the tier adds to `sizeOf` in its accounting: the slot arrays, the index `Map`'s
 * entry and the key and value references. Counting them keeps a tier of many tiny values within
 * its budget too.
 *
 * @example
 * ```ts
 * import { Chest, ENTRY_OVERHEAD } from 'spillchest';
 *
 * using chest = new Chest<string, Float64Array>({ sizeOf: (value) => value.byteLength });
 * chest.set('a', new Float64Array(100));
 * console.log(chest.memoryUsage - ENTRY_OVERHEAD); // 800
 * ```
 */
export const ENTRY_OVERHEAD = 64;

/** The most entries a tier holds, below V8's limit of 2^24 entries in one `Map`. */
export const MAX_ENTRIES = 16_000_000;

/**
 * The memory tier: values in least-recently-used order under a byte budget and an entry cap, with
 * what is known of each one's copy in the store. It decides nothing about the store: the chest asks
 * it which entries to spill and tells it what it wrote.
 */
export class MemoryTier<K, V> {
  private readonly slots: LruSlots<K, V>;
  private unknownCount = 0;
  private memoryOnlyCount = 0;
  private buriedCount = 0;

  constructor(
    public budget: number,
    public maxEntries: number,
    readonly policy: EvictionPolicy = 'lru',
  ) {
    this.slots = policy === 'sieve' ? new SieveSlots<K, V>() : new LruSlots<K, V>();
  }

  get bytes(): number {
    return this.slots.bytes;
  }

  get count(): number {
    return this.slots.count;
  }

  /** Live entries the store does not hold, as far as is known. */
  get memoryOnly(): number {
    return this.memoryOnlyCount;
  }

  /** Tombstones of keys the store still holds. */
  get buried(): number {
    return this.buriedCount;
  }

  /** Entries whose presence in the store is not known yet. */
  get unknown(): number {
    return this.unknownCount;
  }

  get overBudget(): boolean {
    return this.slots.bytes > this.budget || this.slots.count > this.maxEntries;
  }

  find(id: unknown): number {
    return this.slots.find(id);
  }

  touch(slot: number): void {
    this.slots.touch(slot);
  }

  /** The tier's own key: what a caller is given must be a copy of it (`ownKey`). */
  key(slot: number): K {
    return this.slots.key(slot);
  }

  value(slot: number): V {
    return this.slots.value(slot);
  }

  flags(slot: number): number {
    return this.slots.flags(slot);
  }

  /** Holds a new entry; a tuple or Date key is copied (`ownKey`), so its owner may change theirs. */
  add(id: unknown, key: K, value: V, size: number, flags: number): number {
    this.tally(flags, 1);
    return this.slots.add(id, ownKey(key), value, size + ENTRY_OVERHEAD, flags);
  }

  /** A new value for a held key (or tombstone): it becomes dirty and the most recent. */
  replace(slot: number, value: V, size: number): void {
    const old = this.slots.flags(slot);
    const flags = Flag.DIRTY | (old & (Flag.ON_DISK | Flag.DISK_UNKNOWN));
    this.tally(old, -1);
    this.tally(flags, 1);
    this.slots.replace(slot, value, size + ENTRY_OVERHEAD, flags);
  }

  /** Turns a held entry into a tombstone of `size` bytes (its key's). */
  bury(slot: number, size: number): void {
    const old = this.slots.flags(slot);
    const flags = Flag.DIRTY | Flag.DELETED | (old & (Flag.ON_DISK | Flag.DISK_UNKNOWN));
    this.tally(old, -1);
    this.tally(flags, 1);
    this.slots.replace(slot, undefined as V, size + ENTRY_OVERHEAD, flags);
  }

  /** The size an entry was added with (its `sizeOf`), without the tier's overhead. */
  sizeOf(slot: number): number {
    return this.slots.size(slot) - ENTRY_OVERHEAD;
  }

  /** Checksum of the store's copy of a clean entry, to tell later whether the value was changed in place. */
  checksum(slot: number): number {
    return this.slots.checksum(slot);
  }

  setChecksum(slot: number, sum: number): void {
    this.slots.setChecksum(slot, sum);
  }

  setFlags(slot: number, flags: number): void {
    this.tally(this.slots.flags(slot), -1);
    this.tally(flags, 1);
    this.slots.setFlags(slot, flags);
  }

  remove(slot: number): void {
    this.tally(this.slots.flags(slot), -1);
    this.slots.remove(slot);
  }

  clear(): void {
    this.slots.clear();
    this.unknownCount = 0;
    this.memoryOnlyCount = 0;
    this.buriedCount = 0;
  }

  /**
   * Entries to spill, least recent first, so that the tier ends a little under its limits: spilling
   * to a low-water mark lets one store transaction carry many entries instead of one per `set`.
   * Entries that could not be serialized are passed over.
   */
  victims(): number[] {
    // A 32nd of the budget: enough entries per transaction to amortize it, little enough memory
    // left unused that the tier's hit ratio matches a cache filled to the brim (an 8th cost 6%).
    const slack = Math.min(this.budget / 32, 2 ** 20);
    const countSlack = Math.min(Math.floor(this.maxEntries / 8), 65_536);
    let bytes = this.slots.bytes;
    let count = this.slots.count;
    const out: number[] = [];
    for (const slot of this.slots.evictionOrder()) {
      if (bytes <= this.budget - slack && count <= this.maxEntries - countSlack) break;
      if ((this.slots.flags(slot) & Flag.UNSPILLABLE) !== 0) continue;
      out.push(slot);
      bytes -= this.slots.size(slot);
      count--;
    }
    return out;
  }

  /** Every slot, least recent first. */
  all(): number[] {
    return [...this.slots.slots()];
  }

  private tally(flags: number, delta: number): void {
    if ((flags & Flag.DISK_UNKNOWN) !== 0) this.unknownCount += delta;
    else if ((flags & Flag.DELETED) !== 0) {
      if ((flags & Flag.ON_DISK) !== 0) this.buriedCount += delta;
    } else if ((flags & Flag.ON_DISK) === 0) this.memoryOnlyCount += delta;
  }
}
