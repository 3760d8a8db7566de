/**
 * classic-level (LevelDB). Block cache (cacheSize) set to the workload budget, JSON values (its usual
 * value encoding) and raw bytes for W2 arrays. Each put is awaited before the next, as a Map-like
 * caller would; reads use getSync, its fastest read path.
 */
import { ClassicLevel } from 'classic-level';
import type { Capability, OpenOptions, Peer, Store } from '../lib/types.js';
import { bytesOf, toFloat64 } from './util.js';

class LevelStore implements Store {
  readonly setMode = 'await';
  readonly getMode = 'sync';
  readonly persistent = true;

  constructor(
    private readonly db: ClassicLevel<string, unknown>,
    private readonly arrays: boolean,
  ) {}

  set(key: string, value: unknown): Promise<void> {
    return this.db.put(key, this.arrays ? bytesOf(value as Float64Array) : value);
  }
  get(key: string): unknown {
    const v = this.db.getSync(key);
    if (this.arrays && v !== undefined) return toFloat64(v as Uint8Array);
    return v;
  }
  flush(): void {
    // LevelDB has written every awaited put to its log; there is no separate flush call.
  }
  async close(): Promise<void> {
    await this.db.close();
  }
}

export const classicLevelPeer: Peer = {
  name: 'classic-level',
  config:
    'classic-level (LevelDB) with cacheSize = the budget, valueEncoding json (view for W2 arrays); ' +
    'every put awaited in turn, getSync for reads.',
  boundedMemory: true,
  capability(): Capability {
    return { ok: true };
  },
  async open(o: OpenOptions): Promise<Store> {
    const arrays = o.values === 'arrays';
    const db = new ClassicLevel<string, unknown>(o.dir, {
      valueEncoding: arrays ? 'view' : 'json',
      cacheSize: o.budget,
    });
    await db.open();
    return new LevelStore(db, arrays);
  },
};
