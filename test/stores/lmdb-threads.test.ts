import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/index.js';
import { lockedHere } from '../../src/stores/lmdb/env.js';
import { freshPath } from '../helpers.js';

const sources = new URL('../../src/index.ts', import.meta.url).href;

/** Opens the chest at `dir` in a worker thread, reads `key` and closes it; resolves to the value. */
function readInThread(dir: string, key: string): Promise<unknown> {
  // A thread does not inherit a TypeScript loader: it registers tsx's first.
  const entry = `import('tsx/esm/api')
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(sources)}); })
    .then(({ Chest }) => {
      const { parentPort, workerData } = require('node:worker_threads');
      const chest = new Chest({ path: workerData.dir });
      const value = chest.get(workerData.key);
      chest.close();
      parentPort.postMessage(value);
    });`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry, { eval: true, workerData: { dir, key } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('an index open in several threads of one process', () => {
  it("a chest opened and closed in a worker thread leaves the process's lock on the index", async () => {
    const dir = freshPath();
    using chest = new Chest<string, number>({ path: dir });
    chest.set('a', 1);
    chest.flush();
    const lock = path.join(dir, '.chest', 'lock.mdb');
    // LMDB holds a POSIX lock on its lock file for as long as the process has the index open: it
    // is how the next process to open it knows it is not the only user.
    expect(lockedHere(lock)).toBe(true);
    expect(await readInThread(dir, 'a')).toBe(1);
    expect(lockedHere(lock)).toBe(true);
    chest.set('b', 2);
    expect(await readInThread(dir, 'a')).toBe(1);
    expect(lockedHere(lock)).toBe(true);
  });
});
