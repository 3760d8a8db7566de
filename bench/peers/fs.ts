/**
 * The W2 floor: the same bytes written with fs.writeFileSync and read with fs.readFileSync, one file
 * per array; and a second reader that fills one buffer, allocated once at the right size, with
 * fs.readSync (no allocation per read: every returned array is a view of that one buffer).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Capability, OpenOptions, Peer, Store, WorkloadId } from '../lib/types.js';
import { bytesOf, toFloat64 } from './util.js';

class FsStore implements Store {
  readonly setMode = 'sync';
  readonly getMode = 'sync';
  readonly persistent = true;

  constructor(protected readonly dir: string) {}

  protected file(key: string): string {
    return join(this.dir, key + '.f64');
  }
  set(key: string, value: unknown): void {
    writeFileSync(this.file(key), bytesOf(value as Float64Array));
  }
  get(key: string): unknown {
    try {
      return toFloat64(readFileSync(this.file(key)));
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  flush(): void {}
  close(): void {}
}

class FsReadSyncStore extends FsStore {
  private buffer: Buffer | undefined;

  override get(key: string): unknown {
    let fd: number;
    try {
      fd = openSync(this.file(key), 'r');
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const size = fstatSync(fd).size;
      if (this.buffer?.length !== size) this.buffer = Buffer.allocUnsafeSlow(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, this.buffer, done, size - done, done);
        if (n === 0) throw new Error(`short read of ${key}`);
        done += n;
      }
      return toFloat64(this.buffer);
    } finally {
      closeSync(fd);
    }
  }
}

const floorOnly = (w: WorkloadId): Capability =>
  w === 'W2'
    ? { ok: true }
    : { ok: false, reason: 'the W2 floor only (one file per array, no key-value store)' };

export const fsPeer: Peer = {
  name: 'fs',
  config: 'The W2 floor: fs.writeFileSync / fs.readFileSync of the same bytes, one file per array, no fsync.',
  boundedMemory: true,
  capability: floorOnly,
  open(o: OpenOptions): Promise<Store> {
    return Promise.resolve(new FsStore(o.dir));
  },
};

export const fsReadSyncPeer: Peer = {
  name: 'fs-readsync',
  config:
    'Same writes as fs; reads with fs.readSync into one buffer allocated once at the right size ' +
    '(returned arrays are views of it).',
  boundedMemory: true,
  capability: floorOnly,
  open(o: OpenOptions): Promise<Store> {
    return Promise.resolve(new FsReadSyncStore(o.dir));
  },
};
