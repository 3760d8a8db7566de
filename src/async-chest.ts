import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { crc32 } from './values/crc32.js';
import { ChestError, ErrorCode, isChestError, namingKey } from './errors.js';
import { decodeKey, encodeKey, keyIdentity, type KeyIdentity } from './keys/codec.js';
import { ownKey } from './keys/own.js';
import { assertKeyFits } from './keys/limits.js';
import type { Key } from './keys/types.js';
import { asyncStoreKeys, OrderedMerge, queryRange, type KeyQuery } from './query/ordered.js';
import { Flag, MemoryTier } from './memory/tier.js';
import { sizeOfKey } from './memory/size.js';
import { parseMemorySize, type MemorySize } from './options/memory.js';
import { resolveCompression } from './values/compression.js';
import type { ValueCodec } from './values/codec.js';
import { LmdbStore } from './stores/lmdb/store.js';
import { AsyncLmdbStore } from './stores/lmdb/async-store.js';
import { toAsyncStore } from './stores/async.js';
import type { AnyStore, AsyncStore, StoredValue, WriteOp } from './stores/types.js';
import { forgetTemporary, makeTemporaryDir } from './lifecycle.js';
import type { ChestOptions, ChestStats } from './chest.js';
import { resolveOptions } from './core/options.js';
import { holdsChest, openLmdbStore } from './core/open-lmdb.js';
import { checkNewSerializer, newMeta, serializerFor, upgradedMeta, valueCodec } from './core/meta.js';
import { ReadWriteLock } from './core/lock.js';
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

/**
 * The options of `Chest`, with any store: a `SyncStore` or an `AsyncStore` (such as the Redis store).
 *
 * @example
 * ```ts
 * import { AsyncChest, type AsyncChestOptions } from 'spillchest';
 *
 * const options: AsyncChestOptions<string, number[]> = { availableMemory: '64 MB', serializer: 'msgpack' };
 * await using chest = await AsyncChest.open(options);
 * await chest.set('primes', [2, 3, 5, 7]);
 * ```
 */
export interface AsyncChestOptions<K extends Key, V> extends Omit<ChestOptions<K, V>, 'store'> {
  /** A store to use instead of the default LMDB store at `path`. */
  store?: AnyStore;
}

/** A value found, told apart from a key that is absent (a value may be `undefined` itself). */
interface Found<V> {
  readonly value: V;
}

/**
 * The Promise-based twin of `Chest`: the same memory tier, key codec, value codec and options, on
 * any store. Large values on the default LMDB store are read and written through `fs/promises`, so
 * disk I/O does not block the event loop.
 *
 * ```ts
 * await using chest = await AsyncChest.open<string, Float64Array>({ path: './data' });
 * await chest.set('x', new Float64Array(1e6));
 * await chest.get('x');
 * for await (const [key, value] of chest.entries()) console.log(key, value.length);
 * ```
 *
 * Calls are applied in the order they are made: a `get` issued after a `set` sees it, even if the
 * `set` was not awaited. Concurrent `get`s of one key that is not in memory load it once.
 *
 * On a store shared by several machines (`features.machines`, such as the Redis store), every `set`
 * and `delete` is written to the store before it resolves, and a `get` answered from memory first
 * checks with the store that its copy is still the latest (one small round trip), so a value written
 * on one machine is seen by the next `get` on every other.
 *
 * @example
 * ```ts
 * import { AsyncChest } from 'spillchest';
 *
 * await using chest = await AsyncChest.open<string, Float64Array>({ availableMemory: '16 MB' });
 * await chest.set('a', new Float64Array([1, 2, 3]));
 * console.log((await chest.get('a'))?.[2], await chest.size()); // 3 1
 * for await (const key of chest.keys()) console.log(key); // a
 * ```
 */
