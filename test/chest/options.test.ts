import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AsyncChest,
  Chest,
  ErrorCode,
  isChestError,
  MemoryStore,
  toAsyncStore,
  type ChestOptions,
  type SyncStore,
} from '../../src/index.js';
import { freshPath } from '../helpers.js';

/** The error a constructor throws, or undefined. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

const bad: [string, ChestOptions<string, unknown>][] = [
  ['an unknown eviction policy', { eviction: 'fifo' as 'lru' }],
  ['a negative maxEntries', { maxEntries: -1 }],
  ['a fractional maxEntries', { maxEntries: 1.5 }],
  ['a fractional inlineThreshold', { inlineThreshold: 10.5 }],
  ['an unreadable availableMemory', { availableMemory: 'lots' }],
  ['availableDisk as a share', { availableDisk: '10%' }],
  ['an unknown onDiskFull', { availableDisk: 1000, onDiskFull: 'drop' as 'evict' }],
  ['onDiskFull without availableDisk', { onDiskFull: 'evict' }],
  ['readOnly without a path', { readOnly: true }],
];

describe('Chest and AsyncChest options', () => {
  it.each(bad)('both refuse %s with the same error', (_, options) => {
    const sync = thrownBy(() => new Chest(options));
    const async = thrownBy(() => new AsyncChest(options));
    // Misuse, not a ChestError.
    expect(sync instanceof TypeError || sync instanceof RangeError).toBe(true);
    expect((async as Error).constructor).toBe((sync as Error).constructor);
    expect((async as Error).message).toBe((sync as Error).message);
  });

  it('AsyncChest with durable: a set is in the store before it resolves', async () => {
    const path = freshPath();
    await using chest = await AsyncChest.open<string, number[]>({ path, durable: true, eviction: 'lru' });
    await chest.set('a', [1, 2, 3]);
    // Another chest on the same directory sees it with no flush or close.
    using reader = new Chest<string, number[]>({ path, readOnly: true });
    expect(reader.get('a')).toEqual([1, 2, 3]);
    expect(await chest.delete('a')).toBe(true);
    expect(reader.has('a')).toBe(false);
  });

  it('AsyncChest past availableDisk rejects with DISK_FULL and keeps what it stored', async () => {
    const value = (i: number): Uint8Array => new Uint8Array(10_000).fill(i);
    await using chest = await AsyncChest.open<string, Uint8Array>({
      path: freshPath(),
      availableDisk: '100 kB',
      availableMemory: 0,
      inlineThreshold: 4096,
    });
    let i = 0;
    let error: unknown;
    try {
      for (; i < 100; i++) await chest.set(`k${i}`, value(i));
    } catch (e) {
      error = e;
    }
    expect(isChestError(error, ErrorCode.DISK_FULL)).toBe(true);
    expect(i).toBeGreaterThanOrEqual(8);
    expect(i).toBeLessThan(10);
    for (let j = 0; j < i; j++) expect(await chest.get(`k${j}`)).toEqual(value(j));
  });

  it("AsyncChest with onDiskFull: 'evict' drops the least recently used entries and names them", async () => {
    const value = (i: number): Uint8Array => new Uint8Array(10_000).fill(i);
    const evicted: string[] = [];
    await using chest = await AsyncChest.open<string, Uint8Array>({
      path: freshPath(),
      availableDisk: 100_000,
      onDiskFull: 'evict',
      onEvict: (keys) => evicted.push(...keys),
      availableMemory: 0,
      inlineThreshold: 4096,
    });
    for (let i = 0; i < 8; i++) await chest.set(`k${i}`, value(i));
    expect(await chest.get('k0')).toEqual(value(0));
    for (let i = 8; i < 12; i++) await chest.set(`k${i}`, value(i));
    expect(evicted.length).toBeGreaterThan(0);
    expect(evicted).not.toContain('k0');
    for (const key of evicted) expect(await chest.has(key)).toBe(false);
    for (let i = 0; i < 12; i++) {
      if (!evicted.includes(`k${i}`)) expect(await chest.get(`k${i}`)).toEqual(value(i));
    }
    expect(await chest.size()).toBe(12 - evicted.length);
  });

  it('a keyToFilename that gives a key no usable name fails that set, and every other value is written', async () => {
    const naming = (key: string): string => {
      if (key === 'bad') return '../outside';
      if (key === 'throws') throw new Error('no name for this one');
      return key;
    };
    const dir = freshPath();
    {
      using chest = new Chest<string, number>({ path: dir, inlineThreshold: 0, keyToFilename: naming });
      chest.set('good', 1);
      expect(() => chest.set('bad', 2)).toThrow(/keyToFilename gives the key 'bad' no usable file name/);
      expect(() => chest.set('throws', 3)).toThrow(/no name for this one/);
      expect(() => chest.compute('bad', () => 4)).toThrow(TypeError);
      expect(chest.has('bad')).toBe(false);
      chest.flush();
    }
    using again = new Chest<string, number>({ path: dir, keyToFilename: naming });
    expect([...again.keys()]).toEqual(['good']);
    expect(again.get('good')).toBe(1);

    const adir = freshPath();
    const achest = await AsyncChest.open<string, number>({
      path: adir,
      inlineThreshold: 0,
      keyToFilename: naming,
    });
    await achest.set('good', 1);
    const error: unknown = await achest.set('bad', 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    await achest.close();
    const areopened = await AsyncChest.open<string, number>({ path: adir, keyToFilename: naming });
    expect(await areopened.get('good')).toBe(1);
    expect(await areopened.has('bad')).toBe(false);
    await areopened.close();
  });

  it('a sizeOf that is not a function is refused, and a size that is not a finite count of bytes fails its set', async () => {
    expect(() => new Chest({ sizeOf: 5 as unknown as () => number })).toThrow(/sizeOf must be a function/);
    for (const bad of [Number.NaN, -1, Infinity, '64' as unknown as number]) {
      using chest = new Chest<string, string>({ availableMemory: 1000, sizeOf: () => bad });
      expect(() => chest.set('k', 'v'), String(bad)).toThrow(/sizeOf gave .* for the key 'k'/);
      expect(chest.has('k')).toBe(false);
      expect(chest.memoryUsage).toBe(0);
    }
    const chest = await AsyncChest.open<string, string>({ sizeOf: () => Number.NaN });
    const error: unknown = await chest.set('k', 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    await chest.close();
  });

  it.each([
    ['readOnly', 'no'],
    ['readOnly', 0],
    ['durable', 'yes'],
    ['immutable', 1],
  ])('both refuse %s: %j, naming the option, before touching the path', (name, value) => {
    const path = freshPath();
    for (const open of [
      (options: ChestOptions<string, unknown>) => new Chest(options),
      (options: ChestOptions<string, unknown>) => new AsyncChest(options),
    ]) {
      const error = thrownBy(() => open({ path, [name]: value }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain(`${name} must be true or false`);
      expect(fs.existsSync(path)).toBe(false);
    }
  });

  it("both refuse path: '', which would put the chest in the working directory", () => {
    const cwd = process.cwd();
    const empty = freshPath();
    fs.mkdirSync(empty);
    process.chdir(empty);
    try {
      for (const open of [() => new Chest({ path: '' }), () => new AsyncChest({ path: '' })]) {
        const error = thrownBy(open);
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(/^path must be a non-empty string/);
      }
      expect(() => new Chest({ path: 42 as unknown as string })).toThrow(/^path must be a non-empty string/);
      expect(fs.readdirSync(empty)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('both refuse an option name they do not know, or options that are not an object, before opening anything', async () => {
    const path = freshPath();
    const misspelt = { dir: path } as unknown as ChestOptions<string, number>;
    for (const open of [() => new Chest(misspelt), () => new AsyncChest(misspelt)]) {
      // A temporary chest in its place would be removed at exit, with all it was given.
      expect(open).toThrow(/^unknown option "dir"; the options are path, availableMemory, /);
    }
    const cased = { PATH: path } as unknown as ChestOptions<string, number>;
    expect(() => new Chest(cased)).toThrow(/unknown option "PATH" \(did you mean path\?\)/);
    const text = path as unknown as ChestOptions<string, number>;
    expect(() => new Chest(text)).toThrow(
      /^the options must be an object, such as \{ path: '.\/my-chest' \}, got "/,
    );
    await expect(AsyncChest.open(text)).rejects.toThrow(/^the options must be an object/);
    expect(fs.existsSync(path)).toBe(false);
  });

  it('Chest refuses an asynchronous store, naming AsyncChest', async () => {
    const memory = new MemoryStore();
    const store = toAsyncStore(memory) as unknown as SyncStore;
    expect(() => new Chest({ store })).toThrow(
      /^Chest needs a synchronous store \(features.sync true\), and this \w+ is not one: open it with AsyncChest/,
    );
    await using chest = await AsyncChest.open<string, number>({ store });
    await chest.set('a', 1);
    expect(await chest.get('a')).toBe(1);
  });

  it('a new chest with an unnamed dump and load is refused before its directory is made', async () => {
    const path = freshPath();
    const options = { path, dump: JSON.stringify, load: JSON.parse };
    expect(() => new Chest(options)).toThrow(/needs its dump and load to have a name: give serializerName/);
    await expect(AsyncChest.open(options)).rejects.toThrow(/needs its dump and load to have a name/);
    expect(fs.existsSync(path)).toBe(false);
  });

  it("update refuses an overwrite that is not a boolean, instead of taking 'no' for yes", () => {
    using chest = new Chest<string, number>();
    chest.set('a', 1);
    expect(() => chest.update([['a', 2]], { overwrite: 'no' as unknown as boolean })).toThrow(
      /overwrite must be true or false, got "no"/,
    );
    expect(chest.get('a')).toBe(1);
  });
});
