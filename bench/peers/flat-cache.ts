/**
 * flat-cache: everything in memory (its default cloning cache), saved as one flatted/JSON file by save().
 * Default options apart from the folder and cache id.
 */
import { FlatCache } from 'flat-cache';
import type { Capability, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';

class FlatStore implements Store {
  readonly setMode = 'sync';
  readonly getMode = 'sync';
  readonly persistent = true;

  constructor(private readonly cache: FlatCache) {}

  set(key: string, value: unknown): void {
    this.cache.set(key, value);
  }
  get(key: string): unknown {
    return this.cache.get(key);
  }
  flush(): void {
    this.cache.save();
  }
  close(): void {
    this.cache.save();
  }
}

export const flatCachePeer: Peer = {
  name: 'flat-cache',
  config:
    'flat-cache with default options (values cloned on get), cacheDir = the sample folder; the whole ' +
    'cache lives in memory and save() rewrites one file.',
  boundedMemory: false,
  capability(w: WorkloadId): Capability {
    if (w === 'W2')
      return {
        ok: false,
        reason: 'stores values as JSON (flatted): a Float64Array comes back as a plain object',
      };
    return { ok: true };
  },
  open(o: OpenOptions): Promise<Store> {
    const cache = new FlatCache({ cacheDir: o.dir, cacheId: 'bench' });
    cache.load();
    return Promise.resolve(new FlatStore(cache));
  },
};
