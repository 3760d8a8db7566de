import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { crc32 } from './values/crc32.js';
import { ChestError, ErrorCode, isChestError, namingKey } from './errors.js';
import { decodeKey, encodeKey, keyIdentity } from './keys/codec.js';
import { ownKey } from './keys/own.js';
import { assertKeyFits } from './keys/limits.js';
import type { Key } from './keys/types.js';
import { Flag, MemoryTier, type EvictionPolicy } from './memory/tier.js';
import { sizeOfKey } from './memory/size.js';
import { parseMemorySize, type MemorySize } from './options/memory.js';
import type { SerializerOption } from './serializers/index.js';
import { sameFormat } from './serializers/custom.js';
import { resolveCompression, type CompressionName } from './values/compression.js';
import type { ValueCodec } from './values/codec.js';
import { LmdbStore } from './stores/lmdb/store.js';
import type { WriteBehind } from './stores/lmdb/write-behind.js';
import type { StoredValue, SyncStore } from './stores/types.js';
import {
  compactStore,
  repairStore,
  verifyStore,
  type CompactReport,
  type MaintenanceOptions,
  type RepairReport,
  type VerifyReport,
} from './maintenance.js';
import type { DiskOptions } from './options/disk.js';
import { orderedKeys, type KeyQuery } from './query/ordered.js';
import { forgetTemporary, makeTemporaryDir, trackOpen, untrackOpen } from './lifecycle.js';
import { Coherence } from './coherence.js';

import {
  checkNewSerializer,
  FORMAT_VERSION,
  newMeta,
  serializerFor,
  upgradedMeta,
  valueCodec,
} from './core/meta.js';
import { holdsChest, openLmdbStore } from './core/open-lmdb.js';
import { booleanOption, DEFAULT_INLINE_THRESHOLD, resolveOptions } from './core/options.js';
import {
  closeFailure,
  decodeStored,
  describeKey,
  forgetStored,
  isSpillFailure,
  settleBatch,
  spillBatches,
  unserializable,
  type Counters,
  type SpillContext,
} from './core/spill.js';
import { spillBehind, takeBack, type BehindBatch } from './core/spill-behind.js';
import { InFlightKeys } from './core/in-flight.js';

/**
 * Entries a chest spills itself before it hands its spills to the spill thread
 * (src/stores/lmdb/write-behind.ts): starting a thread costs tens of milliseconds, which only a
 * chest that keeps spilling gains back. `SPILLCHEST_SPILL_THREAD=0` never starts it, `=1` from the
 * first spill (the tests run both ways).
 */
const SPILL_THREAD_AFTER = 65_536;

/** An entry `takeFromFlight` took back into memory from a batch in flight. */
interface TakenBack<V> {
  readonly slot: number;
  readonly id: unknown;
  readonly value: V | undefined;
  /** Its index in the batch. */
  readonly index: number;
}

/** What `takeFromFlight` answers for a key no batch in flight holds. */
const NOT_IN_FLIGHT = Symbol('not in flight');

export { FORMAT_VERSION, DEFAULT_INLINE_THRESHOLD };

/**
 * @example
 * ```ts
 * import { Chest, type ChestOptions } from 'spillchest';
 *
 * const options: ChestOptions<string, object> = { availableMemory: '256 MB', serializer: 'msgpack', compress: 'gzip' };
 * using chest = new Chest(options);
 * ```
 */
export interface ChestOptions<K extends Key, V> {
  /**
   * The chest's directory, created if missing. Without it the chest lives in a new private temporary
   * directory that is removed by `close()`, by `using`, and at process exit.
   */
  path?: string;
  /**
   * Bytes of values the memory tier may hold (chest's `available_memory`): a number, or a string such
   * as `'512 MB'`, `'2GiB'` or `'25%'` (of the memory the process may use). Default: 25% of that
   * memory, at most 1 GB. Each entry also counts a fixed 64 bytes of bookkeeping.
   */
  availableMemory?: MemorySize;
  /**
   * How values other than binary ones are turned into bytes: `'structured'` (default: everything
   * `structuredClone` copies), `'json'`, `'msgpack'`, or a `Serializer`. Recorded in the chest;
   * reopening it with another serializer is refused.
   */
  serializer?: SerializerOption<V>;
  /**
   * Your own serialization, as in chest: `dump: JSON.stringify, load: JSON.parse`. Needs `load`, and
   * `serializerName` unless the chest is temporary.
   */
  dump?: (value: V) => Uint8Array | string;
  /** The inverse of `dump`: receives a string when `dump` returned one, else the bytes. */
  load?: ((text: string) => V) | ((bytes: Uint8Array) => V);
  /**
   * The name the chest records for the format of `dump` and `load` (`'json-text-v1'`); change it when
   * the format changes. A chest is only reopened by a pair of the name it recorded, so a chest that
   * is kept (a `path`, or a store that persists) needs one: without it, a pair of inline functions
   * would be known by their names only, `dump` and `load`, as every other pair is.
   */
  serializerName?: string;
  /** Compresses each value on disk, whatever the serializer. Default `'none'`. */
  compress?: CompressionName;
  /**
   * Relative file name for a key's value file. Default: a simple lowercase identifier keeps its name
   * (`'x'` -> `x`), a tuple becomes nested folders (`['one', 'two']` -> `_one/two`), anything else a
   * hash. A name that would leave the chest's directory is refused.
   */
  keyToFilename?: (key: K) => string;
  /**
   * Bytes a value counts against `availableMemory` (chest's `nbytes`). Default: exact for binary values
   * (typed arrays, `Buffer`, `DataView`, `ArrayBuffer`), an estimate for the rest (see `sizeOf`).
   */
  sizeOf?: (value: V, key: K) => number;
  /** Called when a `get` does not find the key in memory, before looking in the store. */
  onMiss?: (key: K) => void;
  /** Called for each key that leaves memory for the store. */
  onOverflow?: (key: K) => void;
  /**
   * Serialized values of at most this many bytes live inside the index instead of a file each, so
   * many small pairs do not cost a file each. `0` gives every value its own file. Default 64 KiB.
   */
  inlineThreshold?: number;
  /** The most entries the memory tier holds, whatever their size. Default and maximum 16,000,000. */
  maxEntries?: number;
  /**
   * Which values leave memory first when it is full: `'lru'`, the least recently used, or
   * `'sieve'`, the oldest not read again since the last sweep (SIEVE), which keeps a hot set in
   * memory through a scan of many keys read once. Default `'sieve'`.
   */
  eviction?: EvictionPolicy;
  /** A store to use instead of the default LMDB store at `path`. */
  store?: SyncStore;
  /**
   * Your promise that values are never changed in place once given to or read from the chest. By
   * default a value read from disk and then changed (an array pushed to, a field set) is written
   * back when it is spilled or flushed, which costs a serialization and a checksum of every clean
   * value that leaves memory or is flushed; `immutable: true` skips that work. Default `false`.
   */
  immutable?: boolean;
  /**
   * Bytes the chest may store on disk (values, keys and their records; see docs/RELIABILITY.md): a
   * number or a string such as `'10 GB'`. Past it a write fails with `CHEST_DISK_FULL` and nothing
   * is lost, or with `onDiskFull: 'evict'` the least recently used entries are dropped. Default: no limit.
   */
  availableDisk?: number | string;
  /** What a write past `availableDisk` does: `'fail'` (default) or `'evict'` (a cache). */
  onDiskFull?: 'fail' | 'evict';
  /** Called with the keys evicted from disk to stay within `availableDisk`. */
  onEvict?: (keys: K[]) => void;
  /**
   * Opens an existing chest for reading only: `set`, `delete`, `clear` and the like throw
   * `CHEST_READ_ONLY`, and nothing in the directory is changed. Needs `path`.
   */
  readOnly?: boolean;
  /**
   * Makes every `set`, `delete` and `compute` durable before it returns: the value is written to the
   * store and synced to disk, and other processes see it at once. For a chest shared by processes
   * as a place to exchange data. Costs a synced commit per call (see docs/ARCHITECTURE.md).
   * Default `false`: writes stay in memory until they are spilled, flushed or the chest is closed.
   */
  durable?: boolean;
}

