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
  readonly size: number;
  readonly stats: { readonly hits: number; readonly misses: number };
}

type ChestConstructor = new (options: {
  path?: string;
  availableMemory?: number | string;
  eviction?: 'lru' | 'sieve';
  immutable?: boolean;
}) => ChestLike;

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
  count(): number {
    return this.chest.size;
  }
}

/** What a variant of the chest peer changes in Chest's options. */
interface Variant {
  readonly eviction?: 'lru';
  readonly immutable?: true;
}

async function openChest(o: OpenOptions, variant: Variant = {}): Promise<Store> {
  const m = await loadChestModule();
  if (typeof m.Chest !== 'function') throw new Error('not available: the library does not export Chest yet');
  return new ChestStore(new m.Chest({ path: o.dir, availableMemory: o.budget, ...variant }));
}

export const chestPeer: Peer = {
  name: 'chest',
  config:
    'spillchest with availableMemory set to the workload budget, its default serializer and eviction ' +
    "policy ('sieve'); every operation is synchronous.",
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
  preload: loadChestModule,
  open(o: OpenOptions): Promise<Store> {
    return openChest(o);
  },
};

/**
 * Chest with LRU eviction instead of its default (SIEVE), on the workloads where the eviction policy
 * decides the figures: W3 and W3s. Elsewhere it would repeat chest's row.
 */
export const chestLruPeer: Peer = {
  name: 'chest-lru',
  config:
    "spillchest as the chest peer, with eviction: 'lru' instead of its default 'sieve' (W3 and W3s only).",
  boundedMemory: true,
  available: () => chestPeer.available?.() ?? Promise.resolve(undefined),
  capability(w: WorkloadId): Capability {
    if (unavailable) return { ok: false, reason: unavailable };
    return w === 'W3' || w === 'W3s'
      ? { ok: true }
      : { ok: false, reason: 'runs only W3 and W3s, where the eviction policy decides the figures' };
  },
  preload: loadChestModule,
  open(o: OpenOptions): Promise<Store> {
    return openChest(o, { eviction: 'lru' });
  },
};

/** The workloads where values leave memory and are read back, so that tracking in-place changes costs. */
const IMMUTABLE_WORKLOADS: readonly WorkloadId[] = ['W1', 'W2', 'W3', 'W4'];

/**
 * Chest with `immutable: true`: clean values are not re-encoded and checksummed when they leave memory
 * or are flushed. Set against the chest peer, it gives the cost of tracking in-place changes.
 */
export const chestImmutablePeer: Peer = {
  name: 'chest-immutable',
  config:
    'spillchest as the chest peer, with immutable: true (no check for values changed in place; W1, W2, W3 and W4 only).',
  boundedMemory: true,
  available: () => chestPeer.available?.() ?? Promise.resolve(undefined),
  capability(w: WorkloadId): Capability {
    if (unavailable) return { ok: false, reason: unavailable };
    return IMMUTABLE_WORKLOADS.includes(w)
      ? { ok: true }
      : {
          ok: false,
          reason: `runs only ${IMMUTABLE_WORKLOADS.join(', ')}, where clean values leave memory and are read back`,
        };
  },
  preload: loadChestModule,
  open(o: OpenOptions): Promise<Store> {
    return openChest(o, { immutable: true });
  },
};
