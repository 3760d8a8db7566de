import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LruSlots } from '../../src/memory/lru.js';

const order = (lru: LruSlots<string, number>): string[] => [...lru.slots()].map((s) => lru.key(s));

describe('LruSlots', () => {
  it('LruSlots orders slots from least to most recent, touch moves to the front', () => {
    const lru = new LruSlots<string, number>();
    const a = lru.add('a', 'a', 1, 10, 0);
    lru.add('b', 'b', 2, 20, 0);
    lru.add('c', 'c', 3, 30, 0);
    expect(order(lru)).toEqual(['a', 'b', 'c']);
    lru.touch(a);
    expect(order(lru)).toEqual(['b', 'c', 'a']);
    expect(lru.key(lru.lru())).toBe('b');
    expect(lru.bytes).toBe(60);
    expect(lru.count).toBe(3);
  });

  it('LruSlots replace changes value, size and recency', () => {
    const lru = new LruSlots<string, number>();
    const a = lru.add('a', 'a', 1, 10, 0);
    lru.add('b', 'b', 2, 20, 0);
    lru.replace(a, 5, 50, 3);
    expect(lru.value(a)).toBe(5);
    expect(lru.flags(a)).toBe(3);
    expect(lru.bytes).toBe(70);
    expect(order(lru)).toEqual(['b', 'a']);
  });

  it('LruSlots reuses removed slots and grows past its first capacity', () => {
    const lru = new LruSlots<string, number>();
    for (let i = 0; i < 1000; i++) lru.add(`k${i}`, `k${i}`, i, 1, 0);
    for (let i = 0; i < 1000; i += 2) lru.remove(lru.find(`k${i}`));
    expect(lru.count).toBe(500);
    const reused = lru.add('new', 'new', -1, 1, 0);
    expect(reused).toBeLessThanOrEqual(1000);
    expect(lru.find('k1')).not.toBe(0);
    expect(lru.find('k0')).toBe(0);
    expect(lru.value(lru.find('k999'))).toBe(999);
  });

  it('LruSlots slots() allows removing the yielded slot', () => {
    const lru = new LruSlots<string, number>();
    for (const k of ['a', 'b', 'c', 'd']) lru.add(k, k, 0, 1, 0);
    for (const slot of lru.slots()) if (lru.key(slot) !== 'c') lru.remove(slot);
    expect(order(lru)).toEqual(['c']);
    lru.clear();
    expect(lru.count).toBe(0);
    expect(lru.bytes).toBe(0);
    expect(lru.lru()).toBe(0);
  });

  it('LruSlots agrees with a reference list under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom('add', 'touch', 'remove'), fc.integer({ min: 0, max: 20 }), fc.nat(100)),
        ),
        (ops) => {
          const lru = new LruSlots<string, number>();
          let model: [string, number][] = [];
          for (const [op, k, size] of ops) {
            const key = `k${k}`;
            const slot = lru.find(key);
            if (op === 'add' && slot === 0) {
              lru.add(key, key, k, size, 0);
              model.push([key, size]);
            } else if (op === 'touch' && slot !== 0) {
              lru.touch(slot);
              const entry = model.find(([m]) => m === key)!;
              model = [...model.filter(([m]) => m !== key), entry];
            } else if (op === 'remove' && slot !== 0) {
              lru.remove(slot);
              model = model.filter(([m]) => m !== key);
            }
          }
          expect(order(lru)).toEqual(model.map(([m]) => m));
          expect(lru.bytes).toBe(model.reduce((sum, [, s]) => sum + s, 0));
        },
      ),
    );
  });
});