/**
 * Counters since the chest was opened.
 *
 * @example
 * ```ts
 * import { Chest, type ChestStats } from 'spillchest';
 *
 * using chest = new Chest<string, string>({ availableMemory: 0 }); // no memory: every value spills
 * chest.set('a', 'on disk at once');
 * chest.get('a');
 * const stats: ChestStats = chest.stats;
 * console.log(stats.spills, stats.misses); // 1 1
 * ```
 */
export interface ChestStats {
  /** `get`s answered from memory. */
  readonly hits: number;
  /** `get`s that had to look in the store. */
  readonly misses: number;
  /** Entries moved out of memory into the store. */
  readonly spills: number;
  /** Values read from the store. */
  readonly loads: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/**
 * A `Map` that keeps at most `availableMemory` bytes of values in memory and the rest on disk.
 *
 * Keys are compared by value: strings, numbers, bigints, booleans, `null`, `undefined`, `Date`s and
 * arrays (tuples) of these. Values may be anything the serializer handles; binary values are stored
 * as their raw bytes. When memory is full, the values the eviction policy picks (SIEVE by default)
 * spill to disk, and come back on the next `get`. `flush()` makes everything durable; a chest with
 * a `path` reopens with its data.
 *
 * @example
 * ```ts
 * import { Chest } from 'spillchest';
 *
 * using chest = new Chest<string, number[]>({ availableMemory: '64 MB' });
 * chest.set('x', [1, 2, 3]);
 * console.log(chest.get('x')); // [ 1, 2, 3 ]
 * ```
 */
export class Chest<K extends Key = Key, V = unknown> extends Map<K, V> {
  private tier: MemoryTier<K, V>;
  private store: SyncStore;
  private readonly codec: ValueCodec;
  private readonly sizeOfValue: (value: V, key: K) => number;
  private readonly naming: (key: K) => string;
  private readonly checkName: ((key: K) => void) | undefined;
  private readonly onMiss: ((key: K) => void) | undefined;
  private readonly onOverflow: ((key: K) => void) | undefined;
  private readonly userOnEvict: ((keys: K[]) => void) | undefined;
  private readonly inlineThreshold: number;
  private readonly immutable: boolean;
  private readonly readOnly: boolean;
  private readonly durable: boolean;
  private coherence: Coherence;
  private readonly counters: Counters = {
    hits: 0,
    misses: 0,
    spills: 0,
    loads: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };
  private readonly disk: DiskOptions;
  private dir: string;
  private temporary: boolean;
  private closed = false;
  /** Set while a `compute` function runs: it must not write to this chest, nor close it. */
  private computing = false;
  private dropped = false;
  /** Batches handed to the spill thread and not yet settled, by ticket: their entries, to take back if they fail. */
  private readonly behind = new Map<number, BehindBatch<K, V>>();
  /** Entries `takeFromFlight` took back into memory, by the ticket of the batch they came from. */
  private readonly takenBack = new Map<number, TakenBack<V>[]>();
  /** The keys of those batches: a miss on one of them takes it back, on any other reads the store at once. */
  private readonly inFlight = new InFlightKeys();
  /** Entries this chest's `set`s have spilled without the spill thread (see `SPILL_THREAD_AFTER`). */
  private spilledHere = 0;
  private readonly spillThreadAfter = spillThreadAfter();

