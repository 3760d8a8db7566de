/** A plain Map: the ceiling (no budget, no disk, no serialization). */
import type { Capability, Peer, Store, WorkloadId } from '../lib/types.js';
import { MEMORY_ONLY_W5 } from './util.js';

class MapStore implements Store {
  readonly setMode = 'sync';
  readonly getMode = 'sync';
  readonly persistent = false;
  private readonly map = new Map<string, unknown>();
  private hits = 0;
  private misses = 0;

  set(key: string, value: unknown): void {
    this.map.set(key, value);
  }
  get(key: string): unknown {
    const v = this.map.get(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }
  flush(): void {}
  close(): void {
    this.map.clear();
  }
  tierStats(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }
}

export const mapPeer: Peer = {
  name: 'map',
  config:
    'A plain Map holding every value: the ceiling for speed, with no budget (memory grows with the data) ' +
    'and no persistence (close/reopen figures are n/a).',
  boundedMemory: false,
  capability(w: WorkloadId, params: unknown): Capability {
    if (w === 'W5') return { ok: false, reason: MEMORY_ONLY_W5 };
    if (w === 'W4') {
      const records = (params as { records: number }).records;
      if (records > 20_000_000)
        return {
          ok: false,
          reason: `no budget: would hold all ${records.toLocaleString('en-US')} records in memory`,
        };
    }
    return { ok: true };
  },
  open(): Promise<Store> {
    return Promise.resolve(new MapStore());
  },
};
