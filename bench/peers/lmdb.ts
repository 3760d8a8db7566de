/**
 * lmdb-js used directly: every value on disk (the OS page cache is its only memory tier). Records are
 * encoded with the serializer Chest uses by default ('structured', imported from the library), given
 * to lmdb as its encoder; W2 arrays are stored as raw bytes (binary encoding), as Chest stores binary
 * values. Puts are issued in one event turn and only the last one is awaited, which is how lmdb's
 * documentation recommends batching them; gets are synchronous.
 */
import { open, type RootDatabase } from 'lmdb';
import { structured } from '../../src/serializers/structured.js';
import type { Capability, OpenOptions, Peer, Store } from '../lib/types.js';
import { bytesOf, toFloat64 } from './util.js';

/** Chest's own default serializer ('structured'), so both pay the same for encoding. */
const structuredEncoder = {
  encode: (value: unknown): Uint8Array => structured.dump(value) as Uint8Array,
  decode: (bytes: Buffer): unknown => structured.load(bytes),
};

/** lmdb for records, encoded like Chest's values (also the store behind lru-cache in W3). */
export function openLmdbRecords(dir: string): RootDatabase<unknown, string> {
  return open<unknown, string>({ path: dir, encoder: structuredEncoder });
}

class LmdbStore implements Store {
  readonly setMode = 'batched';
  readonly getMode = 'sync';
  readonly persistent = true;

  constructor(private readonly db: RootDatabase<unknown, string>) {}

  set(key: string, value: unknown): Promise<boolean> {
    return this.db.put(key, value);
  }
  get(key: string): unknown {
    return this.db.get(key);
  }
  async flush(): Promise<void> {
    await this.db.flushed;
  }
  async close(): Promise<void> {
    await this.db.close();
  }
  count(): number {
    return this.db.getCount();
  }
}

class LmdbArrayStore extends LmdbStore {
  override set(key: string, value: unknown): Promise<boolean> {
    return super.set(key, bytesOf(value as Float64Array));
  }
  override get(key: string): unknown {
    const b = super.get(key) as Buffer | undefined;
    return b === undefined ? undefined : toFloat64(b);
  }
}

export const lmdbPeer: Peer = {
  name: 'lmdb',
  config:
    "lmdb-js used directly: open({ path }) with Chest's default serializer as its encoder " +
    '("structured"), binary encoding for W2 arrays; puts issued in one event turn with only the ' +
    'last awaited (its documented batching), synchronous gets. No memory budget: the OS page cache holds ' +
    'what it holds.',
  boundedMemory: true,
  capability(): Capability {
    return { ok: true };
  },
  open(o: OpenOptions): Promise<Store> {
    if (o.values === 'arrays')
      return Promise.resolve(new LmdbArrayStore(open<unknown, string>({ path: o.dir, encoding: 'binary' })));
    return Promise.resolve(new LmdbStore(openLmdbRecords(o.dir)));
  },
};