  constructor(options: ChestOptions<K, V> = {}) {
    super();
    const resolved = resolveOptions(options, (keys) => {
      this.evicted(keys);
    });
    // Types keep an AsyncStore out; from JavaScript one would fail later with misleading errors.
    const given = options.store as { features?: { sync?: unknown } } | undefined;
    if (given !== undefined && given.features?.sync !== true) {
      throw new TypeError(
        `Chest needs a synchronous store (features.sync true), and this ${storeName(given)} is not one: open it with AsyncChest`,
      );
    }
    this.inlineThreshold = resolved.inlineThreshold;
    this.naming = resolved.naming;
    // File names are the default store's: another store never asks for one.
    this.checkName = options.store === undefined ? resolved.checkName : undefined;
    this.sizeOfValue = resolved.sizeOf;
    this.onMiss = resolved.onMiss;
    this.onOverflow = resolved.onOverflow;
    this.userOnEvict = resolved.onEvict;
    this.readOnly = resolved.readOnly;
    this.durable = resolved.durable;
    this.immutable = resolved.immutable;
    this.tier = new MemoryTier<K, V>(resolved.budget, resolved.maxEntries, resolved.eviction);
    this.disk = resolved.disk;

    this.temporary = options.path === undefined && options.store === undefined;
    this.dir = options.store?.location ?? path.resolve(options.path ?? makeTemporaryDir());
    // A new chest's serializer is checked before its directory is made.
    if (options.store === undefined && !this.temporary && !holdsChest(this.dir))
      checkNewSerializer(options, true);
    this.store = options.store ?? this.openStore(this.dir);
    try {
      const meta = this.store.readMeta();
      const kept = !this.temporary && this.store.features.persistent;
      const serializer = serializerFor(meta, options, this.dir, kept);
      this.codec = valueCodec(serializer, resolveCompression(options.compress), this.store.structures);
      if (meta === undefined) {
        if (this.readOnly) throw new ChestError(ErrorCode.NOT_A_CHEST, `${this.dir} holds no chest`);
        this.store.writeMeta(newMeta(this.codec));
      } else if (!this.readOnly) {
        const upgraded = upgradedMeta(meta);
        if (upgraded !== undefined) this.store.writeMeta(upgraded);
      }
    } catch (error) {
      this.store.close();
      if (this.temporary) fs.rmSync(this.dir, { recursive: true, force: true });
      throw error;
    }
    this.coherence = new Coherence(this.store.changes);
    trackOpen(this, this.temporary);
  }

  /** The chest's directory (or its store's location). */
  get path(): string {
    return this.dir;
  }

  /** Bytes accounted in the memory tier: each value's `sizeOf` plus 64 bytes of bookkeeping. */
  get memoryUsage(): number {
    return this.tier.bytes;
  }

  /** The memory budget in bytes. Setting it (a number or a string such as `'1 GB'`) spills at once when lowered. */
  get availableMemory(): number {
    return this.tier.budget;
  }

  set availableMemory(value: MemorySize) {
    this.tier.budget = parseMemorySize(value);
    this.assertOpen();
    this.shrink();
  }

  get stats(): ChestStats {
    return { ...this.counters };
  }

  override get [Symbol.toStringTag](): string {
    return 'Chest';
  }

  override toString(): string {
    return `Chest(${this.dir})`;
  }

  override get(key: K): V | undefined {
    this.checkOpen();
    const id = keyIdentity(key);
    let slot = this.tier.find(id);
    if (slot === 0 && this.behind.size > 0) {
      // Others' commits first (which waits for the batches in flight once per event-loop turn), and
      // the batches finished since let go: a committed batch's keys are read from the store, where
      // another process may have replaced them.
      this.coherence.catchUp();
      if (this.settleBehind(false)) {
        if (this.tier.overBudget) this.shrinkAfterRead();
        slot = this.tier.find(id);
      }
      const taken = slot === 0 && this.behind.size > 0 ? this.takeFromFlight(id) : NOT_IN_FLIGHT;
      if (taken !== NOT_IN_FLIGHT) {
        this.counters.hits++;
        return taken;
      }
    }
    if (slot !== 0 && !this.coherence.settled(slot)) slot = this.revalidate(slot, key);
    if (slot !== 0) {
      this.tier.touch(slot);
      this.counters.hits++;
      // A tombstone's value is undefined, which is what a deleted key gives.
      return this.tier.value(slot);
    }
    this.counters.misses++;
    this.onMiss?.(key);
    return this.load(key, true);
  }

  override has(key: K): boolean {
    this.assertOpen();
    let slot = this.tier.find(keyIdentity(key));
    if (slot !== 0 && !this.coherence.settled(slot)) slot = this.revalidate(slot, key);
    if (slot !== 0) return (this.tier.flags(slot) & Flag.DELETED) === 0;
    this.coherence.catchUp();
    return this.store.has(encodeKey(key));
  }

  override set(key: K, value: V): this {
    // Batches in flight stay so: a key of one set again gets a new entry in memory, which wins.
    this.assertWritable(false);
    const id = keyIdentity(key);
    assertKeyFits(key, id, this.store.features.maxKeyBytes);
    this.checkName?.(key);
    const size = this.sizeOfValue(value, key);
    const slot = this.tier.find(id);
    if (this.durable) {
      this.setDurably(key, id, value, size, slot);
      return this;
    }
    if (size > this.tier.budget && this.writeThrough(key, value, slot)) return this;
    if (slot !== 0) this.tier.replace(slot, value, size);
    else this.coherence.confirm(this.tier.add(id, key, value, size, Flag.DIRTY | Flag.DISK_UNKNOWN));
    if (this.tier.overBudget) this.shrink(true);
    return this;
  }

