import { SyncStoreAdapter } from '../async.js';
import type { StoredValue, WriteOp } from '../types.js';
import type { LmdbStore } from './store.js';

/**
 * The LMDB store for `AsyncChest`: value files are read, written and synced through `fs/promises`,
 * so large values never block the event loop. Index entries are read from LMDB's memory map and
 * committed synchronously, as `LmdbStore` does: a read costs about a microsecond and a commit
 * without a sync tens of microseconds (see docs/STORES.md for the event-loop delay measured).
 */
export class AsyncLmdbStore extends SyncStoreAdapter {
  private closed = false;

  constructor(override readonly store: LmdbStore) {
    super(store);
  }

  override get(key: Uint8Array): Promise<StoredValue | undefined> {
    return this.store.getAsync(key);
  }

  override write(ops: readonly WriteOp[]): Promise<void> {
    return this.store.writeAsync(ops);
  }

  override flush(): Promise<void> {
    return this.store.flushAsync();
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.store.flushAsync();
    } finally {
      this.store.close();
    }
  }
}
