/**
 * Ordered key queries: `keys({ prefix, start, end, limit })` against a sorted model whose order is
 * written out here from the documented rules, independently of the key codec.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AsyncChest,
  Chest,
  MemoryStore,
  type Key,
  type KeyQuery,
  type StoreFeatures,
} from '../../src/index.js';
import { collect, freshPath } from '../helpers.js';

const RANK = ['undefined', 'null', 'false', 'true', 'number', 'bigint', 'date', 'string', 'tuple'];

function rank(key: Key): number {
  if (key === undefined) return 0;
  if (key === null) return 1;
  if (key === false) return 2;
  if (key === true) return 3;
  if (typeof key === 'number') return 4;
  if (typeof key === 'bigint') return 5;
  if (key instanceof Date) return 6;
  if (typeof key === 'string') return 7;
  return RANK.length - 1;
}

function codePoints(s: string): number[] {
  // Code points are what the order compares, so the string is split into them on purpose.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  return [...s].map((c) => c.codePointAt(0)!);
}

/** The documented key order: by type, then numbers numerically (NaN last), strings by code point, tuples element by element. */
function modelCompare(a: Key, b: Key): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'string' && typeof b === 'string') {
    const ca = codePoints(a);
    const cb = codePoints(b);
    for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
    return ca.length - cb.length;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const order = modelCompare(a[i] as Key, b[i] as Key);
      if (order !== 0) return order;
    }
    return a.length - b.length;
  }
  return 0;
}

function modelMatches(key: Key, query: KeyQuery): boolean {
  const { prefix, start, end } = query;
  if (typeof prefix === 'string' && !(typeof key === 'string' && key.startsWith(prefix))) return false;
  if (Array.isArray(prefix)) {
    if (!Array.isArray(key) || key.length < prefix.length) return false;
    if (!prefix.every((p, i) => modelCompare(p, key[i] as Key) === 0)) return false;
  }
  if (start !== undefined && modelCompare(key, start) < 0) return false;
  return end === undefined || modelCompare(key, end) < 0;
}

function modelQuery(model: Map<string, Key>, query: KeyQuery): Key[] {
  // Boxed, because Array.prototype.sort puts undefined last without asking the comparator.
  const boxed = [...model.values()].filter((k) => modelMatches(k, query)).map((key) => ({ key }));
  boxed.sort((a, b) => modelCompare(a.key, b.key));
  return boxed.slice(0, query.limit ?? Infinity).map(({ key }) => key);
}

/** Equal keys under the key order (so -0 and 0 are one key), with one representation each. */
function id(key: Key): string {
  return JSON.stringify(key, (_, v: unknown) => {
    if (typeof v === 'bigint') return `n:${v}`;
    // JSON writes NaN and both infinities as null: each gets a name of its own (strings are prefixed).
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return Object.is(v, -0) ? 0 : v;
    }
    if (v === undefined) return 'u:';
    if (typeof v === 'string') return `s:${v}`;
    return v;
  });
}

// A few characters, some of them multi-byte and astral, so prefixes and code-point order matter.
const str = fc
  .array(fc.constantFrom('a', 'b', 'é', '\u{1F600}', '\u0000', '\u0001', 'z'), { maxLength: 3 })
  .map((cs) => cs.join(''));
const atom: fc.Arbitrary<Key> = fc.oneof(
  str,
  fc.constantFrom<Key>(0, -0, 1, -1, 2.5, 42, 420, Infinity, -Infinity, NaN, 1n, -3n, true, false, null),
  fc.constant(undefined),
  fc.integer({ min: 0, max: 3 }).map((n) => new Date(n * 1000)),
);
const tuple: fc.Arbitrary<Key[]> = fc.array(fc.oneof(atom, fc.array(atom, { maxLength: 2 })), {
  maxLength: 3,
});
const keyArb: fc.Arbitrary<Key> = fc.oneof(atom, tuple, fc.constant(['user', 42]));

const queryArb: fc.Arbitrary<KeyQuery> = fc.record(
  {
    prefix: fc.oneof(str, fc.array(atom, { maxLength: 2 }), fc.constant(['user'])),
    start: keyArb,
    end: keyArb,
    limit: fc.nat(6),
  },
  { requiredKeys: [] },
);