  /**
   * Deletes a key. A key the store holds leaves a tombstone in memory, and the store's copy goes with
   * the next spill or flush, in one transaction with others.
   */
  override delete(key: K): boolean {
    this.assertWritable();
    const id = keyIdentity(key);
    const slot = this.tier.find(id);
    if (this.durable) return this.deleteDurably(key, slot);
    if (slot !== 0) {
      const flags = this.tier.flags(slot);
      if ((flags & Flag.DELETED) !== 0) return false;
      // While others write, a key this chest has not stored may have been stored by them since.
      const stored =
        (flags & (Flag.ON_DISK | Flag.DISK_UNKNOWN)) !== 0 || (this.coherence.watching && this.storeHas(key));
      if (!stored) this.tier.remove(slot);
      else this.tier.bury(slot, sizeOfKey(key));
      return true;
    }
    this.coherence.catchUp();
    if (!this.store.has(encodeKey(key))) return false;
    this.coherence.confirm(
      this.tier.add(id, key, undefined as V, sizeOfKey(key), Flag.DIRTY | Flag.DELETED | Flag.ON_DISK),
    );
    if (this.tier.overBudget) this.shrink();
    return true;
  }

  override clear(): void {
    this.assertWritable();
    this.tier.clear();
    this.store.clear();
    if (this.durable) this.store.flush();
  }

  /** Number of entries, in memory and on disk. Exact, without a scan. */
  override get size(): number {
    this.assertOpen();
    this.resolveUnknown();
    return this.store.count() + this.tier.memoryOnly - this.tier.buried;
  }

  /**
   * Every key once: first those held only in memory, then those in the store. Keys set during the
   * iteration may or may not be seen; keys deleted during it may still be yielded by `keys()`, never
   * by `entries()`, `values()` or `forEach`.
   *
   * With a query, only the keys that match its `prefix`, `start` (inclusive) and `end` (exclusive),
   * in key order, at most `limit` of them: a range read of the index, loading no values. Keys not on
   * disk yet are merged in at their place.
   *
   * @example
   * ```ts
   * import { Chest } from 'spillchest';
   *
   * using chest = new Chest<[string, number], string>();
   * chest.set(['user', 2], 'b').set(['user', 1], 'a').set(['team', 1], 'c');
   * console.log([...chest.keys({ prefix: ['user'] })]); // [['user', 1], ['user', 2]]
   * ```
   */
  override *keys(query?: KeyQuery): MapIterator<K> {
    this.assertOpen();
    if (query !== undefined) {
      // Reads the store as of now, with others' latest commits.
      this.coherence.catchUp();
      yield* orderedKeys(this.tier, this.store, query);
      return;
    }
    this.resolveUnknown();
    const memoryOnly = new Set<unknown>();
    const pending: K[] = [];
    for (const slot of this.tier.all()) {
      if ((this.tier.flags(slot) & (Flag.ON_DISK | Flag.DELETED)) === 0) {
        const key = this.tier.key(slot);
        memoryOnly.add(keyIdentity(key));
        pending.push(ownKey(key));
      }
    }
    yield* pending;
    for (const encoded of this.store.keys()) {
      const key = decodeKey(encoded) as K;
      const id = keyIdentity(key);
      if (memoryOnly.has(id)) continue;
      const slot = this.tier.find(id);
      if (slot === 0 || (this.tier.flags(slot) & Flag.DELETED) === 0) yield key;
    }
  }

  /** Every entry once, as `keys()` orders them; with a query, the matching entries in key order. */
  override *entries(query?: KeyQuery): MapIterator<[K, V]> {
    for (const key of this.keys(query)) {
      // A set during the iteration may have handed the key to the spill thread.
      if (this.behind.size > 0) this.settleAndFit();
      let slot = this.tier.find(keyIdentity(key));
      if (slot !== 0 && !this.coherence.settled(slot)) slot = this.revalidate(slot, key);
      if (slot !== 0) {
        if ((this.tier.flags(slot) & Flag.DELETED) === 0) yield [key, this.tier.value(slot)];
        continue;
      }
      const stored = this.read(key);
      if (stored !== undefined) yield [key, this.decode(key, stored, true)];
    }
  }

