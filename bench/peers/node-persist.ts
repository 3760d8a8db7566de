/**
 * node-persist: one JSON file per key (named by the key's sha256), every setItem/getItem awaited.
 * Default options apart from the directory. About 2,400 inserts/s, so it runs on reduced sizes.
 */
import storage from 'node-persist';
import type { Capability, Limit, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';

type LocalStorage = ReturnType<typeof storage.create>;

class PersistStore implements Store {
  readonly setMode = 'await';
  readonly getMode = 'await';
  readonly persistent = true;

  constructor(private readonly s: LocalStorage) {}

  set(key: string, value: unknown): Promise<unknown> {
    return this.s.setItem(key, value);
  }
  get(key: string): Promise<unknown> {
    return this.s.getItem(key) as Promise<unknown>;
  }
  flush(): void {
    // setItem resolves once its file is written.
  }
  close(): void {
    const s = this.s as unknown as {
      stopExpiredKeysInterval?: () => void;
      stopWriteQueueInterval?: () => void;
    };
    s.stopExpiredKeysInterval?.();
    s.stopWriteQueueInterval?.();
  }
}

export const NODE_PERSIST_LIMIT: Limit = {
  records: 10_000,
  ops: 10_000,
  why: 'node-persist writes one file per key (~2.4k inserts/s)',
  quick: { records: 100, ops: 100 },
};

export const nodePersistPeer: Peer = {
  name: 'node-persist',
  config: 'node-persist with default options in the sample folder; every call awaited.',
  boundedMemory: true,
  capability(w: WorkloadId): Capability {
    if (w === 'W2')
      return {
        ok: false,
        reason:
          'stores values as JSON: a Float64Array comes back as a plain object (8 MiB of doubles become ~20 MB of text)',
      };
    return { ok: true, limit: NODE_PERSIST_LIMIT };
  },
  async open(o: OpenOptions): Promise<Store> {
    const s = storage.create({ dir: o.dir });
    await s.init();
    return new PersistStore(s);
  },
};
