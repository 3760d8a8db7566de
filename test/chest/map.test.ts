import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Chest, ChestError, ErrorCode, fromFunctions, LmdbStore, type Key } from '../../src/index.js';
import { expectCode, freshPath, openFds } from '../helpers.js';

describe('Chest as a Map', () => {
  it('Chest is a Map: instanceof, toStringTag, iteration protocol', () => {
    using c = new Chest<string, number>();
    expect(c).toBeInstanceOf(Map);
    expect(Object.prototype.toString.call(c)).toBe('[object Chest]');
    expect(c.set('a', 1)).toBe(c);
    c.set('b', 2);
    expect(new Map(c)).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    expect([...c]).toEqual([...c.entries()]);
    expect(Array.from(c.values()).sort()).toEqual([1, 2]);
  });

  it('Chest forEach passes value, key and the chest, with thisArg', () => {
    using c = new Chest<string, number>();
    c.set('a', 1).set('b', 2);
    const seen: [number, string, unknown, unknown][] = [];
    const self = { tag: 'this' };
    c.forEach(function (this: unknown, v, k, m) {
      seen.push([v, k, m, this]);
    }, self);
    expect(seen.sort()).toEqual([
      [1, 'a', c, self],
      [2, 'b', c, self],
    ]);
  });

  it('Chest compares keys by value: tuples, dates and primitives of each type', () => {
    using c = new Chest<Key, string>();
    c.set(['a', 1], 'tuple');
    c.set(1, 'number');
    c.set('1', 'string');
    c.set(1n, 'bigint');
    c.set([1], 'one-tuple');
    c.set(new Date(1), 'date');
    c.set(null, 'null');
    c.set(undefined, 'undefined');
    c.set(true, 'true');
    c.set([['a', [null]], 2], 'nested');
    expect(c.get(['a', 1])).toBe('tuple');
    expect(c.get(1)).toBe('number');
    expect(c.get('1')).toBe('string');
    expect(c.get(1n)).toBe('bigint');
    expect(c.get([1])).toBe('one-tuple');
    expect(c.get(new Date(1))).toBe('date');
    expect(c.get(null)).toBe('null');
    expect(c.get(undefined)).toBe('undefined');
    expect(c.get(true)).toBe('true');
    expect(c.get([['a', [null]], 2])).toBe('nested');
    expect(c.size).toBe(10);
    c.spill();
    expect(c.get([['a', [null]], 2])).toBe('nested');
    expect(c.get(new Date(1))).toBe('date');
    expect(c.size).toBe(10);
  });

  it('Chest treats -0 as 0 and NaN as itself, as a Map does', () => {
    using c = new Chest<number, string>();
    c.set(-0, 'zero');
    expect(c.get(0)).toBe('zero');
    c.set(NaN, 'nan');
    expect(c.get(NaN)).toBe('nan');
    c.spill();
    expect(c.get(0)).toBe('zero');
    expect(c.get(NaN)).toBe('nan');
  });

  it('Chest refuses unsupported keys with a TypeError naming the type, changing nothing', () => {
    using c = new Chest<Key, number>();
    c.set('ok', 1);
    class Foo {
      readonly tag = 1;
    }
    const bad: unknown[] = [{}, new Foo(), () => 1, Symbol('s'), new Map(), ['a', {}]];
    for (const key of bad) {
      expect(() => c.set(key as Key, 2)).toThrow(TypeError);
      expect(() => c.get(key as Key)).toThrow(TypeError);
    }
    expect(() => c.set(new Foo() as unknown as Key, 1)).toThrow(/Foo/);
    expect(() => c.set(['a', {}] as unknown as Key, 1)).toThrow(/\[1\]/);
    expect([...c.keys()]).toEqual(['ok']);
    expect(c.size).toBe(1);
  });

  it('Chest keeps a key whose value is undefined', () => {
    using c = new Chest<string, undefined | number>();
    c.set('u', undefined);
    expect(c.has('u')).toBe(true);
    expect(c.get('u')).toBeUndefined();
    c.spill();
    expect(c.has('u')).toBe(true);
    expect(c.size).toBe(1);
    expect([...c.entries()]).toEqual([['u', undefined]]);
  });

  it('Chest iteration yields each key once while values move between memory and disk', () => {
    using c = new Chest<number, string>({ availableMemory: 2000 });
    for (let i = 0; i < 200; i++) c.set(i, `v${i}`);
    const seen = new Set<number>();
    for (const [k, v] of c) {
      expect(seen.has(k)).toBe(false);
      seen.add(k);
      expect(v).toBe(`v${k}`);
      c.get((k * 7) % 200);
    }
    expect(seen.size).toBe(200);
  });

  it('Chest iteration skips keys deleted during it, in entries', () => {
    using c = new Chest<number, number>();
    for (let i = 0; i < 10; i++) c.set(i, i);
    c.spill([0, 1, 2, 3, 4]);
    const seen: number[] = [];
    for (const [k] of c.entries()) {
      seen.push(k);
      if (k === seen[0]) for (let i = 0; i < 10; i++) if (i !== k) c.delete(i);
    }
    expect(seen.length).toBe(1);
  });

  it('Chest clear empties memory and disk', () => {
    using c = new Chest<number, number>({ inlineThreshold: 0 });
    for (let i = 0; i < 10; i++) c.set(i, i);
    c.flush();
    c.clear();
    expect(c.size).toBe(0);
    expect([...c.keys()]).toEqual([]);
    expect(c.memoryUsage).toBe(0);
    c.set(1, 1);
    expect(c.size).toBe(1);
  });

  it('Chest size is exact across memory, disk, overwrites and deletes', () => {
    using c = new Chest<number, number>({ availableMemory: 1000 });
    for (let i = 0; i < 100; i++) c.set(i, i);
    expect(c.size).toBe(100);
    for (let i = 0; i < 100; i += 2) c.set(i, -i);
    expect(c.size).toBe(100);
    for (let i = 0; i < 100; i += 3) c.delete(i);
    expect(c.size).toBe(100 - 34);
    c.flush();
    expect(c.size).toBe(66);
  });

  it('Chest refuses every call once closed with CHEST_CLOSED, and closes twice quietly', () => {
    const c = new Chest<string, number>();
    c.close();
    c.close();
    expect(c.isClosed).toBe(true);
    for (const call of [
      () => c.get('a'),
      () => c.set('a', 1),
      () => c.has('a'),
      () => c.size,
      () => [...c.keys()],
    ]) {
      expectCode(call, ErrorCode.CLOSED);
    }
  });

  it('Chest names its path in String() and inspect()', () => {
    using c = new Chest();
    expect(String(c)).toBe(`Chest(${c.path})`);
    expect(inspect(c)).toContain(c.path);
  });

  it('Chest on a temporary path is private to its user', () => {
    using c = new Chest();
    expect(fs.statSync(c.path).mode & 0o077).toBe(0);
  });

  it('Chest refuses a directory that holds something else, before writing anything', () => {
    const p = freshPath();
    fs.mkdirSync(p);
    fs.writeFileSync(path.join(p, 'notes.txt'), 'mine');
    const error = expectCode(() => new Chest({ path: p }), ErrorCode.NOT_A_CHEST);
    expect(error.message).toContain(p);
    expect(fs.readdirSync(p)).toEqual(['notes.txt']);
    const file = path.join(p, 'notes.txt');
    expectCode(() => new Chest({ path: file }), ErrorCode.NOT_A_CHEST);
  });

  it('Chest refuses to reopen with another serializer, and adopts a named one when none is given', () => {
    const p = freshPath();
    const c = new Chest<string, unknown>({ path: p, serializer: 'json' });
    c.set('a', { x: 1 });
    c.close();
    const error = expectCode(
      () => new Chest({ path: p, serializer: 'msgpack' }),
      ErrorCode.SERIALIZER_MISMATCH,
    );
    expect(error.message).toMatch(/json/);
    const again = new Chest<string, unknown>({ path: p });
    expect(again.get('a')).toEqual({ x: 1 });
    again.close();
    const custom = new Chest<string, unknown>({
      path: freshPath(),
      dump: JSON.stringify,
      load: JSON.parse,
      serializerName: 'json-text',
    });
    custom.set('a', 1);
    custom.close();
    const unnamed = expectCode(() => new Chest({ path: custom.path }), ErrorCode.SERIALIZER_MISMATCH);
    expect(unnamed.message).toContain('serializerName: "json-text"');
  });

  it('Chest refuses to keep a dump and load pair with no name, and a temporary chest needs none', () => {
    const p = freshPath();
    expect(() => new Chest({ path: p, dump: (v: unknown) => JSON.stringify(v), load: JSON.parse })).toThrow(
      /needs its dump and load to have a name: give serializerName/,
    );
    expect(() => new Chest({ path: p, serializer: fromFunctions(JSON.stringify, JSON.parse) })).toThrow(
      /give serializerName/,
    );
    using fresh = new Chest({ path: p, serializer: 'json' }); // nothing was recorded: p is a new chest still
    expect(fresh.size).toBe(0);
    using temporary = new Chest<string, number[]>({
      availableMemory: 0,
      dump: (v) => v.join(','),
      load: (text: string) => text.split(',').map(Number),
    });
    temporary.set('a', [1, 2]);
    expect(temporary.inMemory('a')).toBe(false);
    expect(temporary.get('a')).toEqual([1, 2]);
  });

  it('Chest refuses to reopen with an unnamed dump and load, even of the same made-up name, and opens with that name given', () => {
    // A chest as earlier versions kept it: the name made up from the functions' names recorded.
    const p = freshPath();
    const written = new Chest<string, number>({
      path: p,
      dump: (n) => `n=${n}`,
      load: (text: string) => Number(text.slice(2)),
      serializerName: 'custom:dump/load',
    });
    written.set('a', 42);
    written.close();
    // Other inline functions, made up to the same name: they would read 'n=42' as NaN.
    const other = { dump: (n: number) => String(n), load: (text: string) => Number(text) };
    const error = expectCode(
      () => new Chest<string, number>({ path: p, ...other }),
      ErrorCode.SERIALIZER_MISMATCH,
    );
    expect(error.message).toContain('custom:dump/load');
    expect(error.message).toContain('serializerName: "custom:dump/load" opens it');
    using reopened = new Chest<string, number>({
      path: p,
      dump: (n) => `n=${n}`,
      load: (text: string) => Number(text.slice(2)),
      serializerName: 'custom:dump/load',
    });
    expect(reopened.get('a')).toBe(42);
  });

  it('Chest update does not link the files of a chest whose unnamed dump and load wrote another format', () => {
    using from = new Chest<string, number[]>({
      inlineThreshold: 0,
      dump: (v) => v.join(','),
      load: (text: string) => text.split(',').map(Number),
    });
    using to = new Chest<string, number[]>({
      dump: (v) => JSON.stringify(v),
      load: (text: string) => JSON.parse(text) as number[],
    });
    from.set('a', [1, 2, 3]);
    to.update(from);
    expect(to.get('a')).toEqual([1, 2, 3]);
    to.spill();
    expect(to.get('a')).toEqual([1, 2, 3]);
  });

  it("a dump and load pair may not take a built-in serializer's name", () => {
    for (const serializerName of ['structured', 'json', 'msgpack']) {
      expect(() => new Chest({ dump: JSON.stringify, load: JSON.parse, serializerName })).toThrow(
        /is a built-in serializer's name/,
      );
    }
    expect(() => new Chest({ serializer: 'json', serializerName: 'mine' })).toThrow(
      /serializerName names a dump and load pair/,
    );
    expect(() => new Chest({ serializerName: 'mine' })).toThrow(/serializerName names a dump and load pair/);
  });

  it('Chest refuses a chest written in a newer format', () => {
    const p = freshPath();
    new Chest({ path: p }).close();
    // Record the manifest a newer version would write.
    const store = new LmdbStore({ path: p, inlineThreshold: 0, fileName: () => 'x' });
    store.writeMeta({ format: 99, serializer: 'structured', compression: 'none' });
    store.close();
    const error = expectCode(() => new Chest({ path: p }), ErrorCode.FORMAT_VERSION);
    expect(error.message).toContain('99');
  });

  it('Chest availableMemory accepts sizes as strings and lowering it spills at once', () => {
    using c = new Chest<number, Float64Array>({ availableMemory: '1 MiB' });
    expect(c.availableMemory).toBe(2 ** 20);
    for (let i = 0; i < 10; i++) c.set(i, new Float64Array(1000));
    expect(c.memoryUsage).toBeGreaterThan(70_000);
    c.availableMemory = '20 kB';
    expect(c.availableMemory).toBe(20_000);
    expect(c.memoryUsage).toBeLessThanOrEqual(20_000);
    expect(c.size).toBe(10);
    expect(() => (c.availableMemory = 'lots')).toThrow(TypeError);
    expect(() => (c.availableMemory = -1)).toThrow(RangeError);
    expect(new Chest({ availableMemory: '10%' }).availableMemory).toBeGreaterThan(0);
  });

  it('Chest puts a value heavier than the whole budget straight on disk', () => {
    using c = new Chest<string, Float64Array>({ availableMemory: 1000 });
    const big = new Float64Array(1000).fill(3);
    c.set('big', big);
    expect(c.inMemory('big')).toBe(false);
    expect(c.memoryUsage).toBe(0);
    expect(c.get('big')).toEqual(big);
    expect(c.inMemory('big')).toBe(false);
  });

  it('Chest calls onMiss before a store lookup and onOverflow for each key leaving memory', () => {
    const misses: Key[] = [];
    const overflows: Key[] = [];
    using c = new Chest<string, number>({
      onMiss: (k) => misses.push(k),
      onOverflow: (k) => overflows.push(k),
    });
    c.set('a', 1).set('b', 2);
    c.get('a');
    expect(misses).toEqual([]);
    c.spill(['a']);
    expect(overflows).toEqual(['a']);
    c.get('a');
    c.get('zzz');
    expect(misses).toEqual(['a', 'zzz']);
  });

  it('Chest caps the entries held in memory, whatever their size', () => {
    using c = new Chest<number, number>({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) c.set(i, i);
    let held = 0;
    for (let i = 0; i < 1000; i++) if (c.inMemory(i)) held++;
    expect(held).toBeLessThanOrEqual(100);
    expect(c.size).toBe(1000);
    expect(c.get(7)).toBe(7);
    expect(() => new Chest({ maxEntries: 2 ** 24 })).toThrow(RangeError);
  });

  it('Chest accounts memory with its own sizeOf', () => {
    using c = new Chest<string, string>({ sizeOf: (v) => v.length * 100, availableMemory: 1000 });
    c.set('a', 'x');
    expect(c.memoryUsage).toBe(100 + 64);
    c.set('b', 'xxxxxxxxx');
    expect(c.inMemory('a')).toBe(false);
  });

  it('Chest stats count hits, misses, spills, loads and bytes', () => {
    using c = new Chest<string, string>();
    c.set('a', 'hello');
    c.get('a');
    c.spill();
    c.get('a');
    c.get('b');
    const s = c.stats;
    expect(s).toMatchObject({ hits: 1, misses: 2, spills: 1, loads: 1 });
    expect(s.bytesWritten).toBeGreaterThan(0);
    expect(s.bytesRead).toBe(s.bytesWritten);
  });

  it('Chest move takes its files to a new path and keeps working', () => {
    const c = new Chest<string, number>({ inlineThreshold: 0 });
    c.set('a', 1);
    const old = c.path;
    expect(() => c.move(path.join(old, 'inside'))).toThrow(/into a folder of its own/);
    expect(c.get('a')).toBe(1);
    const target = freshPath('moved');
    c.move(target);
    expect(c.path).toBe(target);
    expect(fs.existsSync(old)).toBe(false);
    expect(c.get('a')).toBe(1);
    c.set('b', 2);
    c.close();
    // A moved temporary chest is permanent.
    const again = new Chest<string, number>({ path: target });
    expect(again.get('b')).toBe(2);
    again.drop();
  });

  it('Chest instances on one path share its index: each sees what the other flushed', () => {
    const p = freshPath();
    const a = new Chest<string, number>({ path: p });
    // Another spelling of the same folder: through a symlink beside it.
    const link = `${p}-link`;
    fs.symlinkSync(p, link);
    onTestFinished(() => fs.rmSync(link, { force: true }));
    const b = new Chest<string, number>({ path: link });
    a.set('x', 1);
    a.flush();
    expect(b.get('x')).toBe(1);
    a.close();
    b.set('y', 2);
    b.flush();
    expect(b.get('x')).toBe(1);
    expect(b.size).toBe(2);
    b.close();
  });

  it('Chest releases its file descriptors when closed', () => {
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      const c = new Chest<number, Float64Array>({ inlineThreshold: 0, availableMemory: 0 });
      for (let j = 0; j < 5; j++) c.set(j, new Float64Array(10));
      for (let j = 0; j < 5; j++) c.get(j);
      c.close();
    }
    expect(openFds()).toBeLessThanOrEqual(before);
  });

  it('Chest drop after close throws CHEST_CLOSED and deletes nothing; after a drop it does nothing', () => {
    const dir = freshPath();
    const c = new Chest<string, number>({ path: dir });
    c.set('a', 1);
    c.close();
    expectCode(() => c.drop(), ErrorCode.CLOSED);
    const again = new Chest<string, number>({ path: dir });
    expect(again.get('a')).toBe(1);
    again.drop();
    again.drop();
    expect(fs.existsSync(dir)).toBe(false);
    const temporary = new Chest<string, number>();
    temporary.close();
    temporary.drop();
  });

  it('Chest errors are ChestErrors with a stable code', () => {
    const c = new Chest();
    c.close();
    const error = expectCode(() => c.get('a'), ErrorCode.CLOSED);
    expect(error).toBeInstanceOf(ChestError);
    expect(error.code).toBe('CHEST_CLOSED');
  });
});