  /** Every value once; with a query, the values of the matching keys in key order. */
  override *values(query?: KeyQuery): MapIterator<V> {
    for (const [, value] of this.entries(query)) yield value;
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  override forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  /**
   * Replaces a key's value with `fn(current)` atomically and returns the new value; `undefined` from
   * `fn` deletes the key. No other process or chest writes the key between the read and the write,
   * so eight processes incrementing one counter with `compute` end with the exact sum. The result is
   * committed before `compute` returns, so other processes see it at once. `fn` runs while the
   * store's write lock is held: keep it short, and do not use the chest from inside it.
   *
   * ```ts
   * chest.compute('visits', (n) => (n ?? 0) + 1);
   * ```
   */
  compute(key: K, fn: (current: V | undefined) => V | undefined): V | undefined {
    this.assertWritable();
    const id = keyIdentity(key);
    this.checkName?.(key);
    const slot = this.tier.find(id);
    const flags = slot === 0 ? 0 : this.tier.flags(slot);
    let result: V | undefined;
    let written: StoredValue | undefined;
    try {
      this.store.modify(encodeKey(key), (stored) => {
        let current: V | undefined;
        // A value set here and not yet written is newer than the store's: it is this chest's latest.
        if ((flags & Flag.DIRTY) !== 0)
          current = (flags & Flag.DELETED) !== 0 ? undefined : this.tier.value(slot);
        else current = stored === undefined ? undefined : this.decode(key, stored, false);
        this.computing = true;
        try {
          result = fn(current);
        } finally {
          this.computing = false;
        }
        written = result === undefined ? undefined : this.codec.encode(result);
        return written;
      });
    } catch (error) {
      // The encoding may have recorded new record structures in the transaction just rolled back.
      this.codec.records?.reload();
      throw error;
    }
    if (slot !== 0) this.tier.remove(slot);
    if (written !== undefined) {
      this.counters.bytesWritten += written.data.byteLength;
      const value = result as V;
      const size = this.sizeOfValue(value, key);
      if (size <= this.tier.budget) {
        const added = this.tier.add(id, key, value, size, Flag.ON_DISK);
        this.coherence.remember(added, this.coherence.lastCommit);
        if (!this.immutable) this.tier.setChecksum(added, crc32(written.data));
        if (this.tier.overBudget) this.shrink();
      }
    }
    if (this.durable) this.store.flush();
    return result;
  }

  /**
   * Reads every entry the store holds and checks it (checksums, value files), and looks for files no
   * entry refers to. Damage is reported, never thrown; values held only in memory are not looked at.
   */
  verify(options?: MaintenanceOptions): VerifyReport<K> {
    this.assertOpen();
    return verifyStore(this.store, options).report as VerifyReport<K>;
  }

  /**
   * Drops the stored entries whose data is gone or damaged, and removes orphan files. A dropped key
   * whose value this chest still holds in memory keeps it, and writes it again with the next spill
   * or flush.
   */
  repair(options: MaintenanceOptions = {}): RepairReport<K> {
    this.assertWritable();
    return repairStore(this.store, options, (key) => {
      this.forgetStored(key as K);
    }) as RepairReport<K>;
  }

  /**
   * Writes what is in memory, removes orphan files and rewrites the index without its free space.
   * Needs the chest to be open nowhere else (`CHEST_LOCKED` otherwise).
   */
  compact(options: MaintenanceOptions = {}): CompactReport {
    this.assertWritable();
    this.flush();
    options.onProgress?.(0, 1);
    const report = compactStore(this.store);
    // The store reopened its index, and with it the feed of others' changes.
    this.rewatch();
    options.onProgress?.(1, 1);
    return report;
  }

  /** True when the key's value is held in memory (chest's `key in c.inmem`). */
  inMemory(key: K): boolean {
    this.assertOpen();
    const slot = this.tier.find(keyIdentity(key));
    return slot !== 0 && (this.tier.flags(slot) & Flag.DELETED) === 0;
  }

  /**
   * Full path of the file that holds (or would hold) the key's value. Values below
   * `inlineThreshold` live in the index and have no file of their own.
   */
  keyToFilename(key: K): string {
    this.assertOpen();
    return this.store.info(encodeKey(key))?.file ?? path.join(this.dir, this.naming(key));
  }

  /**
   * Writes every value that is not on disk yet, then makes the store durable. Values stay in memory.
   * Values that cannot be serialized stay in memory and are named by the `CHEST_UNSERIALIZABLE`
   * error thrown after everything else is written.
   */
  flush(): void {
    this.assertOpen();
    this.assertNotComputing();
    const failed = this.writeDirty(this.tier.all(), false);
    this.store.flush();
    if (failed.length > 0) throw unserializable(failed);
  }

  /**
   * Moves values out of memory into the store: the given keys, or all of them (chest's
   * `move_to_disk`). Values that cannot be serialized stay in memory, as with `flush()`.
   */
  spill(keys?: Iterable<K>): void {
    this.assertOpen();
    this.assertNotComputing();
    const slots: number[] = [];
    if (keys === undefined) slots.push(...this.tier.all());
    else {
      for (const key of keys) {
        const slot = this.tier.find(keyIdentity(key));
        if (slot !== 0) slots.push(slot);
      }
    }
    const failed = this.writeDirty(slots, true);
    if (failed.length > 0) throw unserializable(failed);
  }

  /** Loads keys into memory ahead of use (chest's `prefetch`); the last one ends most recent. */
  prefetch(keys: Iterable<K>): void {
    this.assertOpen();
    for (const key of keys) {
      const id = keyIdentity(key);
      const slot = this.tier.find(id);
      if (slot !== 0) {
        if ((this.tier.flags(slot) & Flag.DELETED) === 0) this.tier.touch(slot);
      } else if (this.behind.size === 0 || this.takeFromFlight(id) === NOT_IN_FLIGHT) this.load(key, true);
    }
  }

  /**
   * Copies every entry of `other` into this chest (chest's `update`). From another chest on the
   * default store with the same serializer, value files are hard-linked instead of copied where the
   * file system allows. With `overwrite: false`, keys this chest has already keep their values.
   */
  update(other: Iterable<readonly [K, V]> | Map<K, V>, options: { overwrite?: boolean } = {}): this {
    this.assertOpen();
    this.assertWritable();
    const overwrite = booleanOption(options.overwrite, 'overwrite', true);
    if (other instanceof Chest && this.linkFrom(other as Chest<K, V>, overwrite)) return this;
    for (const [key, value] of other) {
      if (overwrite || !this.has(key)) this.set(key, value);
    }
    return this;
  }

  /**
   * Flushes and moves the chest to `newPath` (which must not exist), reopening it there. A temporary
   * chest that is moved becomes a permanent one. Refused with `CHEST_LOCKED` while another chest, in
   * this process or another, has it open.
   */
  move(newPath: string): void {
    this.assertWritable();
    if (!(this.store instanceof LmdbStore))
      throw new TypeError('only a chest on its default store can be moved');
    const target = path.resolve(newPath);
    if (fs.existsSync(target)) throw new TypeError(`cannot move ${this.dir}: ${target} already exists`);
    if (target.startsWith(this.dir + path.sep))
      throw new TypeError(`cannot move ${this.dir} into a folder of its own (${target})`);
    // Other chests on this folder would go on writing to a path that no longer holds it.
    this.store.assertSoleUser('move');
    this.flush();
    this.store.close();
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.renameSync(this.dir, target);
    } catch (error) {
      this.store = this.openStore(this.dir);
      this.rewatch();
      throw error;
    }
    if (this.temporary) {
      forgetTemporary(this.dir);
      // Kept now: held until closed, so that it is flushed at exit.
      untrackOpen(this);
      trackOpen(this, false);
    }
    this.temporary = false;
    this.dir = target;
    this.store = this.openStore(target);
    this.rewatch();
  }

  /**
   * Writes what is in memory, makes it durable and releases the store. A temporary chest is removed
   * instead. Idempotent. Throws, after closing, if the final flush failed (values that could not be
   * serialized, a full disk): what it could not write is not on disk and is gone with the close, so
   * call `flush()` first where such a failure must be handled with the chest still open.
   */
  close(): void {
    if (this.closed) return;
    this.assertNotComputing();
    let failure: Error | undefined;
    if (!this.temporary) {
      try {
        this.flush();
      } catch (error) {
        failure = closeFailure(error);
      }
    }
    this.release();
    if (failure !== undefined) throw failure;
  }