export class AsyncChest<K extends Key = Key, V = unknown> implements AsyncDisposable {
  private readonly tier: MemoryTier<K, V>;
  private readonly store: AsyncStore;
  private codec!: ValueCodec;
  private readonly opening: Promise<void>;
  private readonly lock = new ReadWriteLock();
  private readonly loading = new Map<KeyIdentity, Promise<Found<V> | undefined>>();
  /** For a shared store: the version of each value held in memory. */
  private readonly versions = new Map<KeyIdentity, string>();
  private readonly coherent: boolean;
  private readonly sizeOfValue: (value: V, key: K) => number;
  private readonly onMiss: ((key: K) => void) | undefined;
  private readonly onOverflow: ((key: K) => void) | undefined;
  private readonly userOnEvict: ((keys: K[]) => void) | undefined;
  private readonly immutable: boolean;
  private readonly readOnly: boolean;
  private readonly durable: boolean;
  /** Checks a custom `keyToFilename`'s name for a key at `set` (see `ResolvedOptions`). */
  private readonly checkName: ((key: K) => void) | undefined;
  private readonly counters: Counters = {
    hits: 0,
    misses: 0,
    spills: 0,
    loads: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };
  private readonly dir: string;
  private readonly temporary: boolean;
  private closed = false;
  private ready = false;

  /**
   * Opens the chest; the store's manifest is read in the background, and the first call waits for
   * it (and fails as it failed). `AsyncChest.open` waits for it at once.
   */
  constructor(options: AsyncChestOptions<K, V> = {}) {
    const resolved = resolveOptions(options, (keys) => {
      this.evicted(keys);
    });
    this.sizeOfValue = resolved.sizeOf;
    this.onMiss = resolved.onMiss;
    this.onOverflow = resolved.onOverflow;
    this.userOnEvict = resolved.onEvict;
    this.readOnly = resolved.readOnly;
    this.immutable = resolved.immutable;
    this.durable = resolved.durable;
    // File names are the default store's: another store never asks for one.
    this.checkName = options.store === undefined ? resolved.checkName : undefined;
    this.tier = new MemoryTier<K, V>(resolved.budget, resolved.maxEntries, resolved.eviction);
    this.temporary = options.path === undefined && options.store === undefined;
    this.dir = options.store?.location ?? path.resolve(options.path ?? makeTemporaryDir());
    const given = options.store;
    // A new chest's serializer is checked before its directory is made.
    if (given === undefined && !this.temporary && !holdsChest(this.dir)) checkNewSerializer(options, true);
    if (given === undefined) {
      const { inlineThreshold, naming, readOnly, disk } = resolved;
      this.store = new AsyncLmdbStore(
        openLmdbStore(this.dir, { inlineThreshold, naming, readOnly, ...disk }),
      );
    } else {
      this.store = given instanceof LmdbStore ? new AsyncLmdbStore(given) : toAsyncStore(given);
    }
    this.coherent = this.store.features.machines && this.store.version !== undefined;
    // Opening holds the lock, so every call made meanwhile waits for it, in order.
    this.opening = this.lock.write(() => this.start(options));
    // Reported by the first call; not an unhandled rejection when there is none.
    this.opening.catch(() => undefined);
  }

  /** Opens a chest and waits until it is ready, so that a bad store or manifest fails here. */
  static async open<K extends Key = Key, V = unknown>(
    options: AsyncChestOptions<K, V> = {},
  ): Promise<AsyncChest<K, V>> {
    const chest = new AsyncChest<K, V>(options);
    await chest.opening;
    return chest;
  }

  private async start(options: AsyncChestOptions<K, V>): Promise<void> {
    try {
      const meta = await this.store.readMeta();
      const kept = !this.temporary && this.store.features.persistent;
      const serializer = serializerFor<V>(meta, options, this.dir, kept);
      this.codec = valueCodec(serializer, resolveCompression(options.compress), this.store.structures);
      if (meta === undefined) {
        if (this.readOnly) throw new ChestError(ErrorCode.NOT_A_CHEST, `${this.dir} holds no chest`);
        await this.store.writeMeta(newMeta(this.codec));
      } else if (!this.readOnly) {
        const upgraded = upgradedMeta(meta);
        if (upgraded !== undefined) await this.store.writeMeta(upgraded);
      }
      this.ready = true;
    } catch (error) {
      this.closed = true;
      await this.store.close().catch(() => undefined);
      if (this.temporary) this.removeTemporary();
      throw error;
    }
  }

