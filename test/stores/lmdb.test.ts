import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LmdbStore } from '../../src/stores/lmdb/store.js';
import { storeSuite } from '../conformance/store-suite.js';

const dirs: string[] = [];
const make = (dir: string): LmdbStore =>
  new LmdbStore({
    path: dir,
    inlineThreshold: 64 * 1024,
    fileName: (k) => `v${Buffer.from(k).toString('hex')}`,
  });

storeSuite('LmdbStore', {
  open: () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-store-'));
    dirs.push(dir);
    return make(dir);
  },
  reopen: (store) => make(store.location),
  cleanup: () => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  },
});
