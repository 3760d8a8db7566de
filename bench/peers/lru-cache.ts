/**
 * lru-cache with maxSize = the workload budget and sizeCalculation = Chest's own size estimate, so both
 * keep the same number of bytes' worth of values in memory. Memory only: in W3 it is put in front of a
 * store (lmdb used directly with Chest's serializer, like Chest's own index) and every missed value, read from that store, is put
 * back into the cache.
 */
import { LRUCache } from 'lru-cache';
import type { RootDatabase } from 'lmdb';
import type { Capability, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';
import { openLmdbRecords } from './lmdb.js';
import { loadSizeEstimator } from './size.js';
import { MEMORY_ONLY_W5 } from './util.js';

type Cache = LRUCache<string, object>;

async function makeCache(budget: number): Promise<Cache> {
  const { sizeOf } = await loadSizeEstimator();
  return new LRUCache<string, object>({
    maxSize: budget,
    sizeCalculation: (value, key) => Math.max(1, Math.ceil(sizeOf(value, key))),
  });
}

/** Memory only (W0: the budget holds everything). */
class LruStore implements Store {
  readonly setMode = 'sync';
  readonly getMode = 'sync';
  readonly persistent = false;
  private hits = 0;
  private misses = 0;

  constructor(private readonly cache: Cache) {}

  set(key: string, value: unknown): void {
    this.cache.set(key, value as object);
  }
  get(key: string): unknown {
    const v = this.cache.get(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }
  flush(): void {}
  close(): void {
    this.cache.clear();
  }
  tierStats(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }
}

/** W3: the cache in front of a store; a miss reads the store and puts the value back. */
class LruOverLmdb implements Store {
  readonly setMode = 'batched';
  readonly getMode = 'sync';
  readonly persistent = true;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly cache: Cache,
    private readonly db: RootDatabase<unknown, string>,
  ) {}

  set(key: string, value: unknown): Promise<boolean> {
    this.cache.set(key, value as object);
    return this.db.put(key, value);
  }
  get(key: string): unknown {
    const v = this.cache.get(key);
    if (v !== undefined) {
      this.hits++;
      return v;
    }
    this.misses++;
    const stored = this.db.get(key);
    if (stored !== undefined && stored !== null) this.cache.set(key, stored);
    return stored;
  }
  async flush(): Promise<void> {
    await this.db.flushed;
  }
  async close(): Promise<void> {
    this.cache.clear();
    await this.db.close();
  }
  tierStats(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }
}

const memoryOnly = (what: string): Capability => ({
  ok: false,
  reason: `memory only: past its budget it drops ${what}, so later gets would miss (it has no disk tier)`,
});

export const lruCachePeer: Peer = {
  name: 'lru-cache',
  config:
    'lru-cache with maxSize = the budget and sizeCalculation = the size estimate Chest uses; memory only ' +
    '(W0). In W3 it fronts lmdb used directly, putting each missed value back after reading it from lmdb.',
  boundedMemory: true,
  capability(w: WorkloadId): Capability {
    switch (w) {
      case 'W0':
        return { ok: true };
      case 'W3':
      case 'W3s':
        return { ok: true, note: 'over lmdb' };
      case 'W1':
      case 'W4':
        return memoryOnly('records');
      case 'W2':
        return memoryOnly('arrays (64 MiB holds 8 of the 48)');
      case 'W5':
        return { ok: false, reason: MEMORY_ONLY_W5 };
    }
  },
  async open(o: OpenOptions): Promise<Store> {
    const cache = await makeCache(o.budget);
    if (o.workload === 'W3' || o.workload === 'W3s') return new LruOverLmdb(cache, openLmdbRecords(o.dir));
    return new LruStore(cache);
  },
};
