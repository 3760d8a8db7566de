import type { ErrorCode } from '../errors.js';

/**
 * The store interface: where a chest keeps what does not fit in memory.
 *
 * A store deals in bytes only. Keys arrive already encoded by the key codec (their byte order is the
 * key order, and they are never empty), values already turned into bytes by the value codec; `kind` and `codec` are opaque
 * tags the store keeps beside the bytes and hands back unchanged. A store checksums what it keeps and
 * reports damage as a `ChestError` with code `CHEST_CORRUPT` or `CHEST_MISSING_FILE`.
 *
 * Every store runs the one conformance suite in `test/conformance/store-suite.ts`.
 */

/**
 * A value as a store keeps it.
 *
 * @example
 * ```ts
 * import { MemoryStore, type StoredValue } from 'spillchest';
 *
 * const value: StoredValue = { kind: 0, codec: 0, data: new TextEncoder().encode('hello') };
 * const store = new MemoryStore();
 * store.write([{ type: 'put', key: Buffer.from('k'), value }]);
 * console.log(store.get(Buffer.from('k'))?.data.byteLength); // 5
 * ```
 */
export interface StoredValue {
  /** How the chest's value codec reads `data` back (see `ValueKind`). Opaque to the store. */
  readonly kind: number;
  /** Compression applied to `data` (see `Codec`). Opaque to the store. */
  readonly codec: number;
  /** The bytes. A store may keep a reference to them until `write` returns, not after. */
  readonly data: Uint8Array;
  /**
   * CRC-32 of `data`, when already computed: a store's `get` may give the one it verified, and a
   * caller may give one with a `put`, which the store may use instead of computing it again.
   */
  readonly checksum?: number;
  /**
   * Which version of the value this is. A store shared by several machines (`features.machines`)
   * keeps an id chosen by the writer (a string) beside the value and hands it back from `get` and
   * `version`, so that each machine can tell whether its copy in memory is still the latest. The
   * LMDB store answers with the id of the transaction that wrote the entry (a number), for its
   * `changes` feed. Others leave it out.
   */
  readonly version?: string | number;
}

/**
 * How a store shared by several processes (or several chests in one process) lets a chest find
 * out that others changed it: the basis of the chest's coherence (see src/coherence.ts).
 *
 * @example
 * ```ts
 * import { MemoryStore, type ChangeFeed, type SyncStore } from 'spillchest';
 *
 * const store: SyncStore = new MemoryStore();
 * const feed: ChangeFeed | undefined = store.changes;
 * console.log(feed === undefined); // true: a store in this process's memory is never shared
 * ```
 */
export interface ChangeFeed {
  /** Id of the newest commit to the store by anyone. Ids only grow; each commit gets a new one. */
  latest(): number;
  /** Id of this store's own newest commit, 0 before any. */
  readonly lastCommit: number;
  /** Called with the id of each of this store's own commits, as it returns. */
  onCommit: ((id: number) => void) | undefined;
  /** Makes the next reads see every commit so far (reads otherwise may keep an older snapshot). */
  refresh(): void;
  /** The version stamp of a key's entry (the id of the commit that wrote it), or undefined when absent. */
  version(key: Uint8Array): number | undefined;
  /** Whether another process, or another open store in this process, has this location open. */
  othersOpen(): boolean;
}

/**
 * What a store can do. The conformance suite, the chest and the CLI read this declaration.
 *
 * @example
 * ```ts
 * import { LmdbStore, MemoryStore, type StoreFeatures } from 'spillchest';
 *
 * const memory: StoreFeatures = new MemoryStore().features;
 * console.log(memory.persistent, memory.ordered); // false true
 * const disk = new LmdbStore({ path: './features', inlineThreshold: 0, fileName: () => 'x' });
 * console.log(disk.features.processes); // true
 * disk.close();
 * ```
 */
