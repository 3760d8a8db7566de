import path from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { AsyncChest, Chest, ErrorCode, FORMAT_VERSION, LmdbStore, MemoryStore } from '../../src/index.js';
import type { StoredValue } from '../../src/index.js';
import { structured } from '../../src/serializers/structured.js';
import { indexOptions } from '../../src/stores/lmdb/env.js';
import { ValueKind } from '../../src/values/kinds.js';
import { encodeKey } from '../../src/keys/codec.js';
import { crc32 } from '../../src/values/crc32.js';
import { expectCode, freshPath } from '../helpers.js';

/** The default serializer's records keep their property names once per store (format 4). */

const record = (i: number): { id: number; name: string; tags: string[]; score: number } => ({
  id: i,
  name: `item${i}`,
  tags: ['a', 'b'],
  score: i * 0.5,
});
const shaped = (n: number, i: number): Record<string, unknown> => ({
  [`p${n}`]: i,
  [`q${n}`]: { r: `v${i}` },
});

function storeAt(dir: string): LmdbStore {
  return new LmdbStore({ path: dir, inlineThreshold: 65536, fileName: () => 'value' });
}

/** Runs `fn` on the default store of the closed chest at `dir`, closing it after. */
function withStore<T>(dir: string, fn: (store: LmdbStore) => T): T {
  const store = storeAt(dir);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** The default store of a chest at `dir`, without its structure table: values as format 3 wrote them. */
function storeWithoutTable(dir: string): LmdbStore {
  const store = storeAt(dir);
  Object.defineProperty(store, 'structures', { value: undefined });
  return store;
}

/** Sets the manifest entry `name` of a closed chest to `text`. */
function setMetaEntry(dir: string, name: string, text: string): void {
  const root = open(indexOptions(path.join(dir, '.chest')));
  const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string' });
  meta.putSync(name, text);
  void root.close();
}

describe('shared record structures', () => {
  it('a chest stores records without their property names, and reads them back after reopening', () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
      for (let i = 0; i < 1000; i++) chest.set(`k${i}`, record(i));
      chest.set('nested', { list: [record(1), record(2)], when: new Date(5) });
    }
    withStore(dir, (store) => {
      const stored = store.get(encodeKey('k999'))!;
      expect(stored.kind).toBe(ValueKind.RECORDS);
      expect(stored.data.byteLength).toBeLessThan(
        (structured.dump(record(999)) as Uint8Array).byteLength - 15,
      );
      expect(store.structures.read()).toContainEqual(['id', 'name', 'tags', 'score']);
      expect(store.readMeta()?.format).toBe(FORMAT_VERSION);
    });
    using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
    for (let i = 0; i < 1000; i++) expect(chest.get(`k${i}`)).toEqual(record(i));
    expect(chest.get('nested')).toEqual({ list: [record(1), record(2)], when: new Date(5) });
  });

  it('values with shared references are still written by structured alone, and keep them', () => {
    using chest = new Chest<string, unknown>({ availableMemory: 0 });
    const shared = { x: 1 };
    chest.set('graph', { a: shared, b: shared });
    const back = chest.get('graph') as { a: unknown; b: unknown };
    expect(back.a).toBe(back.b);
  });

  it('a chest written before the table existed reads, is marked the current format, and rewrites nothing on reads', () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, unknown>({ store: storeWithoutTable(dir), availableMemory: 0 });
      for (let i = 0; i < 100; i++) chest.set(`k${i}`, record(i));
    }
    withStore(dir, (store) => {
      expect(store.get(encodeKey('k5'))!.kind).toBe(ValueKind.SERIALIZED);
      expect(store.structures.read()).toEqual([]);
      expect(store.readMeta()?.format).toBe(FORMAT_VERSION);
    });
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 4096, immutable: true });
      for (let i = 0; i < 100; i++) expect(chest.get(`k${i}`)).toEqual(record(i));
      chest.set('new', record(100));
    }
    withStore(dir, (store) => {
      expect(store.get(encodeKey('k5'))!.kind).toBe(ValueKind.SERIALIZED);
      expect(store.get(encodeKey('new'))!.kind).toBe(ValueKind.RECORDS);
    });
  });

  it('AsyncChest and Chest read each other’s records on one path', async () => {
    const dir = freshPath();
    {
      await using chest = await AsyncChest.open<string>({ path: dir, availableMemory: 0 });
      await chest.set('a', record(1));
      await chest.set('s', shaped(1, 1));
    }
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
      expect(chest.get('a')).toEqual(record(1));
      chest.set('b', shaped(2, 2));
    }
    await using chest = await AsyncChest.open<string>({ path: dir, availableMemory: 0 });
    expect(await chest.get('s')).toEqual(shaped(1, 1));
    expect(await chest.get('b')).toEqual(shaped(2, 2));
  });

  it('a compute whose transaction is rolled back leaves no value referring to a structure it recorded', () => {
    const dir = freshPath();
    let fail = true;
    class FailingCommit extends LmdbStore {
      override modify(
        key: Uint8Array,
        fn: (current: StoredValue | undefined) => StoredValue | undefined,
      ): void {
        super.modify(key, (current) => {
          const next = fn(current);
          if (fail) throw new Error('the commit failed');
          return next;
        });
      }
    }
    {
      const store = new FailingCommit({ path: dir, inlineThreshold: 65536, fileName: () => 'value' });
      using chest = new Chest<string, unknown>({ store, availableMemory: 0 });
      expect(() => chest.compute('c', () => shaped(1, 1))).toThrow('the commit failed');
      fail = false;
      // The same shape again: its structure must be recorded now, the first record having been rolled back.
      chest.set('d', shaped(1, 2));
      chest.compute('c', () => shaped(1, 3));
    }
    using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
    expect(chest.get('d')).toEqual(shaped(1, 2));
    expect(chest.get('c')).toEqual(shaped(1, 3));
  });

  it('update from a chest whose table differs reads and writes each value; from one this table extends, links', () => {
    const [a, b, c] = [freshPath('a'), freshPath('b'), freshPath('c')];
    using source = new Chest<string, unknown>({ path: a, availableMemory: 0 });
    source.set('r', record(1));
    source.set('s', shaped(1, 1));
    using other = new Chest<string, unknown>({ path: b, availableMemory: 0 });
    other.set('t', shaped(9, 9)); // a table of another first structure
    other.update(source);
    expect(other.get('r')).toEqual(record(1));
    expect(other.get('s')).toEqual(shaped(1, 1));
    using empty = new Chest<string, unknown>({ path: c, availableMemory: 0 });
    empty.update(source);
    expect(empty.get('r')).toEqual(record(1));
    expect(empty.get('s')).toEqual(shaped(1, 1));
    empty.close();
    source.close();
    expect(withStore(c, (store) => store.structures.read())).toEqual(
      withStore(a, (store) => store.structures.read()),
    );
  });

  it('a damaged structure table is CHEST_CORRUPT naming the key, and leaves other values readable', () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
      chest.set('r', record(1));
      chest.set('text', 'plain');
    }
    setMetaEntry(dir, 'structures', '{"crc":1,"list":[["id","name","tags","score"]]}');
    using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
    const error = expectCode(() => chest.get('r'), ErrorCode.CORRUPT);
    expect(error.message).toContain('record structures');
    expect(error.message).toContain("'r'");
    expect(chest.get('text')).toBe('plain');
    const report = chest.verify();
    expect(report.ok).toBe(false);
    expect(report.damaged).toEqual([
      {
        key: undefined,
        code: ErrorCode.CORRUPT,
        message: expect.stringContaining('record structures') as string,
      },
    ]);
  });

  it('a value referring to a structure the table lacks is CHEST_CORRUPT', () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
      chest.set('r', record(1));
    }
    setMetaEntry(dir, 'structures', `{"crc":${crc32(Buffer.from('[]'))},"list":[]}`);
    using chest = new Chest<string, unknown>({ path: dir, availableMemory: 0 });
    expectCode(() => chest.get('r'), ErrorCode.CORRUPT);
  });

  it('a store without a table (a custom store) gets values that carry their own structures', () => {
    const store = new MemoryStore();
    Object.defineProperty(store, 'structures', { value: undefined });
    using chest = new Chest<string, unknown>({ store, availableMemory: 0 });
    chest.set('r', record(1));
    expect(store.get(encodeKey('r'))!.kind).toBe(ValueKind.SERIALIZED);
    expect(chest.get('r')).toEqual(record(1));
  });
});
