import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LmdbStore } from '../../src/stores/lmdb/store.js';
import { AsyncLmdbStore } from '../../src/stores/lmdb/async-store.js';
import type { AnyStore } from '../../src/stores/types.js';
import { storeSuite } from '../conformance/store-suite.js';

const dirs: string[] = [];
const make = (dir: string): LmdbStore =>
  new LmdbStore({
    path: dir,
    inlineThreshold: 64 * 1024,
    fileName: (k) => `v${Buffer.from(k).toString('hex')}`,
  });
const fresh = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-store-'));
  dirs.push(dir);
  return dir;
};
const cleanup = (): void => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
};

storeSuite('LmdbStore', {
  open: () => make(fresh()),
  reopen: (store) => make(store.location),
  cleanup,
});

// The same store as AsyncChest uses it: value files through fs/promises.
storeSuite('AsyncLmdbStore', {
  open: () => new AsyncLmdbStore(make(fresh())),
  reopen: (store: AnyStore) => new AsyncLmdbStore(make(store.location)),
  cleanup,
});
