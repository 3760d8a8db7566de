import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsyncChest, Chest, ErrorCode, isChestError, MemoryStore, type Key } from '../../src/index.js';
import { encodeKey, keyIdentity } from '../../src/keys/codec.js';
import { MAX_KEY_BYTES } from '../../src/stores/lmdb/store.js';
import { expectCode, freshPath, listFiles } from '../helpers.js';

/** Keys that have broken file-backed stores: empty, NUL, traversal, case twins, lone surrogates, long. */
const nasty = fc.constantFrom<Key>(
  '',
  '\0',
  'a\0b',
  '../',
  '..',
  '.',
  '../../etc/passwd',
  '/abs',
  'a/b',
  'a\\b',
  '.chest',
  '.chest/data.mdb',
  'CON',
  'con',
  'nul.txt',
  'x.tmp',
  'Abc',
  'abc',
  'ABC',
  '\ud800',
  '\udc00x',
  'é',
  'e\u0301',
  ' ',
  'a ',
  'a.',
  'x'.repeat(300),
  'y'.repeat(1000),
);
const atom = fc.oneof(
  nasty,
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
const keyArb: fc.Arbitrary<Key> = fc.oneof(atom, fc.array(atom, { minLength: 1, maxLength: 3 }));

/** Sets every key, closes, reopens: each key reads back exactly, or it is too long and its set failed with KEY_TOO_LONG. */
function roundTrip(keys: readonly Key[], naming?: (key: Key) => string): void {
  const dir = freshPath();
  const stored = new Map<unknown, [Key, string]>();
  {
    using chest = new Chest<Key, string>({
      path: dir,
      inlineThreshold: 8,
      availableMemory: 0,
      ...(naming === undefined ? {} : { keyToFilename: naming }),
    });
    for (const [i, key] of keys.entries()) {
      const value = `value ${i} `.repeat(3);
      try {
        chest.set(key, value);
        stored.set(keyIdentity(key), [key, value]);
      } catch (error) {
        // Every key here is a string or a tuple of strings, which a chest takes: the one refusal
        // allowed is a key too long for the index.
        expect(isChestError(error, ErrorCode.KEY_TOO_LONG), String(error)).toBe(true);
        expect(encodeKey(key).byteLength).toBeGreaterThan(MAX_KEY_BYTES);
      }
    }
  }
  using again = new Chest<Key, string>({
    path: dir,
    ...(naming === undefined ? {} : { keyToFilename: naming }),
  });
  expect(again.size).toBe(stored.size);
  for (const [key, value] of stored.values()) expect(again.get(key)).toBe(value);
  const back = new Set([...again.keys()].map(keyIdentity));
  expect(back).toEqual(new Set(stored.keys()));
  // Every file is inside the chest, and with the default naming no two differ only in case.
  const files = listFiles(dir);
  for (const file of files)
    expect(fs.realpathSync(path.join(dir, file)).startsWith(fs.realpathSync(dir))).toBe(true);
  if (naming === undefined) expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(files.length);
  expect(again.verify().ok).toBe(true);
}

describe('bad keys', () => {
  it('every nasty key and tuples of them round-trip exactly through files, or are too long and fail with KEY_TOO_LONG', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { minLength: 1, maxLength: 12 }), (keys) => {
        roundTrip(keys);
      }),
      { numRuns: 40, seed: 4 },
    );
  });

  it('a key longer than the index allows fails with KEY_TOO_LONG at set, and spills of other keys go on', () => {
    using chest = new Chest<Key, string>({ path: freshPath(), availableMemory: 0 });
    const error = expectCode(() => chest.set('k'.repeat(5000), 'v'), ErrorCode.KEY_TOO_LONG);
    expect(error.keys).toEqual(['k'.repeat(5000)]);
    expectCode(() => chest.set(['t', 'u'.repeat(3000)], 'v'), ErrorCode.KEY_TOO_LONG);
    chest.set('fine', 'v');
    chest.flush();
    expect(chest.get('fine')).toBe('v');
    expect(chest.has('k'.repeat(5000))).toBe(false);
  });

  it('AsyncChest refuses a key longer than its store allows at set too, and spills of other keys go on', async () => {
    await using chest = await AsyncChest.open<Key, string>({ path: freshPath(), availableMemory: '1 MB' });
    const error = await chest.set('k'.repeat(5000), 'v').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isChestError(error, ErrorCode.KEY_TOO_LONG), String(error)).toBe(true);
    await expect(chest.set(['t', 'u'.repeat(3000)], 'v')).rejects.toMatchObject({
      code: ErrorCode.KEY_TOO_LONG,
    });
    await chest.set('fine', 'v');
    await chest.flush();
    expect(await chest.get('fine')).toBe('v');
    expect(await chest.has('k'.repeat(5000))).toBe(false);
  });

  it("a store without a key limit takes long keys: the limit is the store's, not the chest's", () => {
    using chest = new Chest<Key, string>({ store: new MemoryStore(), availableMemory: 0 });
    const long = 'k'.repeat(5000);
    chest.set(long, 'v');
    chest.flush();
    expect(chest.get(long)).toBe('v');
  });

  it('keys that differ only in case get files that differ in more than case, by default and with a custom naming', () => {
    roundTrip(['abc', 'Abc', 'ABC', ['a', 'B'], ['a', 'b']]);
    // A naming that keeps case: on a case-insensitive file system 'Abc' and 'abc' would be one file.
    // The store never writes over a file that is already there (see hostile.test.ts), so the second
    // key takes another name there; here, on a case-sensitive one, all three round-trip.
    roundTrip(['abc', 'Abc', 'ABC'], (key) => String(key));
  });
});
