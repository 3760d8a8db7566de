/**
 * The backbone, shared by `Chest` and `AsyncChest`: random sequences of operations on a chest,
 * checked step by step against a plain `Map` as the model. Budgets run from 0 bytes up, values are
 * small (inline) and large (files), binary and not, and the chest is closed and reopened along the
 * way. Each chest is driven through a `Subject`, its API seen as promises.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { AsyncChest, Chest, Key } from '../../src/index.js';
import { collect } from '../helpers.js';

export type Value = string | number[] | Float64Array | { n: number; s: string } | null;

const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc.constantFrom<Key>('a', 'b', 'x', '1', 1, 2, -0, 1n, true, null, undefined, '', 'A'),
  fc.tuple(fc.constantFrom('u', 'v'), fc.integer({ min: 0, max: 2 })),
  fc.tuple(fc.constantFrom('u'), fc.tuple(fc.constantFrom(1, '1'))),
  fc.constant(new Date(5)),
);

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer().map((n) => [n, n + 1]),
  fc.record({ n: fc.integer(), s: fc.string({ maxLength: 5 }) }),
  fc.constant(null),
  // Large enough to go to a file of its own with the thresholds below.
  fc.integer({ min: 1, max: 400 }).map((n) => 'z'.repeat(n * 10)),
  fc.integer({ min: 0, max: 300 }).map((n) => new Float64Array(n).fill(n + 0.5)),
);

type Op =
  | { op: 'set'; key: Key; value: Value }
  | { op: 'get' | 'has' | 'delete'; key: Key }
  | { op: 'clear' | 'flush' | 'reopen' | 'spill' | 'check' }
  | { op: 'budget'; bytes: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, value: valueArb }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'has' as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('flush' as const, 'spill' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reopen' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('check' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('budget' as const), bytes: fc.nat(4000) }) },
);

/** A model key: what makes two chest keys equal (by value, -0 as 0, types kept apart). */
function modelKey(key: Key): string {
  return (
    JSON.stringify(key, (_, v: unknown) => {
      if (typeof v === 'bigint') return `bigint:${v}`;
      if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
      if (v === undefined) return 'undefined:';
      return v;
    }) + typeof key
  );
}

type Awaitable<T> = T | Promise<T>;

/** A chest as the model test drives it. */
export interface Subject {
  set(key: Key, value: Value): Awaitable<void>;
  get(key: Key): Awaitable<Value | undefined>;
  has(key: Key): Awaitable<boolean>;
  delete(key: Key): Awaitable<boolean>;
  clear(): Awaitable<void>;
  flush(): Awaitable<void>;
  spill(): Awaitable<void>;
  setBudget(bytes: number): Awaitable<void>;
  size(): Awaitable<number>;
  keys(): Awaitable<Key[]>;
  entries(): Awaitable<[Key, Value][]>;
  readonly memoryUsage: number;
  readonly availableMemory: number;
  close(): Awaitable<void>;
}

/** Options a run of the model test varies besides the budget and the inline threshold. */
export interface Variant {
  readonly eviction: 'sieve' | 'lru';
  readonly durable: boolean;
}

/** Opens a chest at `location` with the given budget, inline threshold and variant. */
export type OpenSubject = (
  location: string,
  budget: number,
  inlineThreshold: number,
  variant: Variant,
) => Subject;

export function chestSubject(chest: Chest<Key, Value>): Subject {
  return {
    set: (key, value) => {
      expect(chest.set(key, value)).toBe(chest);
    },
    get: (key) => chest.get(key),
    has: (key) => chest.has(key),
    delete: (key) => chest.delete(key),
    clear: () => chest.clear(),
    flush: () => chest.flush(),
    spill: () => chest.spill(),
    setBudget: (bytes) => {
      chest.availableMemory = bytes;
    },
    size: () => chest.size,
    keys: () => [...chest.keys()],
    entries: () => [...chest.entries()],
    get memoryUsage() {
      return chest.memoryUsage;
    },
    get availableMemory() {
      return chest.availableMemory;
    },
    close: () => chest.close(),
  };
}

export function asyncChestSubject(chest: AsyncChest<Key, Value>): Subject {
  return {
    set: async (key, value) => {
      expect(await chest.set(key, value)).toBe(chest);
    },
    get: (key) => chest.get(key),
    has: (key) => chest.has(key),
    delete: (key) => chest.delete(key),
    clear: () => chest.clear(),
    flush: () => chest.flush(),
    spill: () => chest.spill(),
    setBudget: (bytes) => chest.setAvailableMemory(bytes),
    size: () => chest.size(),
    keys: () => collect(chest.keys()),
    entries: () => collect(chest.entries()),
    get memoryUsage() {
      return chest.memoryUsage;
    },
    get availableMemory() {
      return chest.availableMemory;
    },
    close: () => chest.close(),
  };
}

async function check(chest: Subject, model: Map<string, [Key, Value]>): Promise<void> {
  expect(await chest.size()).toBe(model.size);
  const keys = (await chest.keys()).map(modelKey).sort();
  expect(keys).toEqual([...model.keys()].sort());
  const entries = new Map((await chest.entries()).map(([k, v]) => [modelKey(k), v]));
  expect(entries.size).toBe(model.size);
  for (const [mk, [, v]] of model) expect(entries.get(mk)).toEqual(v);
}

/**
 * Runs the model test: `location()` gives a new place for each run, `open` opens a chest there (again
 * after a close).
 */
export async function runModel(location: () => string, open: OpenSubject, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 1, maxLength: 40 }),
      fc.constantFrom(0, 16, 300, 2000, 1e6),
      fc.constantFrom(0, 64, 2048),
      // Durable writes sync every set: one run in four, to keep the test's time down.
      fc.record({
        eviction: fc.constantFrom('sieve', 'lru'),
        durable: fc.constantFrom(false, false, false, true),
      }),
      async (ops, budget, inlineThreshold, variant) => {
        const where = location();
        const reopen = (): Subject => open(where, budget, inlineThreshold, variant);
        let chest = reopen();
        const model = new Map<string, [Key, Value]>();
        try {
          for (const op of ops) {
            switch (op.op) {
              case 'set':
                await chest.set(op.key, op.value);
                model.set(modelKey(op.key), [op.key, op.value]);
                break;
              case 'get':
                expect(await chest.get(op.key)).toEqual(model.get(modelKey(op.key))?.[1]);
                break;
              case 'has':
                expect(await chest.has(op.key)).toBe(model.has(modelKey(op.key)));
                break;
              case 'delete':
                expect(await chest.delete(op.key)).toBe(model.delete(modelKey(op.key)));
                break;
              case 'clear':
                await chest.clear();
                model.clear();
                break;
              case 'flush':
                await chest.flush();
                break;
              case 'spill':
                await chest.spill();
                expect(chest.memoryUsage).toBe(0);
                break;
              case 'reopen':
                await chest.close();
                chest = reopen();
                break;
              case 'budget':
                await chest.setBudget(op.bytes);
                expect(chest.memoryUsage).toBeLessThanOrEqual(op.bytes);
                break;
              case 'check':
                await check(chest, model);
                break;
            }
            expect(chest.memoryUsage).toBeLessThanOrEqual(chest.availableMemory);
          }
          await check(chest, model);
          await chest.close();
          chest = reopen();
          await check(chest, model);
        } finally {
          await chest.close();
        }
      },
    ),
    { numRuns },
  );
}
