import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKey } from '../../src/keys/codec.js';
import { defaultKeyToFilename, safeRelativePath } from '../../src/keys/filename.js';
import type { Key } from '../../src/keys/types.js';

const HASHED = /^@[0-9a-f]{2}\/[0-9a-f]{30}$/;
const HASH_TOKEN = /^@[0-9a-f]{32}$/;

/** Keys near the simple-name rules, so that readable names and their look-alikes meet often. */
const nameLike = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_@.][a-zA-Z0-9_]{0,4}$/),
  fc.constantFrom('x', 'X', 'con', 'CON', 'com1', 'a'.repeat(64), 'a'.repeat(65), '', '1/2', '../x'),
);
const atom: fc.Arbitrary<Key> = fc.oneof(
  nameLike,
  fc.string(),
  fc.integer({ min: -3, max: 3 }),
  fc.bigInt({ min: -3n, max: 3n }),
  fc.constantFrom<Key>(null, undefined, true, false, NaN, new Date(0)),
);
const keyArb: fc.Arbitrary<Key> = fc.oneof(
  atom,
  fc.array(atom, { maxLength: 4 }),
  fc.array(fc.oneof(atom, fc.array(atom, { maxLength: 2 })), { maxLength: 3 }),
);

describe('defaultKeyToFilename', () => {
  it('defaultKeyToFilename keeps a simple lowercase name', () => {
    expect(defaultKeyToFilename('x')).toBe('x');
    expect(defaultKeyToFilename('a_1')).toBe('a_1');
    expect(defaultKeyToFilename('a'.repeat(64))).toBe('a'.repeat(64));
  });

  it('defaultKeyToFilename nests tuples into folders', () => {
    expect(defaultKeyToFilename(['one', 'two'])).toBe('_one/two');
    expect(defaultKeyToFilename(['a', 'b', 'c'])).toBe('_a/_b/c');
    const folder = (p: string): string => p.slice(0, p.lastIndexOf('/'));
    expect(folder(defaultKeyToFilename(['one', 'two']))).toBe(folder(defaultKeyToFilename(['one', 'three'])));
  });

  it('defaultKeyToFilename hashes a tuple element that is not a simple name', () => {
    const [first, second] = defaultKeyToFilename(['a', 1]).split('/');
    expect(first).toBe('_a');
    expect(second).toMatch(HASH_TOKEN);
    const path = defaultKeyToFilename(['X', ['b'], 'c']).split('/');
    expect(path).toHaveLength(3);
    expect(path[0]).toMatch(/^_@[0-9a-f]{32}$/);
    expect(path[1]).toMatch(/^_@[0-9a-f]{32}$/);
    expect(path[2]).toBe('c');
  });

  it('defaultKeyToFilename hashes every other key into a two-level path', () => {
    const keys: Key[] = [
      1,
      0,
      1n,
      null,
      undefined,
      true,
      new Date(0),
      [],
      ['one'],
      [['a', 'b']],
      'X',
      'xY',
      '1/2',
      '../../etc',
      '',
      '_a',
      '@ab',
      'a'.repeat(65),
      'con',
      'lpt9',
      'a-b',
      'é',
    ];
    for (const key of keys) expect(defaultKeyToFilename(key)).toMatch(HASHED);
  });

  it('defaultKeyToFilename gives the same path for equal keys', () => {
    expect(defaultKeyToFilename(['a', 1, -0])).toBe(defaultKeyToFilename(['a', 1, 0]));
    expect(defaultKeyToFilename(new Date(5))).toBe(defaultKeyToFilename(new Date(5)));
  });

  it('defaultKeyToFilename gives paths that safeRelativePath accepts', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const path = defaultKeyToFilename(key);
        expect(safeRelativePath(path)).toBe(path);
      }),
      { numRuns: 1000 },
    );
  });

  it('defaultKeyToFilename maps distinct keys to paths distinct ignoring case', () => {
    const distinctKeys = fc.uniqueArray(keyArb, {
      selector: (k) => Buffer.from(encodeKey(k)).toString('hex'),
      maxLength: 40,
    });
    fc.assert(
      fc.property(distinctKeys, (keys) => {
        const paths = keys.map((k) => defaultKeyToFilename(k).toLowerCase());
        expect(new Set(paths).size).toBe(paths.length);
        // No file sits where another key needs a folder.
        for (const p of paths) for (const q of paths) expect(q.startsWith(p + '/')).toBe(false);
      }),
      { numRuns: 500 },
    );
    expect(defaultKeyToFilename('X').toLowerCase()).not.toBe(defaultKeyToFilename('x'));
  });

  it('defaultKeyToFilename rejects unsupported keys with their position', () => {
    expect(() => defaultKeyToFilename(['a', { b: 1 }] as unknown as Key)).toThrow(
      'unsupported key type: object at [1]',
    );
    expect(() => defaultKeyToFilename(Symbol('s') as unknown as Key)).toThrow(TypeError);
  });
});

describe('safeRelativePath', () => {
  it('safeRelativePath returns ordinary relative names unchanged', () => {
    for (const name of ['a', 'a/b.bin', '_x/@y', 'a.tmp2', 'dir/.hidden', 'chest/x', 'a b']) {
      expect(safeRelativePath(name)).toBe(name);
    }
  });

  it('safeRelativePath rejects names that could escape the directory or clash with its own files', () => {
    const bad = [
      '../a',
      '..',
      '/abs',
      'a/../b',
      'a/./b',
      '.chest/x',
      '.chest',
      '.CHEST/x',
      '.chest./x',
      'a\\b',
      '..\\a',
      '',
      'a\0b',
      'x.tmp',
      'd/x.TMP',
      'x.tmp.',
      'x.tmp/y.bin',
      'a//b',
      'a/',
      '...',
      'a/. ',
      'C:/x',
      'c:x',
      'a:b',
      'con',
      'd/NUL.txt',
      'com1 ',
    ];
    for (const name of bad) expect(() => safeRelativePath(name), JSON.stringify(name)).toThrow(TypeError);
    expect(() => safeRelativePath('../a')).toThrow("'..' path segment");
    expect(() => safeRelativePath('.chest/x')).toThrow('reserved for the index');
  });

  it('safeRelativePath rejects a name that is not a string', () => {
    expect(() => safeRelativePath(42 as unknown as string)).toThrow('expected a string, got number');
  });
});
