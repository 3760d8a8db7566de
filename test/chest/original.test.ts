/**
 * The behaviours the original Python chest's test suite checks, as tests of this library. Where the
 * APIs differ the test says how: `c[k]` is `get`/`set`, `c.inmem` is `inMemory`, `move_to_disk` is
 * `spill`, a missing key gives `undefined` (a `Map`) rather than `KeyError`, and `flush()` keeps values
 * in memory (it only writes them), so tests that expected an empty memory after `flush` use `spill`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chest, ErrorCode, defaultKeyToFilename, sizeOf, type Key } from '../../src/index.js';
import { expectCode, freshPath } from '../helpers.js';

const ints = (n: number, fill: number): Int32Array => new Int32Array(n).fill(fill);
const contentsOf = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((name) => name !== '.chest')
    .sort();

describe('Chest, as the original chest is tested', () => {
  it('Chest basic: set, get, size and iteration', () => {
    using c = new Chest<Key, unknown>();
    c.set(1, 'one');
    c.set('two', 2);
    expect(c.get(1)).toBe('one');
    expect(c.get('two')).toBe(2);
    expect(c.path).toBeTruthy();
    expect(c.size).toBe(2);
    expect(new Set(c.keys())).toEqual(new Set([1, 'two']));
  });

  it('Chest paths: a spilled value has a file holding it', () => {
    using c = new Chest<Key, string>({ inlineThreshold: 0 });
    expect(fs.existsSync(c.path)).toBe(true);
    c.set(1, 'one');
    c.spill([1]);
    const file = c.keyToFilename(1);
    expect(fs.existsSync(file)).toBe(true);
    expect(c.inMemory(1)).toBe(false);
    expect(c.get(1)).toBe('one');
  });

  it('Chest limited storage: only what fits stays in memory', () => {
    const x = ints(1000, 1);
    const y = ints(1000, 1);
    using c = new Chest<string, Int32Array>({ availableMemory: 5000 });
    c.set('x', x);
    c.set('y', y);
    expect(c.memoryUsage).toBeLessThan(c.availableMemory);
    expect(c.has('x')).toBe(true);
    expect(c.has('y')).toBe(true);
    expect(c.inMemory('x')).toBe(false);
    expect(c.inMemory('y')).toBe(true);
    expect(c.get('x')).toEqual(x);
    expect(c.get('y')).toEqual(y);
  });

  it('Chest limited storage: with no memory at all nothing stays in memory', () => {
    const x = ints(1000, 1);
    const y = ints(1000, 2);
    using c = new Chest<string, Int32Array>({ availableMemory: 0 });
    c.set('x', x);
    c.set('y', y);
    expect(c.memoryUsage).toBe(0);
    expect(c.get('x')).toEqual(x);
    expect(c.memoryUsage).toBe(0);
    expect(c.inMemory('x')).toBe(false);
  });

  it('Chest shrink: a new value pushes the least recent one out', () => {
    // 80 and 40 bytes of values, plus the key and 64 bytes of bookkeeping each.
    using c = new Chest<string, BigInt64Array>({ availableMemory: 200 });
    c.set('one', new BigInt64Array(10).fill(1n));
    expect(c.inMemory('one')).toBe(true);
    c.set('two', new BigInt64Array(5).fill(2n));
    expect(c.inMemory('two')).toBe(true);
    expect(c.inMemory('one')).toBe(false);
    expect(c.get('one')).toEqual(new BigInt64Array(10).fill(1n));
  });

  it('Chest drop: removes the directory', () => {
    const c = new Chest();
    c.set('a', 1);
    c.flush();
    c.drop();
    expect(fs.existsSync(c.path)).toBe(false);
  });

  it('Chest flush: writes files, and later values replace them', () => {
    using c = new Chest<number, string>({ inlineThreshold: 0 });
    c.set(1, 'one');
    c.set(2, 'two');
    c.flush();
    expect(fs.existsSync(c.keyToFilename(1))).toBe(true);
    expect(fs.existsSync(c.keyToFilename(2))).toBe(true);
    c.set(1, 'two');
    c.set(2, 'one');
    c.flush();
    expect(c.get(1)).toBe('two');
    expect(c.get(2)).toBe('one');
    c.spill();
    expect(c.get(1)).toBe('two');
    expect(c.get(2)).toBe('one');
  });

  it('Chest keys, values and entries', () => {
    using c = new Chest<number, string>();
    c.set(1, 'one');
    c.set(2, 'two');
    expect(new Set(c.keys())).toEqual(new Set([1, 2]));
    expect(new Set(c.values())).toEqual(new Set(['one', 'two']));
    expect(new Map(c.entries())).toEqual(
      new Map([
        [1, 'one'],
        [2, 'two'],
      ]),
    );
  });

  it('Chest recreate: a second chest on the same path sees the same items', () => {
    const p = freshPath();
    const c = new Chest<number, string>({ path: p });
    c.set(1, 'one');
    c.set(2, 'two');
    c.flush();
    const c2 = new Chest<number, string>({ path: p });
    expect(new Map(c2)).toEqual(new Map(c));
    c2.close();
    c.close();
  });

  it('Chest delete: removes the key and its file', () => {
    using c = new Chest<number, string>({ inlineThreshold: 0 });
    c.set(1, 'one');
    c.set(2, 'two');
    c.delete(1);
    expect(c.has(1)).toBe(false);
    c.flush();
    expect(c.has(2)).toBe(true);
    const file = c.keyToFilename(2);
    expect(fs.existsSync(file)).toBe(true);
    c.delete(2);
    expect(c.has(2)).toBe(false);
    // The store's copy goes with the next spill or flush, batched with other changes.
    c.flush();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('Chest toString names its path', () => {
    using c = new Chest();
    expect(String(c)).toContain(c.path);
  });

  it('Chest prefetch of a key already in memory changes nothing', () => {
    using c = new Chest<number, string>();
    c.set(1, 'one');
    c.prefetch([1]);
    expect(c.inMemory(1)).toBe(true);
    expect(c.stats.loads).toBe(0);
  });

  it('Chest missing keys: get gives undefined and nothing is created', () => {
    using c = new Chest<Key, unknown>();
    expect(c.get(1)).toBeUndefined();
    expect(c.get([1, 2])).toBeUndefined();
    expect(c.has(1)).toBe(false);
    expect(c.size).toBe(0);
  });

  it('Chest reset item: a new value replaces a flushed one everywhere', () => {
    using c = new Chest<number, string>({ inlineThreshold: 0, serializer: 'json' });
    c.set(1, 'one');
    c.flush();
    const first = c.keyToFilename(1);
    expect(fs.readFileSync(first, 'utf8')).toBe('"one"');
    c.set(1, 'uno');
    expect(c.get(1)).toBe('uno');
    c.flush();
    // The new version has a file of its own, and the old one is gone.
    const second = c.keyToFilename(1);
    expect(second).not.toBe(first);
    expect(fs.readFileSync(second, 'utf8')).toBe('"uno"');
    expect(fs.existsSync(first)).toBe(false);
    c.spill();
    expect(c.get(1)).toBe('uno');
  });

  it('sizeOf is a whole number, small for a short string, exact for binary data', () => {
    expect(Number.isInteger(sizeOf('x', 'k'))).toBe(true);
    expect(sizeOf('x', 'k')).toBeLessThan(100);
    expect(sizeOf(ints(1000, 1), 'k')).toBeGreaterThanOrEqual(4000);
  });

  it('Chest on a temporary path is removed when closed', () => {
    const c = new Chest<number, string>();
    c.set(1, 'one');
    c.flush();
    const p = c.path;
    c.close();
    expect(fs.existsSync(p)).toBe(false);
  });

  it('Chest on a given path stays when closed', () => {
    const p = freshPath();
    const c = new Chest<number, string>({ path: p });
    c.set(1, 'one');
    c.close();
    expect(fs.existsSync(p)).toBe(true);
    const again = new Chest<number, string>({ path: p });
    expect(again.get(1)).toBe('one');
    again.drop();
    expect(fs.existsSync(p)).toBe(false);
  });

  it('Chest with JSON dump and load reopens with the same functions under the same name', () => {
    const p = freshPath();
    const options = { dump: JSON.stringify, load: JSON.parse, serializerName: 'json-text' };
    const c = new Chest<number, unknown>({ path: p, ...options });
    c.set(1, [1, 2, 3]);
    c.set(2, 'two');
    c.flush();
    const c2 = new Chest<number, unknown>({ path: p, ...options });
    expect(c2.get(1)).toEqual(c.get(1));
    expect(c2.get(2)).toEqual(c.get(2));
    c2.close();
    c.close();
  });

  it('defaultKeyToFilename keeps identifiers, and gives any other key a plain safe name', () => {
    expect(defaultKeyToFilename('x')).toBe('x');
    expect(typeof defaultKeyToFilename([1, [3, 4]])).toBe('string');
    const name = defaultKeyToFilename('1/2');
    expect(name).not.toContain('..');
    expect(path.isAbsolute(name)).toBe(false);
    expect(name.split('/').every((part) => /^[\w@]+$/.test(part))).toBe(true);
  });

  it('defaultKeyToFilename puts tuples that share a first element in one folder', () => {
    const a = path.dirname(defaultKeyToFilename(['one', 'two']));
    const b = path.dirname(defaultKeyToFilename(['one', 'three']));
    expect(a).toBe(b);
  });

  it('Chest with `using` is removed at the end of the block, even when it throws', () => {
    const paths: string[] = [];
    {
      using c = new Chest<number, number>();
      c.set(1, 1);
      c.flush();
      paths.push(c.path);
    }
    expect(() => {
      using c = new Chest();
      paths.push(c.path);
      throw new RangeError('inside');
    }).toThrow(RangeError);
    expect(paths).toHaveLength(2);
    for (const p of paths) expect(fs.existsSync(p)).toBe(false);
  });

  it('Chest stays consistent under interleaved gets and sets with a tiny budget', () => {
    using c = new Chest<number, number>({ availableMemory: 48 });
    for (let i = 0; i < 10; i++) c.set(i, i);
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 10;
    for (let i = 0; i < 300; i++) c.set(rand(), c.get(rand())!);
    const keys = [...c.keys()];
    expect(keys.every((k) => k >= 0 && k < 10)).toBe(true);
    expect([...c.values()].every((v) => v >= 0 && v < 10)).toBe(true);
    expect(c.size).toBe(10);
  });

  it('Chest keeps values it cannot serialize in memory, and never writes them', () => {
    using c = new Chest<Key, unknown>({ availableMemory: 2000, inlineThreshold: 0 });
    const undumpable = { f: (): number => 1 };
    c.set('a', undumpable);
    for (let i = 0; i < 20; i++) c.set(i, i);
    expect(c.inMemory('a')).toBe(true);
    expect(c.get('a')).toBe(undumpable);
    expect(fs.existsSync(c.keyToFilename('a'))).toBe(false);
    const error = expectCode(() => c.flush(), ErrorCode.UNSERIALIZABLE);
    expect(error.keys).toEqual(['a']);
    expect(c.get(5)).toBe(5);
  });

  it('close reports the values it could not write, and says the chest closed without them', () => {
    const dir = freshPath();
    const c = new Chest<string, unknown>({ path: dir });
    c.set('ok', 1);
    c.set('fn', () => 1);
    const error = expectCode(() => c.close(), ErrorCode.UNSERIALIZABLE);
    expect(error.keys).toEqual(['fn']);
    expect(error.message).toContain('closed without them');
    expect(error.message).not.toContain('stay in memory');
    expect(c.isClosed).toBe(true);
    using again = new Chest<string, unknown>({ path: dir });
    expect([...again.keys()]).toEqual(['ok']);
  });

  it('Chest update from another chest overwrites by default', () => {
    using c1 = new Chest<string, string>();
    using c2 = new Chest<string, string>();
    c1.set('foo', 'bar');
    c1.set('bar', 'bbq');
    c2.set('bar', 'foo');
    c2.set('spam', 'eggs');
    c1.update(c2);
    expect(c1.get('foo')).toBe('bar');
    expect(c1.get('bar')).toBe('foo');
    expect(c1.get('spam')).toBe('eggs');
    expect(c2.get('bar')).toBe('foo');
  });

  it('Chest update with overwrite false keeps what it has, and brings tuple keys', () => {
    using c1 = new Chest<Key, string>();
    using c2 = new Chest<Key, string>();
    c1.set('foo', 'bar');
    c1.set('bar', 'bbq');
    c2.set('bar', 'foo');
    c2.set(['spam', 'spam'], 'eggs');
    c1.update(c2, { overwrite: false });
    expect(c1.get('foo')).toBe('bar');
    expect(c1.get('bar')).toBe('bbq');
    expect(c1.get(['spam', 'spam'])).toBe('eggs');
  });

  it('Chest update from another chest hard-links value files', () => {
    using c1 = new Chest<Key, Float64Array>();
    using c2 = new Chest<Key, Float64Array>();
    const big = new Float64Array(20_000).fill(1.5);
    c2.set(['spam', 'spam'], big);
    c1.update(c2);
    expect(c1.get(['spam', 'spam'])).toEqual(big);
    c1.spill();
    const linked = fs.statSync(c1.keyToFilename(['spam', 'spam']));
    const original = fs.statSync(c2.keyToFilename(['spam', 'spam']));
    expect(linked.ino).toBe(original.ino);
    expect(linked.nlink).toBe(2);
  });

  it('Chest update from a Map or pairs copies them', () => {
    using c = new Chest<Key, number>();
    c.set('a', 0);
    c.update(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    c.update([[['t', 1], 3]], { overwrite: false });
    expect(new Map(c)).toEqual(
      new Map<Key, number>([
        ['a', 1],
        ['b', 2],
        [['t', 1], 3],
      ]),
    );
  });

  it('Chest close flushes a chest on a given path', () => {
    const p = freshPath();
    const c = new Chest<number, number>({ path: p, inlineThreshold: 0 });
    c.set(1, 1);
    const file = c.keyToFilename(1);
    c.close();
    expect(fs.existsSync(file)).toBe(true);
  });

  it('Chest close drops a temporary chest with its files', () => {
    const c = new Chest<number, number>({ inlineThreshold: 0 });
    c.set(1, 1);
    c.flush();
    const file = c.keyToFilename(1);
    expect(fs.existsSync(file)).toBe(true);
    c.close();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('Chest nests the files of tuple keys in folders', () => {
    using c = new Chest<Key, number>({ path: freshPath(), inlineThreshold: 0 });
    c.set('one', 1);
    c.set(['one', 'two'], 12);
    c.set(['one', 'three'], 13);
    expect(c.get('one')).toBe(1);
    expect(c.get(['one', 'two'])).toBe(12);
    expect(c.get(['one', 'three'])).toBe(13);
    c.flush();
    const names = contentsOf(c.path);
    expect(names).toEqual(['_one', 'one']);
    expect(fs.statSync(path.join(c.path, '_one')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(c.path, 'one')).isDirectory()).toBe(false);
    c.set(['a', 'b', 'c', 'd', 'e'], 5);
    c.flush();
    expect(c.get(['a', 'b', 'c', 'd', 'e'])).toBe(5);
    expect(fs.existsSync(path.join(c.path, '_a/_b/_c/_d/e'))).toBe(true);
  });

  it('Chest with its own keyToFilename, updated into a chest with the default', () => {
    const md5ish = (key: Key): string => `h${Buffer.from(JSON.stringify(key)).toString('hex')}`;
    using c1 = new Chest<Key, string>({ keyToFilename: md5ish, inlineThreshold: 0 });
    c1.set(['spam', 'eggs'], 'spam and eggs');
    c1.flush();
    expect(fs.existsSync(path.join(c1.path, md5ish(['spam', 'eggs'])))).toBe(true);
    using c2 = new Chest<Key, string>();
    c2.update(c1);
    c2.flush();
    expect(c2.get(['spam', 'eggs'])).toBe('spam and eggs');
  });

  it('Chest with its own keyToFilename can be moved on disk and reopened', () => {
    const md5ish = (key: Key): string => `h${Buffer.from(JSON.stringify(key)).toString('hex')}`;
    const somewhere = freshPath('somewhere');
    const c1 = new Chest<Key, string>({ path: somewhere, keyToFilename: md5ish, inlineThreshold: 0 });
    c1.set(['spam', 'eggs'], 'spam and eggs');
    c1.close();
    const elsewhere = path.join(path.dirname(somewhere), 'else');
    fs.renameSync(somewhere, elsewhere);
    using c3 = new Chest<Key, string>({ path: elsewhere });
    using c2 = new Chest<Key, string>({ path: freshPath('somewhereelse') });
    c2.update(c3);
    c2.flush();
    expect(c2.get(['spam', 'eggs'])).toBe('spam and eggs');
  });

  it('Chest memoryUsage grows with values and is zero once everything is spilled', () => {
    using c = new Chest<number, number>();
    expect(c.memoryUsage).toBe(0);
    c.set(1, 1);
    const mem1 = c.memoryUsage;
    expect(mem1).toBeGreaterThan(0);
    c.set(2, 2);
    expect(c.memoryUsage).toBeGreaterThan(mem1);
    c.flush();
    expect(c.memoryUsage).toBeGreaterThan(mem1);
    c.spill();
    expect(c.memoryUsage).toBe(0);
  });

  it('Chest prefetch loads values so that gets do not miss', () => {
    using c = new Chest<number, number>({
      onMiss: (key) => {
        throw new RangeError(`miss ${key}`);
      },
    });
    c.set(1, 1);
    c.set(2, 2);
    c.set(3, 3);
    expect(c.get(1)).toBe(1);
    c.spill();
    expect(() => c.get(1)).toThrow(RangeError);
    c.prefetch([1]);
    expect(c.get(1)).toBe(1);
    c.prefetch([1, 2]);
    expect(c.get(2)).toBe(2);
  });

  it('Chest follows the seed README example', () => {
    const c = new Chest<string, number[]>({ inlineThreshold: 0 });
    c.set('x', [1, 2, 3]);
    expect(c.get('x')).toEqual([1, 2, 3]);
    c.flush();
    expect(fs.readdirSync(c.path).sort()).toEqual(['.chest', 'x']);
    const c2 = new Chest<string, number[]>({ path: c.path });
    expect([...c2.keys()]).toEqual(['x']);
    expect(c2.get('x')).toEqual([1, 2, 3]);
    c2.close();
    const p = freshPath('my-chest');
    const j = new Chest<string, number[]>({
      path: p,
      dump: JSON.stringify,
      load: JSON.parse,
      serializerName: 'json-text',
      inlineThreshold: 0,
    });
    j.set('x', [1, 2, 3]);
    j.flush();
    expect(JSON.parse(fs.readFileSync(j.keyToFilename('x'), 'utf8'))).toEqual([1, 2, 3]);
    j.close();
    c.drop();
  });
});
