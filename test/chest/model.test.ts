/**
 * The backbone: random sequences of operations on a chest, checked step by step against a plain
 * `Map` as the model. Budgets run from 0 bytes up, values are small (inline) and large (files),
 * binary and not, and the chest is closed and reopened along the way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Chest, type Key } from '../../src/index.js';
import { freshPath } from '../helpers.js';

type Value = string | number[] | Float64Array | { n: number; s: string } | null;

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

function check(chest: Chest<Key, Value>, model: Map<string, [Key, Value]>): void {
  expect(chest.size).toBe(model.size);
  const keys = [...chest.keys()].map(modelKey).sort();
  expect(keys).toEqual([...model.keys()].sort());
  const entries = new Map([...chest.entries()].map(([k, v]) => [modelKey(k), v]));
  expect(entries.size).toBe(model.size);
  for (const [mk, [, v]] of model) expect(entries.get(mk)).toEqual(v);
}

describe('Chest against a Map', () => {
  it('Chest behaves as a Map under random operations, reopens and budgets', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(0, 16, 300, 2000, 1e6),
        fc.constantFrom(0, 64, 2048),
        (ops, budget, inlineThreshold) => {
          const path = freshPath();
          const open = (): Chest<Key, Value> =>
            new Chest<Key, Value>({ path, availableMemory: budget, inlineThreshold });
          let chest = open();
          const model = new Map<string, [Key, Value]>();
          try {
            for (const op of ops) {
              switch (op.op) {
                case 'set':
                  expect(chest.set(op.key, op.value)).toBe(chest);
                  model.set(modelKey(op.key), [op.key, op.value]);
                  break;
                case 'get':
                  expect(chest.get(op.key)).toEqual(model.get(modelKey(op.key))?.[1]);
                  break;
                case 'has':
                  expect(chest.has(op.key)).toBe(model.has(modelKey(op.key)));
                  break;
                case 'delete':
                  expect(chest.delete(op.key)).toBe(model.delete(modelKey(op.key)));
                  break;
                case 'clear':
                  chest.clear();
                  model.clear();
                  break;
                case 'flush':
                  chest.flush();
                  break;
                case 'spill':
                  chest.spill();
                  expect(chest.memoryUsage).toBe(0);
                  break;
                case 'reopen':
                  chest.close();
                  chest = open();
                  break;
                case 'budget':
                  chest.availableMemory = op.bytes;
                  expect(chest.memoryUsage).toBeLessThanOrEqual(op.bytes);
                  break;
                case 'check':
                  check(chest, model);
                  break;
              }
              expect(chest.memoryUsage).toBeLessThanOrEqual(chest.availableMemory);
            }
            check(chest, model);
            chest.close();
            chest = open();
            check(chest, model);
          } finally {
            chest.close();
          }
        },
      ),
      { numRuns: process.env.CI === undefined ? 150 : 80 },
    );
  });
});
