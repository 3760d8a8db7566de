/**
 * Type-level tests: `npm test` type-checks this file, so a wrong type here fails the build.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { Chest, type ChestStats, type Key } from '../../src/index.js';

describe('Chest types', () => {
  it('Chest is generic over keys and values, and a Map of them', () => {
    using c = new Chest<[string, number], Float64Array>();
    expectTypeOf(c).toExtend<Map<[string, number], Float64Array>>();
    expectTypeOf(c.get(['a', 1])).toEqualTypeOf<Float64Array | undefined>();
    expectTypeOf(c.set(['a', 1], new Float64Array(1))).toEqualTypeOf<typeof c>();
    expectTypeOf([...c.keys()]).toEqualTypeOf<[string, number][]>();
    expectTypeOf(c.stats).toEqualTypeOf<ChestStats>();
  });

  it('Chest refuses key types it cannot compare by value, at compile time', () => {
    // @ts-expect-error: a plain object is not a Key
    using bad = new Chest<{ id: number }, number>();
    expectTypeOf(bad.size).toEqualTypeOf<number>();
    using c = new Chest<string, number>();
    // @ts-expect-error: the key type is string
    c.set(1, 2);
    // @ts-expect-error: the value type is number
    c.set('a', 'b');
  });

  it('Chest takes JSON.stringify and JSON.parse as dump and load', () => {
    using c = new Chest<Key, unknown>({ dump: JSON.stringify, load: JSON.parse });
    expectTypeOf(c.get('x')).toEqualTypeOf<unknown>();
  });
});