type Op =
  | { op: 'set' | 'delete'; key: Key }
  | { op: 'flush' | 'spill' | 'reopen' }
  | { op: 'query'; query: KeyQuery };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constantFrom('flush' as const, 'spill' as const, 'reopen' as const) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('query' as const), query: queryArb }) },
);

function expectQuery(chest: Chest<Key, number>, model: Map<string, Key>, query: KeyQuery): void {
  const expected = modelQuery(model, query).map(id);
  expect([...chest.keys(query)].map(id)).toEqual(expected);
  const entries = [...chest.entries(query)];
  expect(entries.map(([k]) => id(k))).toEqual(expected);
  for (const [k, v] of entries) expect(v).toBe(id(k).length);
}

async function expectAsyncQuery(
  chest: AsyncChest<Key, number>,
  model: Map<string, Key>,
  query: KeyQuery,
): Promise<void> {
  const expected = modelQuery(model, query).map(id);
  expect((await collect(chest.keys(query))).map(id)).toEqual(expected);
  const entries = await collect(chest.entries(query));
  expect(entries.map(([k]) => id(k))).toEqual(expected);
  for (const [k, v] of entries) expect(v).toBe(id(k).length);
  expect(await collect(chest.values(query))).toEqual(entries.map(([, v]) => v));
}

/** A memory store that declares no key order and lists its keys backwards. */
class UnorderedStore extends MemoryStore {
  override readonly features: StoreFeatures = { ...new MemoryStore().features, ordered: false };
  override *keys(): Generator<Uint8Array> {
    yield* [...super.keys()].reverse();
  }
}

