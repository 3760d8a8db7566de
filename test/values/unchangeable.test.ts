import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/chest.js';
import { cannotChange } from '../../src/values/unchangeable.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('cannotChange', () => {
  it('holds for primitives', () => {
    for (const value of ['text', '', 0, -0, 1.5, NaN, 10n, true, false, null, undefined]) {
      expect(cannotChange(value), String(value)).toBe(true);
    }
  });

  it('holds for plain objects and arrays frozen all the way down', () => {
    expect(cannotChange(deepFreeze({ id: 1, tags: ['a', 'b'], nested: { deep: [1, [2]] } }))).toBe(true);
    expect(cannotChange(deepFreeze([]))).toBe(true);
    expect(cannotChange(Object.freeze(Object.create(null) as object))).toBe(true);
  });

  it('fails for anything that could still change', () => {
    expect(cannotChange({ id: 1 })).toBe(false);
    // Frozen on top, but a nested array can still be pushed to.
    expect(cannotChange(Object.freeze({ tags: ['a'] }))).toBe(false);
    expect(cannotChange(deepFreeze([{ a: 1 }, { b: [] as number[] }]))).toBe(true);
    expect(cannotChange(Object.freeze([Object.freeze({ a: 1 }), { b: 2 }]))).toBe(false);
    // Frozen objects whose state lives in internal slots.
    expect(cannotChange(Object.freeze(new Date(0)))).toBe(false);
    expect(cannotChange(Object.freeze(new Map([[1, 2]])))).toBe(false);
    expect(cannotChange(Object.freeze(new Set([1])))).toBe(false);
    class Point {
      x = 1;
    }
    expect(cannotChange(Object.freeze(new Point()))).toBe(false);
    const getter = Object.freeze(
      Object.defineProperty({}, 'now', { get: () => Date.now(), enumerable: true }),
    );
    expect(cannotChange(getter)).toBe(false);
    expect(cannotChange(() => 1)).toBe(false);
  });

  it('gives up on cycles and very large trees instead of walking them', () => {
    const a: { self?: unknown } = {};
    a.self = a;
    Object.freeze(a);
    expect(cannotChange(a)).toBe(false);
    expect(cannotChange(deepFreeze(Array.from({ length: 1000 }, (_, i) => ({ i }))))).toBe(false);
  });
});

describe('a chest spilling values that cannot change', () => {
  it('keeps them exact through spills, reads and flushes', () => {
    const chest = new Chest<string, unknown>({ availableMemory: 2000 });
    try {
      const values = new Map<string, unknown>();
      for (let i = 0; i < 200; i++) {
        const value = i % 2 === 0 ? `text ${i}` : deepFreeze({ i, tags: ['a', String(i)] });
        values.set(`k${i}`, value);
        chest.set(`k${i}`, value);
      }
      // Read every key back twice: the second pass reads values that were read, kept and spilled clean.
      for (let pass = 0; pass < 2; pass++) {
        for (const [key, value] of values) expect(chest.get(key)).toEqual(value);
      }
      chest.flush();
      for (const [key, value] of values) expect(chest.get(key)).toEqual(value);
    } finally {
      chest.close();
    }
  });

  it('still writes back a clean object that was changed in place', () => {
    const chest = new Chest<string, { n: number; tags: string[] }>({ availableMemory: 2000 });
    try {
      for (let i = 0; i < 100; i++) chest.set(`k${i}`, { n: i, tags: [] });
      const read = chest.get('k0')!;
      read.tags.push('changed');
      // Push k0 out of memory by reading every other key.
      for (let i = 1; i < 100; i++) chest.get(`k${i}`);
      const misses = chest.stats.misses;
      // Read from the store, not from memory: the change went to disk.
      expect(chest.get('k0')).toEqual({ n: 0, tags: ['changed'] });
      expect(chest.stats.misses).toBe(misses + 1);
    } finally {
      chest.close();
    }
  });
});