export interface StoreFeatures {
  /** Every method returns its result directly (a `SyncStore`, usable by `Chest`); else an `AsyncStore`. */
  readonly sync: boolean;
  /** Survives the process: reopening the same location finds the data. */
  readonly persistent: boolean;
  /** Several processes on one machine may use one location at once. */
  readonly processes: boolean;
  /** Processes on several machines may use one location at once. */
  readonly machines: boolean;
  /** `keys()` yields keys in byte order of their encoding and honours `start`/`end`. */
  readonly ordered: boolean;
  /** Large values live in files of their own, one per value (so `fileOf` answers). */
  readonly files: boolean;
  /**
   * The longest encoded key (`encodeKey`) the store accepts, in bytes; no limit when absent. A chest
   * refuses a longer key at `set`, with `CHEST_KEY_TOO_LONG`, instead of letting a later spill of
   * many keys fail for it.
   */
  readonly maxKeyBytes?: number;
}

/**
 * What a store knows about one entry without reading its value.
 *
 * @example
 * ```ts
 * import { MemoryStore, type EntryInfo } from 'spillchest';
 *
 * const store = new MemoryStore();
 * store.write([{ type: 'put', key: Buffer.from('k'), value: { kind: 0, codec: 0, data: Buffer.alloc(10) } }]);
 * const info: EntryInfo | undefined = store.info(Buffer.from('k'));
 * console.log(info?.byteLength, info?.file); // 10 undefined
 * ```
 */
export interface EntryInfo {
  readonly kind: number;
  readonly codec: number;
  /** Length of the stored bytes. */
  readonly byteLength: number;
  /** Absolute path of the value's file, for values kept in a file of their own. */
  readonly file: string | undefined;
}

/**
 * One change in an atomic batch.
 *
 * @example
 * ```ts
 * import { MemoryStore, type WriteOp } from 'spillchest';
 *
 * const store = new MemoryStore();
 * const data = Buffer.from('v');
 * const batch: WriteOp[] = [
 *   { type: 'put', key: Buffer.from('a'), value: { kind: 0, codec: 0, data } },
 *   { type: 'put', key: Buffer.from('b'), value: { kind: 0, codec: 0, data } },
 *   { type: 'delete', key: Buffer.from('a') },
 * ];
 * store.write(batch); // all or nothing; later ops on a key win
 * console.log(store.count()); // 1
 * ```
 */
export type WriteOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: StoredValue }
  | { readonly type: 'delete'; readonly key: Uint8Array };

/**
 * Bounds for `keys()`, on encoded keys: `start` inclusive, `end` exclusive.
 *
 * @example
 * ```ts
 * import { MemoryStore, type KeyRange } from 'spillchest';
 *
 * const store = new MemoryStore();
 * const value = { kind: 0, codec: 0, data: Buffer.from('v') };
 * store.write(['a', 'b', 'c', 'd'].map((k) => ({ type: 'put' as const, key: Buffer.from(k), value })));
 * const range: KeyRange = { start: Buffer.from('b'), end: Buffer.from('d') };
 * console.log([...store.keys(range)].map(String)); // [ 'b', 'c' ]
 * ```
 */
export interface KeyRange {
  readonly start?: Uint8Array;
  readonly end?: Uint8Array;
  readonly limit?: number;
}

/**
 * The chest's own record of how it was made, kept by the store and checked on every open: a chest is
 * never read with another serializer or compression than the one it was written with.
 *
 * @example
 * ```ts
 * import { Chest, MemoryStore, type ChestMeta } from 'spillchest';
 *
 * const store = new MemoryStore();
 * using chest = new Chest({ store, serializer: 'json' });
 * const meta: ChestMeta | undefined = store.readMeta();
 * console.log(meta); // { format: 4, serializer: 'json', compression: 'none' }
 * ```
 */
