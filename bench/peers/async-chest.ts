/**
 * AsyncChest, on its default LMDB store and on the Redis store. Every call is awaited before the next
 * (calls on one AsyncChest are applied in order, so this is what a server handling one request after
 * another does).
 */
import { createHash } from 'node:crypto';
import type { AsyncChest } from '../../src/async-chest.js';
import type { Capability, Limit, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';

class AsyncChestStore implements Store {
  readonly setMode = 'await';
  readonly getMode = 'await';
  readonly persistent = true;

  constructor(private readonly chest: AsyncChest<string>) {}

  async set(key: string, value: unknown): Promise<void> {
    await this.chest.set(key, value);
  }
  get(key: string): Promise<unknown> {
    return this.chest.get(key);
  }
  flush(): Promise<void> {
    return this.chest.flush();
  }
  close(): Promise<void> {
    return this.chest.close();
  }
  tierStats(): { hits: number; misses: number } {
    const s = this.chest.stats;
    return { hits: s.hits, misses: s.misses };
  }
}

const ENTRY = new URL('../../src/index.js', import.meta.url).href;
const REDIS_ENTRY = new URL('../../src/stores/redis/index.js', import.meta.url).href;

async function asyncChestClass(): Promise<typeof AsyncChest> {
  return ((await import(ENTRY)) as { AsyncChest: typeof AsyncChest }).AsyncChest;
}

export const asyncChestPeer: Peer = {
  name: 'async-chest',
  config:
    'spillchest AsyncChest on its default LMDB store (value files through fs/promises), availableMemory ' +
    'set to the workload budget; every call awaited.',
  boundedMemory: true,
  capability(): Capability {
    return { ok: true };
  },
  preload: asyncChestClass,
  async open(o: OpenOptions): Promise<Store> {
    const AsyncChestClass = await asyncChestClass();
    return new AsyncChestStore(
      await AsyncChestClass.open<string>({ path: o.dir, availableMemory: o.budget }),
    );
  },
};

/**
 * Every call is a network round trip (a get from memory checks the value's version too), so the
 * smoke run keeps to a few thousand; full runs are at full size.
 */
const REDIS_QUICK_LIMIT: Limit = {
  records: 2_000,
  ops: 2_000,
  why: 'every set and every get is a round trip to Redis on this machine (write-through, version check)',
  quickOnly: true,
};

/**
 * A full run of W0 or W1 on Redis takes most of an hour per run (a round trip per call);
 * SPILLCHEST_REDIS_BENCH_CAP=N caps records and operations per phase at N in full runs too.
 */
function redisCap(): Limit | undefined {
  const raw = process.env.SPILLCHEST_REDIS_BENCH_CAP;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(`SPILLCHEST_REDIS_BENCH_CAP wants a positive integer, got "${raw}"`);
  return {
    ...REDIS_QUICK_LIMIT,
    records: n,
    ops: n,
    quickOnly: false,
    quick: { records: 2_000, ops: 2_000 },
  };
}

export const asyncChestRedisPeer: Peer = {
  name: 'async-chest-redis',
  config:
    'spillchest AsyncChest on the Redis store (one local redis-server, SPILLCHEST_REDIS_URL), a prefix per ' +
    'sample folder, availableMemory set to the workload budget; every call awaited; writes go through to ' +
    'Redis, gets from memory check the version with one HGET.',
  boundedMemory: true,
  available() {
    return Promise.resolve(
      process.env.SPILLCHEST_REDIS_URL
        ? undefined
        : 'not available: no Redis server (SPILLCHEST_REDIS_URL is not set; see README, Development)',
    );
  },
  capability(_w: WorkloadId): Capability {
    return { ok: true, limit: redisCap() ?? REDIS_QUICK_LIMIT };
  },
  async preload() {
    await Promise.all([asyncChestClass(), import(REDIS_ENTRY)]);
  },
  async open(o: OpenOptions): Promise<Store> {
    const url = process.env.SPILLCHEST_REDIS_URL;
    if (!url) throw new Error('not available: SPILLCHEST_REDIS_URL is not set');
    const { RedisStore } = (await import(REDIS_ENTRY)) as typeof import('../../src/stores/redis/index.js');
    // The sample's folder names the chest: processes of one W5 sample share it, samples do not.
    const prefix = `spillchest-bench:${createHash('sha1').update(o.dir).digest('hex').slice(0, 16)}:`;
    const AsyncChestClass = await asyncChestClass();
    const chest = await AsyncChestClass.open<string>({
      store: new RedisStore({ url, prefix }),
      availableMemory: o.budget,
    });
    return new AsyncChestStore(chest);
  },
};
