import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/stores/lmdb/store.js';
import { freshPath } from '../helpers.js';

const key = (s: string): Buffer => Buffer.from(s);
/** Every key asks for the same file name, as two keys of a custom `keyToFilename` may. */
const open = (dir: string): LmdbStore =>
  new LmdbStore({ path: dir, inlineThreshold: 4, fileName: () => 'same' });
const put = (store: LmdbStore, k: string, text: string): void => {
  store.write([{ type: 'put', key: key(k), value: { kind: 6, codec: 0, data: Buffer.from(text) } }]);
};

describe('LmdbStore file names shared by writers', () => {
  it('LmdbStore keeps a replaced file name from another writer until its own next commit frees it', () => {
    const dir = freshPath();
    // Two stores on one index stand for two processes: each commits on its own.
    const a = open(dir);
    const b = open(dir);
    try {
      put(a, 'x', 'first version');
      expect(a.info(key('x'))!.file).toBe(path.join(dir, 'same'));
      put(a, 'x', 'second version');
      // 'same' was given up by that commit and its file removed after it. Until a's next commit, the
      // name stays taken: were b to reuse it now, a removal coming late would delete b's value.
      expect(fs.existsSync(path.join(dir, 'same'))).toBe(false);
      put(b, 'y', 'value of y');
      const yFile = b.info(key('y'))!.file!;
      expect(yFile).not.toBe(path.join(dir, 'same'));
      put(a, 'z', 'tiny');
      put(b, 'w', 'value of w');
      expect(b.info(key('w'))!.file).toBe(path.join(dir, 'same'));
      expect(Buffer.from(b.get(key('y'))!.data).toString()).toBe('value of y');
      expect(Buffer.from(a.get(key('x'))!.data).toString()).toBe('second version');
    } finally {
      a.close();
      b.close();
    }
  });
});
