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

/** A value as a store keeps it. */
export interface StoredValue {
  /** How the chest's value codec reads `data` back (see `ValueKind`). Opaque to the store. */
  readonly kind: number;
  /** Compression applied to `data` (see `Codec`). Opaque to the store. */
  readonly codec: number;
  /** The bytes. A store may keep a reference to them until `write` returns, not after. */
  readonly data: Uint8Array;
  /** CRC-32 of `data`, when the store has computed it already (so the caller need not). */
  readonly checksum?: number;
  /**
   * An id of this version of the value, chosen by the writer, for stores shared by several machines
   * (`features.machines`): they keep it beside the value and hand it back from `get` and `version`,
   * so that each machine can tell whether its copy in memory is still the latest. Others ignore it.
   */
  readonly version?: string;
}

/** What a store can do. The conformance suite, the chest and the CLI read this declaration. */
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
}

/** What a store knows about one entry without reading its value. */
export interface EntryInfo {
  readonly kind: number;
  readonly codec: number;
  /** Length of the stored bytes. */
  readonly byteLength: number;
  /** Absolute path of the value's file, for values kept in a file of their own. */
  readonly file: string | undefined;
}

/** One change in an atomic batch. */
export type WriteOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: StoredValue }
  | { readonly type: 'delete'; readonly key: Uint8Array };

/** Bounds for `keys()`, on encoded keys: `start` inclusive, `end` exclusive. */
export interface KeyRange {
  readonly start?: Uint8Array;
  readonly end?: Uint8Array;
  readonly limit?: number;
}

/**
 * The chest's own record of how it was made, kept by the store and checked on every open: a chest is
 * never read with another serializer or compression than the one it was written with.
 */
export interface ChestMeta {
  /** On-disk format version of the chest. */
  readonly format: number;
  /** Name of the serializer every SERIALIZED or TEXT value was written with. */
  readonly serializer: string;
  /** Name of the compression applied to values ('none', 'gzip', ...). */
  readonly compression: string;
}

/** A store whose every method answers synchronously. `Chest` runs on these. */
export interface SyncStore {
  readonly features: StoreFeatures;
  /** Where the data lives (a directory, a URL), for messages and `String(chest)`. */
  readonly location: string;

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

  /** Makes everything written so far durable. */
  flush(): void;
  /** Flushes, then releases every resource. Idempotent. */
  close(): void;
}

/**
 * A store whose methods return promises. `AsyncChest` runs on these, and on every `SyncStore` through
 * `toAsyncStore`. Same operations and contract as `SyncStore`.
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

/** Either kind of store. */
export type AnyStore = SyncStore | AsyncStore;
