import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InFlightKeys, type InFlightEntry } from '../../src/core/in-flight.js';
import { keyIdentity } from '../../src/keys/codec.js';
import type { Key } from '../../src/keys/types.js';

/** Keys as a chest takes them, with identities that are not hashed (not strings or numbers) among them. */
const key: fc.Arbitrary<Key> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 3 }) },
  { weight: 3, arbitrary: fc.integer({ min: -20, max: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, -0, NaN, 1n, true, null, undefined, ['t', 1], new Date(0)) },
);

type Op = { type: 'hand'; keys: Key[] } | { type: 'settle'; pick: number } | { type: 'ask'; key: Key };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.array(key, { maxLength: 30 }).map((keys) => ({ type: 'hand' as const, keys })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ type: 'settle' as const, pick })) },
  { weight: 5, arbitrary: key.map((k) => ({ type: 'ask' as const, key: k })) },
);

/** The newest entry of a key among the batches, as a plain scan finds it (a Map compares keys). */
function newest(batches: Map<number, Key[]>, id: unknown): InFlightEntry | undefined {
  let found: InFlightEntry | undefined;
  for (const [ticket, keys] of batches)
    keys.forEach((k, index) => {
      if (new Map<unknown, boolean>([[keyIdentity(k), true]]).has(id)) found = { ticket, index };
    });
  return found;
}

describe('InFlightKeys', () => {
  it('finds the newest entry of a key in the batches in flight, and nothing once they are settled', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const filter = new InFlightKeys();
        const batches = new Map<number, Key[]>();
        let ticket = 0;
        for (const o of ops) {
          if (o.type === 'hand') {
            ticket++;
            batches.set(ticket, o.keys);
            filter.add(ticket, o.keys);
          } else if (o.type === 'settle') {
            const tickets = [...batches.keys()];
            if (tickets.length === 0) continue;
            const t = tickets[o.pick % tickets.length]!;
            batches.delete(t);
            filter.remove(t);
          } else {
            const id = keyIdentity(o.key);
            expect(filter.find(id)).toEqual(newest(batches, id));
          }
          for (const keys of batches.values())
            for (const k of keys)
              expect(filter.find(keyIdentity(k))).toEqual(newest(batches, keyIdentity(k)));
        }
        for (const t of [...batches.keys()]) filter.remove(t);
        const seen = ops.flatMap((o) => (o.type === 'hand' ? o.keys : o.type === 'ask' ? [o.key] : []));
        for (const k of seen) expect(filter.find(keyIdentity(k))).toBeUndefined();
      }),
    );
  });

  it('finds keys among four full batches and no other key', () => {
    const filter = new InFlightKeys();
    // Four full batches, the most the spill thread holds.
    for (let t = 1; t <= 4; t++)
      filter.add(
        t,
        Array.from({ length: 4096 }, (_, i) => `k${t * 4096 + i}`),
      );
    expect(filter.find('k4096')).toEqual({ ticket: 1, index: 0 });
    expect(filter.find(`k${5 * 4096 - 1}`)).toEqual({ ticket: 4, index: 4095 });
    for (let i = 0; i < 100_000; i++) expect(filter.find(`other${i}`)).toBeUndefined();
    for (let t = 1; t <= 4; t++) filter.remove(t);
    expect(filter.find('k4096')).toBeUndefined();
  });
});