  /**
   * Deletes the chest and its directory from disk and closes it (chest's `drop`). Again after a drop
   * it does nothing; after a `close()` it throws `CHEST_CLOSED` (open the chest again to drop it).
   */
  drop(): void {
    if (this.dropped || (this.closed && this.temporary)) return;
    // A closed chest's folder may be open elsewhere by now; dropping must go through an open chest.
    if (this.closed)
      throw new ChestError(ErrorCode.CLOSED, `${this.toString()} is closed: open it again to drop it`);
    this.assertNotComputing();
    if (this.readOnly) throw new ChestError(ErrorCode.READ_ONLY, `${this.toString()} is open read-only`);
    this.release();
    this.dropped = true;
    if (this.store instanceof LmdbStore) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [inspect.custom](): string {
    if (this.closed) return `Chest(${this.dir}) <closed>`;
    return `Chest(${this.dir}) { size: ${this.size}, inMemory: ${this.tier.count}, memoryUsage: ${this.memoryUsage} }`;
  }

  /** True once closed or dropped. */
  get isClosed(): boolean {
    return this.closed;
  }

  private openStore(dir: string): LmdbStore {
    const { inlineThreshold, naming, readOnly, disk } = this;
    return openLmdbStore(dir, { inlineThreshold, naming, readOnly, ...disk });
  }

  /**
   * A memory hit while others may have written to the store: the slot if its value is still the
   * latest (or is this chest's own unwritten change), else 0, the stale slot removed.
   */
  private revalidate(slot: number, key: K): number {
    const coherence = this.coherence;
    if (
      coherence.fresh(slot) ||
      (this.tier.flags(slot) & Flag.DIRTY) !== 0 ||
      coherence.storedVersion(encodeKey(key)) === coherence.stamp(slot)
    ) {
      coherence.confirm(slot);
      return slot;
    }
    this.tier.remove(slot);
    return 0;
  }

  private storeHas(key: K): boolean {
    this.coherence.catchUp();
    return this.store.has(encodeKey(key));
  }

  /** `set` of a durable chest: written and synced before it returns; nothing changes if that fails. */
  private setDurably(key: K, id: unknown, value: V, size: number, slot: number): void {
    const stored = this.codec.encode(value);
    this.store.write([{ type: 'put', key: encodeKey(key), value: stored }]);
    const stamp = this.coherence.lastCommit;
    this.store.flush();
    this.counters.bytesWritten += stored.data.byteLength;
    if (slot !== 0) this.tier.remove(slot);
    if (size > this.tier.budget) {
      this.counters.spills++;
      this.onOverflow?.(key);
      return;
    }
    const added = this.tier.add(id, key, value, size, Flag.ON_DISK);
    this.coherence.remember(added, stamp);
    if (!this.immutable) this.tier.setChecksum(added, crc32(stored.data));
    if (this.tier.overBudget) this.shrink();
  }

  /** `delete` of a durable chest: committed and synced before it returns. */
  private deleteDurably(key: K, slot: number): boolean {
    let existed = false;
    if (slot !== 0) {
      existed = (this.tier.flags(slot) & Flag.DELETED) === 0;
      this.tier.remove(slot);
    }
    if (this.store.delete(encodeKey(key))) existed = true;
    this.store.flush();
    return existed;
  }

  /** After the store was reopened: memory hits are checked against it once each. */
  private rewatch(): void {
    this.coherence.close();
    this.coherence = new Coherence(this.store.changes);
  }

  /** Reads a key from the store and keeps it in memory when `cache` and it fits. */
  private load(key: K, cache: boolean): V | undefined {
    this.coherence.catchUp();
    const stored = this.read(key);
    if (stored === undefined) return undefined;
    return this.decode(key, stored, cache);
  }

  /**
   * For a key not in memory while batches are in flight to the spill thread: if one of them holds
   * it, its newest value (or deletion) comes back into memory without waiting for the batch, and
   * that value (undefined for a deletion) is returned. It comes back unwritten, so that a failed
   * batch loses nothing (`takeBack` leaves keys in memory alone); once the batch has committed,
   * `committedBack` marks it as stored, as if read from the store, so that it is not written twice:
   * a second write could replace what another process stored in between. `NOT_IN_FLIGHT` when no
   * batch holds the key: then the store may be read for it at once (`read`).
   */
  private takeFromFlight(id: unknown): V | undefined | typeof NOT_IN_FLIGHT {
    const entry = this.inFlight.find(id);
    if (entry === undefined) return NOT_IN_FLIGHT;
    const { keys, values, sizes, deleted } = this.behind.get(entry.ticket)!;
    const i = entry.index;
    const flags = Flag.DIRTY | Flag.DISK_UNKNOWN | (deleted[i] ? Flag.DELETED : 0);
    const value = values[i];
    const slot = this.tier.add(id, keys[i]!, value as V, sizes[i]!, flags);
    this.coherence.confirm(slot);
    const taken = this.takenBack.get(entry.ticket);
    const record = { slot, id, value, index: i };
    if (taken === undefined) this.takenBack.set(entry.ticket, [record]);
    else taken.push(record);
    if (this.tier.overBudget) this.shrinkAfterRead(true);
    return value;
  }

  /**
   * The batch `ticket` committed as transaction `txn`: the entries taken back from it that memory
   * still holds as they were taken (the same value, unwritten since) are the store's copy now.
   */
  private committedBack(ticket: number, batch: BehindBatch<K, V>, txn: number): void {
    const taken = this.takenBack.get(ticket);
    if (taken === undefined) return;
    this.takenBack.delete(ticket);
    const tier = this.tier;
    for (const { slot, id, value, index } of taken) {
      if (tier.find(id) !== slot || tier.value(slot) !== value) continue;
      const flags = tier.flags(slot);
      if ((flags & Flag.DIRTY) === 0) continue;
      const deleted = (flags & Flag.DELETED) !== 0;
      if (deleted !== batch.deleted[index]) continue;
      // Only flags change, so that this is safe in the middle of a spill. A tombstone whose delete
      // is stored writes nothing more (`Flag.DELETED`).
      tier.setFlags(slot, deleted ? Flag.DELETED : Flag.ON_DISK);
      if (!deleted && !this.immutable) tier.setChecksum(slot, batch.sums[index]!);
      this.coherence.remember(slot, txn);
    }
  }

  /**
   * The store's copy of a key; damage is reported naming the key. With batches in flight, only for
   * a key `takeFromFlight` found in none of them: their commits cannot change its entry, so it is
   * read without waiting for them.
   */
  private read(key: K): StoredValue | undefined {
    try {
      const encoded = encodeKey(key);
      const store = this.store;
      return this.behind.size > 0 && store instanceof LmdbStore
        ? store.getBeside(encoded)
        : store.get(encoded);
    } catch (error) {
      throw namingKey(error, key, describeKey(key));
    }
  }

  private decode(key: K, stored: StoredValue, cache: boolean): V {
    const value = decodeStored(this.codec, key, stored) as V;
    this.counters.loads++;
    this.counters.bytesRead += stored.data.byteLength;
    if (!cache) return value;
    const size = this.sizeOfValue(value, key);
    if (size <= this.tier.budget) {
      const slot = this.tier.add(keyIdentity(key), key, value, size, Flag.ON_DISK);
      this.coherence.remember(slot, typeof stored.version === 'number' ? stored.version : 0);
      if (!this.immutable) this.tier.setChecksum(slot, stored.checksum ?? crc32(stored.data));
      if (this.tier.overBudget) this.shrinkAfterRead(this.spilledHere >= this.spillThreadAfter);
    }
    return value;
  }

  /** A value too large for the whole budget goes straight to the store. False if it cannot be serialized. */
  private writeThrough(key: K, value: V, slot: number): boolean {
    let stored: StoredValue;
    try {
      stored = this.codec.encode(value);
    } catch (error) {
      if (isChestError(error, ErrorCode.UNSERIALIZABLE)) return false;
      throw error;
    }
    this.settleBehind();
    this.store.write([{ type: 'put', key: encodeKey(key), value: stored }]);
    this.counters.bytesWritten += stored.data.byteLength;
    this.counters.spills++;
    if (slot !== 0) this.tier.remove(slot);
    this.onOverflow?.(key);
    return true;
  }

  /**
   * A read must not fail because the disk is full: the spill it causes is tried, and on failure
   * memory stays over budget until the next write, which reports the error. With `behind`, through
   * the spill thread where it can take the spill: only once `set`s have started it (a chest that
   * only reads never starts a thread; its evictions are mostly clean values, which write nothing).
   */
  private shrinkAfterRead(behind = false): void {
    try {
      this.shrink(behind);
    } catch (error) {
      if (!isSpillFailure(error)) throw error;
    }
  }

  /**
   * Spills the entries the eviction policy picks until the tier is under its limits; with
   * `behind` (a `set`, or a read once sets have started the thread), through the spill thread
   * where it can take them.
   */
  private shrink(behind = false): void {
    if (!this.tier.overBudget) return;
    const victims = this.tier.victims();
    const writer = behind ? this.spillWriter() : undefined;
    if (writer === undefined) {
      if (behind) this.spilledHere += victims.length;
      this.writeDirty(victims, true);
      return;
    }
    const leftover = spillBehind(
      this.spillContext(),
      writer,
      victims,
      this.inlineThreshold,
      (ticket, batch) => {
        this.behind.set(ticket, batch);
        this.inFlight.add(ticket, batch.keys);
      },
    );
    // Collected without waiting: a failed batch's entries are back in memory at once, and are
    // written on this thread, which reports what is wrong.
    this.settleBehind(false);
    if (leftover.length > 0) this.writeDirty(leftover, true);
    if (this.tier.overBudget) this.writeDirty(this.tier.victims(), true);
  }

  /** The spill thread, when this chest may hand it a spill now. */
  private spillWriter(): WriteBehind | undefined {
    // Alone on its path: a chest that others write beside checks every commit it sees, and the
    // thread's are best seen as its own at once. Durable writes are synced by the `set` itself.
    if (this.durable || this.coherence.watching || !(this.store instanceof LmdbStore)) return undefined;
    if (this.spilledHere < this.spillThreadAfter) return undefined;
    return this.store.spillWriter();
  }

  /**
   * Settles the batches handed to the spill thread (all of them, or with `wait` false those
   * finished): a committed batch is done with, a failed one's entries come back into memory as
   * unwritten, to be written by this thread, whose write reports what is wrong.
   */
  private settleBehind(wait = true): boolean {
    if (this.behind.size === 0 || !(this.store instanceof LmdbStore)) return false;
    const failed: BehindBatch<K, V>[] = [];
    let outcomes = this.store.settleBehind(wait);
    // Every batch after a failed one fails too: all of them are taken back at once, newest first,
    // or a key's older value in an earlier batch would come back before its newer one.
    if (!wait && outcomes.some((outcome) => !outcome.ok))
      outcomes = outcomes.concat(this.store.settleBehind(true));
    for (const outcome of outcomes) {
      const batch = this.behind.get(outcome.ticket);
      this.behind.delete(outcome.ticket);
      this.inFlight.remove(outcome.ticket);
      if (batch === undefined) continue;
      if (outcome.ok) this.committedBack(outcome.ticket, batch, outcome.txn);
      else {
        // Entries taken back from it stay unwritten, to be written again.
        this.takenBack.delete(outcome.ticket);
        failed.push(batch);
      }
    }
    if (failed.length === 0) return false;
    takeBack(this.tier, failed, (slot) => {
      this.coherence.confirm(slot);
    });
    return true;
  }

  /**
   * `settleBehind` for a call about to read or write: entries taken back from a failed batch may
   * put memory over budget, and are spilled again at once, on this thread (as after a read, a
   * failure to write them is left for the next write to report).
   */
  private settleAndFit(): void {
    if (this.settleBehind() && this.tier.overBudget) this.shrinkAfterRead();
  }

  /**
   * Writes the entries among `slots` that the store does not hold as they are (dirty ones, and clean
   * ones changed in place since they were read) in batches, then marks them clean, or removes them
   * from memory when `evict`. Returns the keys that could not be serialized; those stay in memory.
   * If the store fails, nothing of the failed batch leaves memory.
   */
  private writeDirty(slots: readonly number[], evict: boolean): K[] {
    // The store takes writes in order: the spill thread's first (a failed batch's entries come
    // back into memory, where `slots` does not reach them; the next spill or flush writes them).
    this.settleBehind();
    const failed: K[] = [];
    const ctx = this.spillContext();
    const coherence = this.coherence;
    for (const batch of spillBatches(ctx, slots, failed)) {
      if (batch.ops.length > 0) this.store.write(batch.ops);
      // The version the batch's values were written as, for coherence with other writers.
      const stamp = coherence.lastCommit;
      settleBatch(ctx, batch, evict, (slot, written, stays) => {
        if (stays && written) coherence.remember(slot, stamp);
      });
    }
    return failed;
  }

  private spillContext(): SpillContext<K, V> {
    const { tier, codec, immutable, counters, onOverflow } = this;
    return { tier, codec, immutable, counters, onOverflow };
  }

  /**
   * Entries the store evicted for the disk quota. A copy in memory stays (flagged as held only
   * there, so a later spill writes it again): removing slots here could pull them from under a
   * spill that is running.
   */
  private evicted(encoded: Uint8Array[]): void {
    const keys = encoded.map((bytes) => decodeKey(bytes) as K);
    for (const key of keys) this.forgetStored(key);
    this.userOnEvict?.(keys);
  }

  /** The store no longer holds `key`: a copy in memory becomes the only one, to be written again. */
  private forgetStored(key: K): void {
    forgetStored(this.tier, keyIdentity(key));
  }

  /**
   * Finds out, for entries added since the store was last consulted, whether the store has them.
   * After others committed, that is found out again for every entry this chest changed.
   */
  private resolveUnknown(): void {
    if (this.coherence.takeForeignChanges()) {
      for (const slot of this.tier.all()) {
        const flags = this.tier.flags(slot);
        if ((flags & Flag.DIRTY) !== 0) this.tier.setFlags(slot, (flags & ~Flag.ON_DISK) | Flag.DISK_UNKNOWN);
      }
    }
    if (this.tier.unknown === 0) return;
    for (const slot of this.tier.all()) {
      const flags = this.tier.flags(slot);
      if ((flags & Flag.DISK_UNKNOWN) === 0) continue;
      const onDisk = this.store.has(encodeKey(this.tier.key(slot)));
      if (!onDisk && (flags & Flag.DELETED) !== 0) this.tier.remove(slot);
      else this.tier.setFlags(slot, (flags & ~Flag.DISK_UNKNOWN) | (onDisk ? Flag.ON_DISK : 0));
    }
  }

  /** Imports from another chest on the default store by linking files; false when that cannot be done. */
  private linkFrom(other: Chest<K, V>, overwrite: boolean): boolean {
    if (!(this.store instanceof LmdbStore) || !(other.store instanceof LmdbStore) || other === this)
      return false;
    if (!sameFormat(other.codec.serializer, this.codec.serializer)) return false;
    other.flush();
    // Its records must mean the same here: else each value is read and written again.
    const { records } = other.codec;
    if (records !== undefined && this.codec.records?.adopt(records) !== true) return false;
    const keys: Uint8Array[] = [];
    for (const encoded of other.store.keys()) {
      const key = decodeKey(encoded) as K;
      if (!overwrite && this.has(key)) continue;
      const slot = this.tier.find(keyIdentity(key));
      if (slot !== 0) this.tier.remove(slot);
      keys.push(encoded);
    }
    this.store.importFrom(other.store, keys);
    return true;
  }

  private release(): void {
    this.closed = true;
    untrackOpen(this);
    this.coherence.close();
    this.tier.clear();
    try {
      this.store.close();
    } finally {
      if (this.temporary) {
        fs.rmSync(this.dir, { recursive: true, force: true });
        forgetTemporary(this.dir);
      }
    }
  }

  private assertWritable(settle = true): void {
    if (settle) this.assertOpen();
    else this.checkOpen();
    if (this.readOnly) throw new ChestError(ErrorCode.READ_ONLY, `${this.toString()} is open read-only`);
    this.assertNotComputing();
  }

  /**
   * A write from inside a `compute` function would land beside the one `compute` is making in the
   * same transaction, and the chest's memory would keep the wrong one; a close there would wait on
   * that transaction forever.
   */
  private assertNotComputing(): void {
    if (this.computing)
      throw new TypeError(`${this.toString()}: a compute function must not write to the chest or close it`);
  }

  /** Open, and nothing in flight to the spill thread: whatever follows sees the store whole. */
  private assertOpen(): void {
    this.checkOpen();
    if (this.behind.size > 0) this.settleAndFit();
  }

  private checkOpen(): void {
    if (this.closed) throw new ChestError(ErrorCode.CLOSED, `${this.toString()} is closed`);
  }
}

function spillThreadAfter(): number {
  const setting = process.env.SPILLCHEST_SPILL_THREAD;
  if (setting === '0') return Infinity;
  if (setting === '1') return 0;
  return SPILL_THREAD_AFTER;
}

/** A store's class name for an error message ('store' for an object without one). */
function storeName(store: object): string {
  const name = (store as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'store';
}