describe('ordered key queries', () => {
  it('keys(query) and entries(query) match a sorted model, in memory, on disk and mixed', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.constantFrom(0, 400, 1e6), (ops, budget) => {
        const path = freshPath();
        const open = (): Chest<Key, number> => new Chest<Key, number>({ path, availableMemory: budget });
        let chest = open();
        const model = new Map<string, Key>();
        try {
          for (const op of ops) {
            switch (op.op) {
              case 'set':
                chest.set(op.key, id(op.key).length);
                if (!model.has(id(op.key))) model.set(id(op.key), op.key);
                break;
              case 'delete':
                chest.delete(op.key);
                model.delete(id(op.key));
                break;
              case 'flush':
                chest.flush();
                break;
              case 'spill':
                chest.spill();
                break;
              case 'reopen':
                chest.close();
                chest = open();
                break;
              case 'query':
                expectQuery(chest, model, op.query);
                break;
            }
          }
          expectQuery(chest, model, {});
        } finally {
          chest.close();
        }
      }),
      { numRuns: process.env.CI === undefined ? 120 : 60 },
    );
  });

  it('AsyncChest keys(query), entries(query) and values(query) match the model, on an ordered store and an unordered one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 30 }),
        fc.constantFrom(0, 400, 1e6),
        fc.boolean(),
        async (ops, budget, ordered) => {
          const path = freshPath();
          // The unordered store outlives reopens, as the LMDB store's directory does.
          const store = ordered ? undefined : new UnorderedStore();
          const open = (): Promise<AsyncChest<Key, number>> =>
            AsyncChest.open<Key, number>(
              store === undefined ? { path, availableMemory: budget } : { store, availableMemory: budget },
            );
          let chest = await open();
          const model = new Map<string, Key>();
          try {
            for (const op of ops) {
              switch (op.op) {
                case 'set':
                  await chest.set(op.key, id(op.key).length);
                  if (!model.has(id(op.key))) model.set(id(op.key), op.key);
                  break;
                case 'delete':
                  await chest.delete(op.key);
                  model.delete(id(op.key));
                  break;
                case 'flush':
                  await chest.flush();
                  break;
                case 'spill':
                  await chest.spill();
                  break;
                case 'reopen':
                  if (store !== undefined) break; // closing a memory store ends it
                  await chest.close();
                  chest = await open();
                  break;
                case 'query':
                  await expectAsyncQuery(chest, model, op.query);
                  break;
              }
            }
            await expectAsyncQuery(chest, model, {});
          } finally {
            await chest.close();
          }
        },
      ),
      { numRuns: process.env.CI === undefined ? 60 : 30 },
    );
  });

  it('AsyncChest keys(query) reads no values, merges keys not yet stored, and stops at the limit', async () => {
    await using chest = await AsyncChest.open<[string, number], Float64Array>({ availableMemory: 0 });
    for (let i = 0; i < 50; i += 2) await chest.set(['row', i], new Float64Array(100).fill(i));
    await chest.setAvailableMemory('1 MB');
    for (let i = 1; i < 50; i += 2) await chest.set(['row', i], new Float64Array(100).fill(i));
    expect(chest.inMemory(['row', 0])).toBe(false);
    expect(chest.inMemory(['row', 1])).toBe(true);
    const loads = chest.stats.loads;
    const keys = await collect(chest.keys({ prefix: ['row'], start: ['row', 10], end: ['row', 20] }));
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => ['row', 10 + i]));
    expect(await collect(chest.keys({ prefix: ['row'], limit: 3 }))).toEqual([
      ['row', 0],
      ['row', 1],
      ['row', 2],
    ]);
    expect(chest.stats.loads).toBe(loads);
    await expect(collect(chest.keys({ limit: -1 }))).rejects.toThrow(RangeError);
  });

  it('a tuple prefix matches whole elements: ["user", 42] is not a prefix of ["user", 420]', () => {
    using chest = new Chest<Key, string>();
    for (const key of [
      ['user', 420],
      ['user', 42, 'b'],
      ['user', 42],
      ['user', 42, 'a'],
      ['user', 7],
      'user',
    ])
      chest.set(key, 'v');
    chest.spill([['user', 42, 'a']]);
    expect([...chest.keys({ prefix: ['user', 42] })]).toEqual([
      ['user', 42],
      ['user', 42, 'a'],
      ['user', 42, 'b'],
    ]);
    expect([...chest.keys({ prefix: ['user'], start: ['user', 42, 'a'], limit: 2 })]).toEqual([
      ['user', 42, 'a'],
      ['user', 42, 'b'],
    ]);
  });

  it('reads no values: a query over spilled entries loads nothing', () => {
    using chest = new Chest<[string, number], Float64Array>({ availableMemory: 0 });
    for (let i = 0; i < 50; i++) chest.set(['row', i], new Float64Array(100).fill(i));
    expect(chest.inMemory(['row', 0])).toBe(false);
    const keys = [...chest.keys({ prefix: ['row'], start: ['row', 10], end: ['row', 20] })];
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => ['row', 10 + i]));
    expect(chest.stats.loads).toBe(0);
  });

  it('an entry deleted during the iteration is not yielded by entries(query)', () => {
    for (const budget of [0, 1e6]) {
      using chest = new Chest<number, number>({ availableMemory: budget });
      for (let i = 0; i < 10; i++) chest.set(i, i);
      if (budget > 0) chest.spill([1, 2, 3, 4]);
      const seen: number[] = [];
      for (const [key] of chest.entries({ start: 1 })) {
        seen.push(key);
        if (key === 3) chest.delete(5);
      }
      expect(seen).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
    }
  });

  it('a store without ordered keys still answers in key order', () => {
    using chest = new Chest<number, number>({ store: new UnorderedStore(), availableMemory: 0 });
    for (const n of [5, -1, 3, 10, 0]) chest.set(n, n);
    chest.set(4, 4);
    expect([...chest.keys({ start: 0, end: 10 })]).toEqual([0, 3, 4, 5]);
  });

  it('rejects malformed queries', () => {
    using chest = new Chest<number, number>();
    expect(() => [...chest.keys({ limit: -1 })]).toThrow(RangeError);
    expect(() => [...chest.keys({ prefix: 5 as unknown as string })]).toThrow(TypeError);
    expect(() => [...chest.keys({ start: {} as unknown as Key })]).toThrow(TypeError);
  });
});
