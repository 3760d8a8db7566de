import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderStore, main } from '../../examples/custom-store.js';
import type { AnyStore } from '../../src/stores/types.js';
import { storeSuite } from '../conformance/store-suite.js';
import { freshPath } from '../helpers.js';

const dirs: string[] = [];

storeSuite('FolderStore (the custom store example)', {
  open: () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-folder-'));
    dirs.push(dir);
    return new FolderStore(dir).init();
  },
  reopen: (store: AnyStore) => new FolderStore(store.location).init(),
  cleanup: () => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  },
});

describe('the custom store example', () => {
  it('custom store example runs a chest that spills, reopens and reads back', async () => {
    expect(await main(freshPath())).toBe(81 + 100);
  });
});
