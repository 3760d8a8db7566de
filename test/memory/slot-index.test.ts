import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotIndex, hashOf } from '../../src/memory/slot-index.js';

/** Identities as keyIdentity makes them, with the awkward ones well represented. */
const identity = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -50, max: 50 }),
  fc.constantFrom(0.5, -0.5, 1e300, -1e-300, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, NaN),
  fc.constantFrom(1n, -1n, 2n ** 70n, true, false, null, undefined),
  // Long strings that differ only in their middle, where the hash does not look.
  fc.integer({ min: 0, max: 9 }).map((i) => 'a'.repeat(300) + String(i) + 'b'.repeat(300)),
);

type Op = { type: 'add'; id: unknown } | { type: 'remove'; pick: number } | { type: 'find'; id: unknown };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: identity.map((id) => ({ type: 'add' as const, id })) },
  { weight: 4, arbitrary: fc.nat().map((pick) => ({ type: 'remove' as const, pick })) },
  { weight: 3, arbitrary: identity.map((id) => ({ type: 'find' as const, id })) },
);

describe('SlotIndex', () => {
  it('finds what a Map would, through any sequence of adds and removals', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const index = new SlotIndex();
        const model = new Map<unknown, number>();
        const free: number[] = [];
        let next = 1;
        for (const o of ops) {
          if (o.type === 'add') {
            if (model.has(o.id)) continue;
            const slot = free.pop() ?? next++;
            index.set(o.id, slot);
            model.set(o.id, slot);
          } else if (o.type === 'remove') {
            if (model.size === 0) continue;
            const [id, slot] = [...model][o.pick % model.size]!;
            expect(index.find(id)).toBe(slot);
            index.delete(slot);
            model.delete(id);
            free.push(slot);
          } else {
            expect(index.find(o.id)).toBe(model.get(o.id) ?? 0);
          }
          expect(index.size).toBe(model.size);
        }
        for (const [id, slot] of model) expect(index.find(id)).toBe(slot);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps probe runs that wrap around the end of the table intact through removals', () => {
    // Integers whose home is one of the last two of the 64 buckets a new index starts with: their
    // probe runs wrap to bucket 0 and on, which is where backward-shift deletion is easiest to get wrong.
    const tail: number[] = [];
    for (let i = 0; tail.length < 24; i++) if ((hashOf(i) & 63) >= 62) tail.push(i);
    fc.assert(
      fc.property(fc.shuffledSubarray(tail, { minLength: 1 }), fc.array(fc.nat()), (ids, removals) => {
        const index = new SlotIndex();
        ids.forEach((id, i) => {
          index.set(id, i + 1);
        });
        const held = new Map(ids.map((id, i) => [id, i + 1]));
        for (const pick of removals) {
          if (held.size === 0) break;
          const [id, slot] = [...held][pick % held.size]!;
          index.delete(slot);
          held.delete(id);
          for (const t of tail) expect(index.find(t)).toBe(held.get(t) ?? 0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps every entry through growing to 100,000 entries and shrinking back', () => {
    const index = new SlotIndex();
    const n = 100_000;
    for (let i = 1; i <= n; i++) index.set(i % 3 === 0 ? i : `k${i}`, i);
    expect(index.size).toBe(n);
    for (let i = 1; i <= n; i++) expect(index.find(i % 3 === 0 ? i : `k${i}`)).toBe(i);
    // Remove the first 99,000 in an order unrelated to the table's, then check the rest.
    for (let i = 1; i <= 99_000; i++) index.delete(((i * 7919) % 99_000) + 1);
    expect(index.size).toBe(1000);
    for (let i = 1; i <= 99_000; i += 997) expect(index.find(i % 3 === 0 ? i : `k${i}`)).toBe(0);
    for (let i = 99_001; i <= n; i++) expect(index.find(i % 3 === 0 ? i : `k${i}`)).toBe(i);
  });

  it('treats 0 and -0 as one key, NaN as equal to itself, and 1 apart from "1" and 1n', () => {
    const index = new SlotIndex();
    index.set(0, 1);
    index.set(NaN, 2);
    index.set(1, 3);
    index.set('1', 4);
    index.set(1n, 5);
    expect(index.find(-0)).toBe(1);
    expect(index.find(Number('x'))).toBe(2);
    expect([index.find(1), index.find('1'), index.find(1n)]).toEqual([3, 4, 5]);
    index.delete(3);
    expect([index.find(1), index.find('1'), index.find(1n)]).toEqual([0, 4, 5]);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.find('1')).toBe(0);
  });
});
