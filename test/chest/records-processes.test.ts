import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Chest, LmdbStore } from '../../src/index.js';
import { freshPath } from '../helpers.js';
import { runTs } from '../fixtures/mixed-run.js';
import { raceShapes, raceValue, tagValue, type Report } from '../fixtures/shapes-worker.js';

const shapesWorker = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/shapes-worker.ts');

/** Runs one command of `test/fixtures/shapes-worker.ts` in another process; returns its report. */
async function shapes(...args: string[]): Promise<Report> {
  const exit = await runTs(shapesWorker, args);
  expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({
    code: 0,
    signal: null,
    stderr: '',
  });
  return JSON.parse(exit.stdout) as Report;
}

/** The chest's table of shared record structures, as the store keeps it. */
function structuresOf(dir: string): string[][] {
  const store = new LmdbStore({ path: dir, inlineThreshold: 0, fileName: () => 'unused', readOnly: true });
  try {
    return store.structures.read();
  } finally {
    store.close();
  }
}

/** The entries of `list` that occur in it more than once. */
function duplicates(list: readonly (readonly string[])[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const keys of list) {
    const id = JSON.stringify(keys);
    if (seen.has(id)) twice.push(id);
    seen.add(id);
  }
  return twice;
}

/** How many of `keys` read from `chest` other than `expected(key)` (or fail to read), and the first few. */
function wrongValues(
  chest: Chest<string>,
  keys: string[],
  expected: (key: string) => unknown,
): { wrong: number; first: string[] } {
  const wrong: string[] = [];
  for (const key of keys) {
    try {
      if (!isDeepStrictEqual(chest.get(key), expected(key))) wrong.push(key);
    } catch (error) {
      wrong.push(`${key}: ${String(error)}`);
    }
  }
  return { wrong: wrong.length, first: wrong.slice(0, 10) };
}

const none = { wrong: 0, first: [] };

const WORKERS = 4;
const N = 2000;

describe('Chest record structures shared by several processes', () => {
  it('Chest under 4 processes inventing record structures at once: no value lost or misread, no structure recorded twice', async () => {
    const dir = freshPath();
    const sync = path.join(path.dirname(dir), 'sync');
    fs.mkdirSync(sync);
    new Chest({ path: dir }).close();
    const reports = await Promise.all(
      Array.from({ length: WORKERS }, (_, w) =>
        shapes('race', dir, sync, String(w), String(WORKERS), String(N)),
      ),
    );
    for (const report of reports)
      expect({ worker: report.worker, errors: report.errors, mismatches: report.mismatches }).toEqual({
        worker: report.worker,
        errors: [],
        mismatches: 0,
      });
    expect(reports.map((r) => r.checked)).toEqual(Array<number>(WORKERS).fill(WORKERS * N));
    // The writers did read one another's values while all were still writing.
    expect(reports.every((r) => r.checkedWhileWriting > 0)).toBe(true);

    // Again in this process, with a chest that reads the table only as it is in the end.
    const keys = Array.from({ length: WORKERS * N }, (_, k) => `w${Math.floor(k / N)}:${k % N}`);
    {
      using chest = new Chest<string, unknown>({ path: dir });
      expect(chest.size).toBe(WORKERS * N);
      expect(
        wrongValues(chest, keys, (key) => {
          const [w, i] = key.slice(1).split(':').map(Number);
          return raceValue(w!, i!);
        }),
      ).toEqual(none);
    }

    // More shapes than places: the table is full, each structure in it once, and only shapes written.
    const table = structuresOf(dir);
    expect(table.length).toBe(32);
    expect(duplicates(table)).toEqual([]);
    const known = new Set(raceShapes(WORKERS).map((k) => JSON.stringify(k)));
    expect(table.filter((k) => !known.has(JSON.stringify(k)))).toEqual([]);
  });

  it('Chest reads values of structures another process added after this one loaded the table, and adds its own after them', async () => {
    const dir = freshPath();
    const tagKeys = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${tag}:${i}`);
    const expected = (key: string): unknown => {
      const [tag, i] = key.split(':');
      return tag === 'a' ? { p: Number(i), q: 'a' } : tagValue(tag!, Number(i));
    };
    using a = new Chest<string, unknown>({ path: dir });
    // A records a structure and reads a value back from the store: its packer holds the table now.
    a.set('a:0', { p: 0, q: 'a' });
    a.flush();
    a.spill(['a:0']);
    expect(a.inMemory('a:0')).toBe(false);
    expect(a.get('a:0')).toEqual({ p: 0, q: 'a' });
    expect(structuresOf(dir)).toEqual([['p', 'q']]);

    // B adds structures A has never seen; A meets them in values it reads.
    expect((await shapes('add', dir, 'b', '12')).errors).toEqual([]);
    expect(structuresOf(dir).length).toBe(9);
    expect(wrongValues(a, tagKeys('b', 12), expected)).toEqual(none);

    // D adds more, which A does not read before it adds structures of its own: A's first attempt
    // to record them meets a table that moved on, and must take D's and go after them.
    expect((await shapes('add', dir, 'd', '12')).errors).toEqual([]);
    for (const key of tagKeys('c', 12)) a.set(key, expected(key));
    a.flush();
    a.spill();
    expect(wrongValues(a, [...tagKeys('c', 12), ...tagKeys('d', 12), ...tagKeys('b', 12)], expected)).toEqual(
      none,
    );
    for (const tag of ['b', 'c', 'd'])
      expect(await shapes('check', dir, tag, '12')).toMatchObject({ errors: [], mismatches: 0, checked: 12 });

    const table = structuresOf(dir);
    expect(duplicates(table)).toEqual([]);
    // In the order they were recorded: A's first, then B's, D's and A's new ones, 8 each.
    expect(table.map((keys) => keys[0]!.charAt(0))).toEqual([
      'p',
      ...Array<string>(8).fill('b'),
      ...Array<string>(8).fill('d'),
      ...Array<string>(8).fill('c'),
    ]);
  });
});
