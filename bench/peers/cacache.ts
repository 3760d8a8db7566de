/**
 * cacache (npm's content-addressable cache): every put hashes the content, writes it under its digest and
 * appends to a bucketed index. Records are stored as JSON text, W2 arrays as raw bytes; every call
 * awaited. About 600 inserts/s, so it runs on reduced sizes.
 */
import cacache from 'cacache';
import type { Capability, Limit, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';
import { bytesOf, toFloat64 } from './util.js';

class CacacheStore implements Store {
  readonly setMode = 'await';
  readonly getMode = 'await';
  readonly persistent = true;

  constructor(
    private readonly dir: string,
    private readonly arrays: boolean,
  ) {}

  set(key: string, value: unknown): Promise<string> {
    return cacache.put(this.dir, key, this.arrays ? bytesOf(value as Float64Array) : JSON.stringify(value));
  }
  async get(key: string): Promise<unknown> {
    let data: Buffer;
    try {
      data = (await cacache.get(this.dir, key)).data;
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
    return this.arrays ? toFloat64(data) : (JSON.parse(data.toString('utf8')) as unknown);
  }
  flush(): void {
    // put resolves once content and index entry are written.
  }
  close(): void {}
}

export const CACACHE_LIMIT: Limit = {
  records: 2_000,
  ops: 2_000,
  why: 'cacache hashes and writes a file per entry (~600 inserts/s)',
  quick: { records: 30, ops: 30 },
};

export const cacachePeer: Peer = {
  name: 'cacache',
  config: 'cacache in the sample folder, default options; JSON text for records, raw bytes for arrays.',
  boundedMemory: true,
  capability(w: WorkloadId): Capability {
    if (w === 'W2') return { ok: true };
    return { ok: true, limit: CACACHE_LIMIT };
  },
  open(o: OpenOptions): Promise<Store> {
    return Promise.resolve(new CacacheStore(o.dir, o.values === 'arrays'));
  },
};