export interface ChestMeta {
  /** On-disk format version of the chest. */
  readonly format: number;
  /** Name of the serializer every SERIALIZED or TEXT value was written with. */
  readonly serializer: string;
  /** Name of the compression applied to values ('none', 'gzip', ...). */
  readonly compression: string;
}

/**
 * A store's table of shared record structures: the lists of property names that values written by
 * the `structured` serializer refer to by number, instead of carrying them in every value. The table
 * only grows: a structure is never renumbered or removed, so a value written with a shorter table
 * reads with any later one. Both methods are synchronous; a store that cannot answer synchronously
 * leaves the table out, and its values carry their own structures.
 *
 * @example
 * ```ts
 * import { MemoryStore, type StructureTable } from 'spillchest';
 *
 * const table: StructureTable | undefined = new MemoryStore().structures;
 * table?.update((stored) => stored.length === 0, [['id', 'name']]);
 * console.log(table?.read()); // [ [ 'id', 'name' ] ]
 * ```
 */
export interface StructureTable {
  /** The stored structures, oldest first; a new array on every call. */
  read(): string[][];
  /**
   * Replaces the stored list with `next` when `accept(stored)` returns true for the list stored at
   * that moment, in one transaction, so that of several writers racing to add structures exactly
   * one succeeds and the others see its list; returns what `accept` returned. `next` extends the
   * list `accept` expected.
   */
  update(accept: (stored: string[][]) => boolean, next: readonly (readonly string[])[]): boolean;
}

/**
 * A damaged entry, as a store sees it: the encoded key and, for a value file, its name relative to the store.
 *
 * @example
 * ```ts
 * import { Chest, type StoreDamage } from 'spillchest';
 *
 * // Stores report damage with encoded keys; a chest's verify() turns them into your keys.
 * function describe(damage: StoreDamage): string {
 *   return `${damage.code} at ${damage.file ?? 'an inline entry'}`;
 * }
 * using chest = new Chest<string, number>();
 * console.log(chest.verify().damaged.map((d) => describe({ ...d, key: new Uint8Array() }))); // []
 * ```
 */
export interface StoreDamage {
  readonly key: Uint8Array;
  readonly code: ErrorCode;
  readonly file?: string;
  readonly message: string;
}

/**
 * A store whose every method answers synchronously. `Chest` runs on these.
 *
 * @example
 * ```ts
 * import { Chest, MemoryStore, type SyncStore } from 'spillchest';
 *
 * function describe(store: SyncStore): string {
 *   return `${store.location}: ${store.count()} entries${store.features.persistent ? '' : ', in memory only'}`;
 * }
 * const store = new MemoryStore();
 * using chest = new Chest<string, number>({ store, availableMemory: 0 });
 * chest.set('a', 1);
 * console.log(describe(store)); // memory: 1 entries, in memory only
 * ```
 */
export interface SyncStore {
  readonly features: StoreFeatures;
  /** Where the data lives (a directory, a URL), for messages and `String(chest)`. */
  readonly location: string;
  /** Present on stores that several processes or chests may share: how to see their changes. */
  readonly changes?: ChangeFeed;

  get(key: Uint8Array): StoredValue | undefined;
  has(key: Uint8Array): boolean;
  info(key: Uint8Array): EntryInfo | undefined;
  /** Applies every op or none. Later ops on one key win over earlier ones. */
  write(ops: readonly WriteOp[]): void;
  /** Removes one key; true if it was there. */
  delete(key: Uint8Array): boolean;
  /**
   * Replaces a key's value with `fn(current)` atomically: no other writer, in this process or
   * another, changes the key between the read and the write. `undefined` from `fn` deletes the key.
   */
  modify(key: Uint8Array, fn: (current: StoredValue | undefined) => StoredValue | undefined): void;
  /** Exact number of entries, without a scan. */
  count(): number;
  /** Encoded keys, in byte order when `features.ordered`. A snapshot: writes during iteration are not seen. */
  keys(range?: KeyRange): Iterable<Uint8Array>;
  clear(): void;

