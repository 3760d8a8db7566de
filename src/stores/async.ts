import type {
  AnyStore,
  AsyncStore,
  ChestMeta,
  EntryInfo,
  KeyRange,
  StoreFeatures,
  StoredValue,
  StructureTable,
  SyncStore,
  WriteOp,
} from './types.js';

/**
 * Any `SyncStore` as an `AsyncStore`: each call runs the synchronous method and hands back its result
 * (or its error) as a promise. The synchronous store's own checks and errors are kept as they are.
 *
 * @example
 * ```ts
 * import { MemoryStore, SyncStoreAdapter } from 'spillchest';
 *
 * const store = new SyncStoreAdapter(new MemoryStore());
 * console.log(await store.count()); // 0
 * ```
 */
export class SyncStoreAdapter implements AsyncStore {
  /** The store's features, but `sync`: the adapter answers with promises. */
  readonly features: StoreFeatures;

  constructor(readonly store: SyncStore) {
    this.features = { ...store.features, sync: false };
  }

  get location(): string {
    return this.store.location;
  }

  get structures(): StructureTable | undefined {
    return this.store.structures;
  }

  get(key: Uint8Array): Promise<StoredValue | undefined> {
    return attempt(() => this.store.get(key));
  }

  has(key: Uint8Array): Promise<boolean> {
    return attempt(() => this.store.has(key));
  }

  info(key: Uint8Array): Promise<EntryInfo | undefined> {
    return attempt(() => this.store.info(key));
  }

  write(ops: readonly WriteOp[]): Promise<void> {
    return attempt(() => this.store.write(ops));
  }

  delete(key: Uint8Array): Promise<boolean> {
    return attempt(() => this.store.delete(key));
  }

  modify(key: Uint8Array, fn: (current: StoredValue | undefined) => StoredValue | undefined): Promise<void> {
    return attempt(() => {
      this.store.modify(key, fn);
    });
  }

  count(): Promise<number> {
    return attempt(() => this.store.count());
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the sync store's keys, one per turn
  async *keys(range?: KeyRange): AsyncGenerator<Uint8Array> {
    yield* this.store.keys(range);
  }

  clear(): Promise<void> {
    return attempt(() => this.store.clear());
  }

  readMeta(): Promise<ChestMeta | undefined> {
    return attempt(() => this.store.readMeta());
  }

  writeMeta(meta: ChestMeta): Promise<void> {
    return attempt(() => this.store.writeMeta(meta));
  }

  flush(): Promise<void> {
    return attempt(() => this.store.flush());
  }

  close(): Promise<void> {
    return attempt(() => this.store.close());
  }
}

/** The result of `fn` as a promise, its exception as a rejected one. */
function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what the store threw
    return Promise.reject(error);
  }
}

/**
 * True for a store whose methods answer synchronously (it declares `features.sync`).
 *
 * @example
 * ```ts
 * import { isSyncStore, MemoryStore, toAsyncStore } from 'spillchest';
 *
 * console.log(isSyncStore(new MemoryStore()), isSyncStore(toAsyncStore(new MemoryStore()))); // true false
 * ```
 */
export function isSyncStore(store: AnyStore): store is SyncStore {
  return store.features.sync;
}

/**
 * The store itself when it is asynchronous, else an adapter over it.
 *
 * @example
 * ```ts
 * import { MemoryStore, toAsyncStore } from 'spillchest';
 *
 * const store = toAsyncStore(new MemoryStore());
 * await store.write([{ type: 'put', key: new Uint8Array([1]), value: { kind: 0, codec: 0, data: new Uint8Array([42]) } }]);
 * console.log(await store.count()); // 1
 * ```
 */
export function toAsyncStore(store: AnyStore): AsyncStore {
  return isSyncStore(store) ? new SyncStoreAdapter(store) : store;
}
