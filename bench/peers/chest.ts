/**
 * Chest itself. Loaded through a dynamic import so that the suite still runs (and says why Chest is
 * missing) while the library does not export `Chest` yet.
 */
import { describeError } from '../lib/errors.js';
import type { Capability, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';

/** The part of Chest's API the benchmarks use. */
interface ChestLike {
  set(key: string, value: unknown): unknown;
  get(key: string): unknown;
  flush(): void;
  close(): void;
  readonly stats: { readonly hits: number; readonly misses: number };
}

type ChestConstructor = new (options: { path?: string; availableMemory?: number | string }) => ChestLike;

export interface ChestModule {
  readonly Chest?: ChestConstructor;
  readonly sizeOf?: (value: unknown, key: unknown) => number;
  /** Bytes of bookkeeping Chest counts per entry on top of sizeOf. */
  readonly ENTRY_OVERHEAD?: number;
}

const ENTRY = new URL('../../src/index.js', import.meta.url).href;
let loading: Promise<ChestModule> | undefined;

export function loadChestModule(): Promise<ChestModule> {
  loading ??= import(ENTRY) as Promise<ChestModule>;
  return loading;
}

let unavailable: string | undefined;

class ChestStore implements Store {
  readonly setMode = 'sync';
  readonly getMode = 'sync';
  readonly persistent = true;

  constructor(private readonly chest: ChestLike) {}

  set(key: string, value: unknown): void {
    this.chest.set(key, value);
  }
  get(key: string): unknown {
    return this.chest.get(key);
  }
  flush(): void {
    this.chest.flush();
  }
  close(): void {
    this.chest.close();
  }
  tierStats(): { hits: number; misses: number } {
    const s = this.chest.stats;
    return { hits: s.hits, misses: s.misses };
  }
}

export const chestPeer: Peer = {
  name: 'chest',
  config:
    'spillchest with availableMemory set to the workload budget and its default serializer; ' +
    'every operation is synchronous.',
  boundedMemory: true,
  async available() {
    try {
      const m = await loadChestModule();
      if (typeof m.Chest !== 'function') unavailable = 'not available: the library does not export Chest yet';
    } catch (e) {
      unavailable = `not available: ${describeError(e)}`;
    }
    return unavailable;
  },
  capability(_w: WorkloadId): Capability {
    return unavailable ? { ok: false, reason: unavailable } : { ok: true };
  },
  async open(o: OpenOptions): Promise<Store> {
    const m = await loadChestModule();
    if (typeof m.Chest !== 'function')
      throw new Error('not available: the library does not export Chest yet');
    return new ChestStore(new m.Chest({ path: o.dir, availableMemory: o.budget }));
  },
};