  /** The chest's directory (or its store's location). */
  get path(): string {
    return this.dir;
  }

  /** Bytes accounted in the memory tier: each value's `sizeOf` plus 64 bytes of bookkeeping. */
  get memoryUsage(): number {
    return this.tier.bytes;
  }

  /** The memory budget in bytes. */
  get availableMemory(): number {
    return this.tier.budget;
  }

  /** Sets the memory budget (a number or a string such as `'1 GB'`); lowering it spills at once. */
  async setAvailableMemory(value: MemorySize): Promise<void> {
    this.assertOpen();
    const budget = parseMemorySize(value);
    await this.exclusive(async () => {
      this.tier.budget = budget;
      await this.shrink();
    });
  }

  /** What the store declares it can do (shared by several machines, ordered keys, ...). */
  get features(): AsyncStore['features'] {
    return this.store.features;
  }

  get stats(): ChestStats {
    return { ...this.counters };
  }

  get [Symbol.toStringTag](): string {
    return 'AsyncChest';
  }

  toString(): string {
    return `AsyncChest(${this.dir})`;
  }

  [inspect.custom](): string {
    if (this.closed) return `AsyncChest(${this.dir}) <closed>`;
    return `AsyncChest(${this.dir}) { inMemory: ${this.tier.count}, memoryUsage: ${this.memoryUsage} }`;
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  async get(key: K): Promise<V | undefined> {
    this.assertOpen();
    const id = keyIdentity(key);
    if (this.ready && !this.coherent && !this.lock.writing) {
      const slot = this.tier.find(id);
      if (slot !== 0) {
        this.tier.touch(slot);
        this.counters.hits++;
        return this.tier.value(slot);
      }
    }
    return (await this.fetch(key, id, true))?.value;
  }

  async has(key: K): Promise<boolean> {
    this.assertOpen();
    return this.lock.read(async () => {
      await this.opening;
      this.assertOpen();
      const slot = this.tier.find(keyIdentity(key));
      if (slot !== 0 && !this.coherent) return (this.tier.flags(slot) & Flag.DELETED) === 0;
      return this.store.has(encodeKey(key));
    });
  }

  /** Sets a key's value; resolves to the chest. */
  async set(key: K, value: V): Promise<this> {
    this.assertWritable();
    const id = keyIdentity(key);
    assertKeyFits(key, id, this.store.features.maxKeyBytes);
    this.checkName?.(key);
    const size = this.sizeOfValue(value, key);
    await this.exclusive(async () => {
      this.assertWritable();
      const slot = this.tier.find(id);
      if (this.coherent || this.durable) return this.setThrough(key, id, value, size, slot);
      if (size > this.tier.budget && (await this.writeThrough(key, value, slot))) return;
      if (slot !== 0) this.tier.replace(slot, value, size);
      else this.tier.add(id, key, value, size, Flag.DIRTY | Flag.DISK_UNKNOWN);
      await this.shrink();
    });
    return this;
  }

  /** Deletes a key; true if it was there. */
  async delete(key: K): Promise<boolean> {
    this.assertWritable();
    const id = keyIdentity(key);
    return this.exclusive(async () => {
      this.assertWritable();
      const slot = this.tier.find(id);
      if (this.coherent || this.durable) {
        if (slot !== 0) this.tier.remove(slot);
        this.versions.delete(id);
        const existed = await this.store.delete(encodeKey(key));
        if (this.durable) await this.store.flush();
        return existed;
      }
      if (slot !== 0) {
        const flags = this.tier.flags(slot);
        if ((flags & Flag.DELETED) !== 0) return false;
        if ((flags & (Flag.ON_DISK | Flag.DISK_UNKNOWN)) === 0) this.tier.remove(slot);
        else this.tier.bury(slot, sizeOfKey(key));
        return true;
      }
      if (!(await this.store.has(encodeKey(key)))) return false;
      this.tier.add(id, key, undefined as V, sizeOfKey(key), Flag.DIRTY | Flag.DELETED | Flag.ON_DISK);
      await this.shrink();
      return true;
    });
  }

  /** Removes every entry (only this chest's, on a shared store). */
  async clear(): Promise<void> {
    this.assertWritable();
    await this.exclusive(async () => {
      this.tier.clear();
      this.versions.clear();
      await this.store.clear();
    });
  }

  /** Number of entries, in memory and in the store. */
  async size(): Promise<number> {
    this.assertOpen();
    return this.exclusive(async () => {
      await this.resolveUnknown();
      return (await this.store.count()) + this.tier.memoryOnly - this.tier.buried;
    });
  }

  /**
   * Every key once: first those held only in memory, then those in the store. Keys set during the
   * iteration may or may not be seen; keys deleted during it may still be yielded by `keys()`, never
   * by `entries()` or `values()`.
   *
   * With a query, as `Chest.keys(query)`: only the keys that match its `prefix`, `start` (inclusive)
   * and `end` (exclusive), in key order, at most `limit` of them. Keys not in the store yet are merged
   * in at their place. On an ordered store (LMDB) only the matching range is read; a store without
   * order (Redis) has every key listed, then filtered and sorted.
   *
   * @example
   * ```ts
   * import { AsyncChest } from 'spillchest';
   *
   * await using chest = await AsyncChest.open<[string, number], string>();
   * await chest.set(['user', 2], 'b');
   * await chest.set(['user', 1], 'a');
   * await chest.set(['team', 1], 'c');
   * for await (const key of chest.keys({ prefix: ['user'] })) console.log(key); // ['user', 1], then ['user', 2]
   * ```
   */
  async *keys(query?: KeyQuery): AsyncGenerator<K, void, undefined> {
    this.assertOpen();
    if (query !== undefined) {
      yield* this.orderedKeys(query);
      return;
    }
    const memoryOnly = new Set<unknown>();
    const pending = await this.exclusive(async () => {
      await this.resolveUnknown();
      const out: K[] = [];
      for (const slot of this.tier.all()) {
        if ((this.tier.flags(slot) & (Flag.ON_DISK | Flag.DELETED)) === 0) {
          const key = this.tier.key(slot);
          memoryOnly.add(keyIdentity(key));
          out.push(ownKey(key));
        }
      }
      return out;
    });
    for (const key of pending) {
      this.assertOpen();
      yield key;
    }
    for await (const encoded of this.storeKeys(this.store.keys())) {
      const key = decodeKey(encoded) as K;
      const id = keyIdentity(key);
      if (memoryOnly.has(id)) continue;
      const slot = this.tier.find(id);
      if (slot === 0 || (this.tier.flags(slot) & Flag.DELETED) === 0) yield key;
    }
  }

  /** `keys(query)`: the store's range merged with the keys held only in memory, as `Chest` does. */
  private async *orderedKeys(query: KeyQuery): AsyncGenerator<K, void, undefined> {
    const range = queryRange(query);
    // Taken once the calls made before this one have applied.
    const merge = await this.exclusive(() =>
      Promise.resolve(new OrderedMerge(this.tier, range, query.limit)),
    );
    if (merge.done) return;
    for await (const encoded of this.storeKeys(asyncStoreKeys(this.store, range))) {
      for (const key of merge.upTo(encoded)) {
        this.assertOpen();
        yield key;
      }
      if (merge.done) return;
    }
    for (const key of merge.upTo(undefined)) {
      this.assertOpen();
      yield key;
    }
  }

  /** The store's keys, for as long as the chest is open. */
  private async *storeKeys(keys: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
    const stored = keys[Symbol.asyncIterator]();
    try {
      for (;;) {
        // Continued after a close, the store's iterator would fail with LMDB's own error.
        this.assertOpen();
        const next = await stored.next();
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      // Stopped early (a break, or the close above): the store's iterator lets its cursor go.
      if (!this.closed) await stored.return?.();
    }
  }

  /** Every entry once, as `keys()` orders them; with a query, the matching entries in key order. */
  async *entries(query?: KeyQuery): AsyncGenerator<[K, V], void, undefined> {
    for await (const key of this.keys(query)) {
      const found = await this.fetch(key, keyIdentity(key), false);
      if (found !== undefined) yield [key, found.value];
    }
  }

  /** Every value once; with a query, the values of the matching keys in key order. */
  async *values(query?: KeyQuery): AsyncGenerator<V, void, undefined> {
    for await (const [, value] of this.entries(query)) yield value;
  }

  [Symbol.asyncIterator](): AsyncGenerator<[K, V], void, undefined> {
    return this.entries();
  }

  /** True when the key's value is held in memory now. */
  inMemory(key: K): boolean {
    this.assertOpen();
    const slot = this.tier.find(keyIdentity(key));
    return slot !== 0 && (this.tier.flags(slot) & Flag.DELETED) === 0;
  }

  /**
   * Writes every value that is not in the store yet, then makes the store durable. Values stay in
   * memory; those that cannot be serialized stay only there and are named by the
   * `CHEST_UNSERIALIZABLE` error thrown after everything else is written.
   */
  async flush(): Promise<void> {
    this.assertOpen();
    await this.exclusive(() => this.flushNow());
  }

  /** Moves values out of memory into the store: the given keys, or all of them. */
  async spill(keys?: Iterable<K>): Promise<void> {
    this.assertOpen();
    await this.exclusive(async () => {
      const slots: number[] = [];
      if (keys === undefined) slots.push(...this.tier.all());
      else {
        for (const key of keys) {
          const slot = this.tier.find(keyIdentity(key));
          if (slot !== 0) slots.push(slot);
        }
      }
      const failed = await this.writeDirty(slots, true);
      if (failed.length > 0) throw unserializable(failed);
    });
  }

  /**
   * Writes what is in memory, makes it durable and releases the store. A temporary chest is removed
   * instead. Idempotent. Rejects, after closing, if the final flush failed (values that could not be
   * serialized, a full disk): what it could not write is not on disk and is gone with the close, so
   * call `flush()` first where such a failure must be handled with the chest still open.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.opening;
    } catch {
      return; // Opening failed and released everything already.
    }
    let failure: Error | undefined;
    await this.lock.write(async () => {
      if (this.closed) return;
      if (!this.temporary && !this.readOnly) {
        try {
          await this.flushNow();
        } catch (error) {
          failure = closeFailure(error);
        }
      }
      this.closed = true;
      this.tier.clear();
      this.versions.clear();
      try {
        await this.store.close();
      } finally {
        if (this.temporary) this.removeTemporary();
      }
    });
    if (failure !== undefined) throw failure;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async flushNow(): Promise<void> {
    this.assertOpen();
    const failed = await this.writeDirty(this.tier.all(), false);
    await this.store.flush();
    if (failed.length > 0) throw unserializable(failed);
  }

  /** Runs `fn` alone, after the chest is open. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    // A get made after this call must not share a load begun before it.
    this.loading.clear();
    return this.lock.write(async () => {
      await this.opening;
      return fn();
    });
  }

  /**
   * Looks a key up under the shared lock, loading it from the store at most once however many
   * callers ask at the same time; caches it when `count` (a `get`) and it fits.
   */
  private async fetch(key: K, id: KeyIdentity, count: boolean): Promise<Found<V> | undefined> {
    let pending = this.loading.get(id);
    if (pending === undefined) {
      pending = this.lock.read(async () => {
        await this.opening;
        return this.lookup(key, id, count);
      });
      const mine = pending;
      this.loading.set(id, mine);
      void mine
        .finally(() => {
          if (this.loading.get(id) === mine) this.loading.delete(id);
        })
        .catch(() => undefined);
    }
    const found = await pending;
    // A value that entered memory may have pushed the tier over budget: spill, as `set` does.
    if (this.tier.overBudget && !this.closed) await this.lock.write(() => this.shrinkAfterRead());
    return found;
  }

  private async lookup(key: K, id: KeyIdentity, count: boolean): Promise<Found<V> | undefined> {
    this.assertOpen();
    const encoded = encodeKey(key);
    let slot = this.tier.find(id);
    if (slot !== 0 && this.coherent) {
      const version = await this.store.version!(encoded);
      slot = this.tier.find(id);
      if (slot !== 0 && (version === undefined || version !== this.versions.get(id))) {
        // Changed or deleted by another writer since it was read: this copy is stale.
        this.tier.remove(slot);
        this.versions.delete(id);
        slot = 0;
      }
      if (version === undefined) {
        if (count) this.counters.misses++;
        return undefined;
      }
    }
    if (slot !== 0) {
      this.tier.touch(slot);
      if (count) this.counters.hits++;
      const flags = this.tier.flags(slot);
      return (flags & Flag.DELETED) !== 0 ? undefined : { value: this.tier.value(slot) };
    }
    if (count) {
      this.counters.misses++;
      this.onMiss?.(key);
    }
    let stored: StoredValue | undefined;
    try {
      stored = await this.store.get(encoded);
    } catch (error) {
      // Damage is reported naming the key, as Chest does.
      throw namingKey(error, key, describeKey(key));
    }
    if (stored === undefined) return undefined;
    const value = decodeStored(this.codec, key, stored) as V;
    this.counters.loads++;
    this.counters.bytesRead += stored.data.byteLength;
    const size = this.sizeOfValue(value, key);
    if (size <= this.tier.budget && this.tier.find(id) === 0) {
      const added = this.tier.add(id, key, value, size, Flag.ON_DISK);
      if (!this.immutable) this.tier.setChecksum(added, stored.checksum ?? crc32(stored.data));
      if (this.coherent && typeof stored.version === 'string') this.versions.set(id, stored.version);
    }
    return { value };
  }

  /**
   * On a shared store or for a durable chest: the value goes to the store first (and is synced, when
   * durable), and memory keeps it as clean. Nothing changes in memory if that fails.
   */
  private async setThrough(key: K, id: KeyIdentity, value: V, size: number, slot: number): Promise<void> {
    const stored = this.codec.encode(value);
    const checksum = crc32(stored.data);
    const version = this.coherent ? newVersion() : undefined;
    const put: StoredValue = { ...stored, checksum, ...(version === undefined ? {} : { version }) };
    await this.store.write([{ type: 'put', key: encodeKey(key), value: put }]);
    if (this.durable) await this.store.flush();
    this.counters.bytesWritten += stored.data.byteLength;
    const current = slot === 0 ? 0 : this.tier.find(id);
    if (current !== 0) this.tier.remove(current);
    this.versions.delete(id);
    if (size > this.tier.budget) {
      this.counters.spills++;
      this.onOverflow?.(key);
      return;
    }
    const added = this.tier.add(id, key, value, size, Flag.ON_DISK);
    this.tier.setChecksum(added, checksum);
    if (version !== undefined) this.versions.set(id, version);
    await this.shrink();
  }

  /** A value too large for the whole budget goes straight to the store. False if it cannot be serialized. */
  private async writeThrough(key: K, value: V, slot: number): Promise<boolean> {
    let stored: StoredValue;
    try {
      stored = this.codec.encode(value);
    } catch (error) {
      if (isChestError(error, ErrorCode.UNSERIALIZABLE)) return false;
      throw error;
    }
    await this.store.write([{ type: 'put', key: encodeKey(key), value: stored }]);
    this.counters.bytesWritten += stored.data.byteLength;
    this.counters.spills++;
    if (slot !== 0) this.tier.remove(slot);
    this.onOverflow?.(key);
    return true;
  }

  /**
   * A read must not fail because the disk is full: the spill it causes is tried, and on failure
   * memory stays over budget until the next write, which reports the error.
   */
  private async shrinkAfterRead(): Promise<void> {
    try {
      await this.shrink();
    } catch (error) {
      if (!isSpillFailure(error)) throw error;
    }
  }

  /** Spills the entries the eviction policy picks until the tier is under its limits. Holds the lock. */
  private async shrink(): Promise<void> {
    if (!this.tier.overBudget) return;
    await this.writeDirty(this.tier.victims(), true);
  }

  /** As `Chest`'s: writes what the store lacks among `slots`, in batches; keys not serializable are returned. */
  private async writeDirty(slots: readonly number[], evict: boolean): Promise<K[]> {
    const failed: K[] = [];
    const ctx = this.spillContext();
    for (const batch of spillBatches(ctx, slots, failed)) {
      const written = this.coherent ? withVersions(batch.ops) : undefined;
      if (batch.ops.length > 0) await this.store.write(written?.ops ?? batch.ops);
      settleBatch(
        ctx,
        batch,
        evict,
        written && ((slot, _, stays) => this.noteVersion(slot, stays, written.versions)),
      );
    }
    return failed;
  }

  /** Keeps the version of what was just written for an entry that stays in memory. */
  private noteVersion(slot: number, stays: boolean, written: ReadonlyMap<string, string>): void {
    const key = this.tier.key(slot);
    const id = keyIdentity(key);
    const version = written.get(latin1(encodeKey(key)));
    if (!stays) this.versions.delete(id);
    else if (version !== undefined) this.versions.set(id, version);
  }

  /**
   * Entries the store evicted for the disk quota. A copy in memory stays, to be written again by a
   * later spill: removing slots here could pull them from under a spill that is running.
   */
  private evicted(encoded: Uint8Array[]): void {
    const keys = encoded.map((bytes) => decodeKey(bytes) as K);
    for (const key of keys) forgetStored(this.tier, keyIdentity(key));
    this.userOnEvict?.(keys);
  }

  private spillContext(): SpillContext<K, V> {
    const { tier, codec, immutable, counters, onOverflow } = this;
    return { tier, codec, immutable, counters, onOverflow };
  }

  /** Finds out, for entries added since the store was last consulted, whether the store has them. */
  private async resolveUnknown(): Promise<void> {
    if (this.tier.unknown === 0) return;
    for (const slot of this.tier.all()) {
      const flags = this.tier.flags(slot);
      if ((flags & Flag.DISK_UNKNOWN) === 0) continue;
      const onDisk = await this.store.has(encodeKey(this.tier.key(slot)));
      if (!onDisk && (flags & Flag.DELETED) !== 0) this.tier.remove(slot);
      else this.tier.setFlags(slot, (flags & ~Flag.DISK_UNKNOWN) | (onDisk ? Flag.ON_DISK : 0));
    }
  }

  private removeTemporary(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    forgetTemporary(this.dir);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) throw new ChestError(ErrorCode.READ_ONLY, `${this.toString()} is open read-only`);
  }

  private assertOpen(): void {
    if (this.closed) throw new ChestError(ErrorCode.CLOSED, `${this.toString()} is closed`);
  }
}

/** A new version id: random, so that writers on several machines never pick the same one. */
function newVersion(): string {
  return randomBytes(8).toString('hex');
}

/** The ops with a new version on each put, and those versions by encoded key. */
function withVersions(ops: readonly WriteOp[]): { ops: WriteOp[]; versions: Map<string, string> } {
  const versions = new Map<string, string>();
  const out = ops.map((op): WriteOp => {
    if (op.type === 'delete') return op;
    const version = newVersion();
    versions.set(latin1(op.key), version);
    return { ...op, value: { ...op.value, version } };
  });
  return { ops: out, versions };
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