  readMeta(): ChestMeta | undefined;
  writeMeta(meta: ChestMeta): void;
  /** Present on stores that keep shared record structures for the `structured` serializer. */
  readonly structures?: StructureTable;

  /** Makes everything written so far durable. */
  flush(): void;
  /** Flushes, then releases every resource. Idempotent. */
  close(): void;

  /**
   * Optional maintenance (see `src/maintenance.ts`, which works without them too).
   * `orphanFiles`: files in the store's folder that no entry refers to, relative names.
   */
  orphanFiles?(): string[];
  /**
   * Drops the entries of `recheck` whose data is still damaged when looked at again under the write
   * lock, and those of `drop` whatever they hold (their keys cannot be decoded), and removes orphan
   * files; returns what it dropped and removed.
   */
  repair?(
    recheck: readonly Uint8Array[],
    drop: readonly Uint8Array[],
  ): { dropped: StoreDamage[]; removedFiles: string[] };
  /** Rewrites the index without free space, and removes orphan files. */
  compact?(): { bytesBefore: number; bytesAfter: number; removedFiles: string[] };
}

/**
 * A store whose methods return promises. `AsyncChest` runs on these, and on every `SyncStore` through
 * `toAsyncStore`. Same operations and contract as `SyncStore`.
 *
 * @example
 * ```ts
 * import { AsyncChest, MemoryStore, toAsyncStore, type AsyncStore } from 'spillchest';
 *
 * const store: AsyncStore = toAsyncStore(new MemoryStore());
 * await using chest = await AsyncChest.open<string, number>({ store });
 * await chest.set('a', 1);
 * console.log(await store.count()); // 0: 'a' is still only in memory
 * ```
 */
export interface AsyncStore {
  readonly features: StoreFeatures;
  /** Where the data lives (a directory, a URL), for messages and `String(chest)`. */
  readonly location: string;

  get(key: Uint8Array): Promise<StoredValue | undefined>;
  has(key: Uint8Array): Promise<boolean>;
  info(key: Uint8Array): Promise<EntryInfo | undefined>;
  /** Applies every op or none. Later ops on one key win over earlier ones. */
  write(ops: readonly WriteOp[]): Promise<void>;
  /** Removes one key; true if it was there. */
  delete(key: Uint8Array): Promise<boolean>;
  /** As `SyncStore.modify`: `fn(current)` replaces the value atomically, even across processes. */
  modify(key: Uint8Array, fn: (current: StoredValue | undefined) => StoredValue | undefined): Promise<void>;
  /** Exact number of entries. */
  count(): Promise<number>;
  /** Encoded keys, in byte order when `features.ordered`. Writes made during iteration are not seen. */
  keys(range?: KeyRange): AsyncIterable<Uint8Array>;
  clear(): Promise<void>;

  readMeta(): Promise<ChestMeta | undefined>;
  writeMeta(meta: ChestMeta): Promise<void>;
  /** As `SyncStore.structures`: synchronous, so only stores that can answer at once offer it. */
  readonly structures?: StructureTable;

  /**
   * The `version` the key's value was written with, `undefined` when absent. Stores shared by several
   * machines provide it; a chest compares it with its copy in memory before answering from memory.
   */
  version?(key: Uint8Array): Promise<string | undefined>;

  /** Makes everything written so far durable. */
  flush(): Promise<void>;
  /** Flushes, then releases every resource. Idempotent. */
  close(): Promise<void>;
}

/**
 * Either kind of store.
 *
 * @example
 * ```ts
 * import { MemoryStore, toAsyncStore, type AnyStore } from 'spillchest';
 *
 * const stores: AnyStore[] = [new MemoryStore(), toAsyncStore(new MemoryStore())];
 * console.log(stores.map((s) => s.features.sync)); // [true, false]
 * ```
 */
export type AnyStore = SyncStore | AsyncStore;
