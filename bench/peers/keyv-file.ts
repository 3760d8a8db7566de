/**
 * keyv with the keyv-file store: every entry in a Map in memory, the whole Map written as one JSON file
 * at most every writeDelay (100 ms). keyv-file advises not to await each set (a set resolves only once the
 * file is written), so sets are issued in one event turn and the last one awaited; gets are awaited.
 */
import Keyv from 'keyv';
import { KeyvFile } from 'keyv-file';
import { join } from 'node:path';
import type { Capability, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';

class KeyvStore implements Store {
  readonly setMode = 'batched';
  readonly getMode = 'await';
  readonly persistent = true;

  constructor(private readonly kv: Keyv) {}

  set(key: string, value: unknown): Promise<boolean> {
    return this.kv.set(key, value);
  }
  get(key: string): Promise<unknown> {
    return this.kv.get(key);
  }
  flush(): void {
    // a set's promise resolves once the file holding it is written; the workloads await the last one.
  }
  async close(): Promise<void> {
    await this.kv.disconnect();
  }
}

export const keyvFilePeer: Peer = {
  name: 'keyv-file',
  config:
    'keyv with a KeyvFile store (default writeDelay 100 ms) writing one JSON file in the sample folder; ' +
    'sets issued in one event turn, last one awaited (as keyv-file advises); gets awaited.',
  boundedMemory: false,
  capability(w: WorkloadId): Capability {
    if (w === 'W2')
      return { ok: false, reason: 'stores values as JSON: a Float64Array comes back as a plain object' };
    return { ok: true };
  },
  open(o: OpenOptions): Promise<Store> {
    const store = new KeyvFile({ filename: join(o.dir, 'keyv.json') });
    return Promise.resolve(new KeyvStore(new Keyv({ store })));
  },
};
