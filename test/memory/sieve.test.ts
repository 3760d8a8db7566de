import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/chest.js';
import { SieveSlots } from '../../src/memory/sieve.js';
import { Flag, MemoryTier } from '../../src/memory/tier.js';

/** Takes up to `n` slots from the eviction order, as the tier does, and returns their keys. */
function take(s: SieveSlots<string, number>, n: number): string[] {
  const out: string[] = [];
  if (n === 0) return out;
  for (const slot of s.evictionOrder()) {
    out.push(s.key(slot));
    if (out.length === n) break;
  }
  return out;
}

describe('SieveSlots', () => {
  it('SieveSlots evicts the oldest unvisited entry and keeps a visited one through a sweep', () => {
    const s = new SieveSlots<string, number>();
    const a = s.add('a', 'a', 1, 1, 0);
    s.add('b', 'b', 2, 1, 0);
    s.add('c', 'c', 3, 1, 0);
    s.touch(a);
    // A hit does not move the entry: the list stays in insertion order.
    expect([...s.slots()].map((x) => s.key(x))).toEqual(['a', 'b', 'c']);
    expect(take(s, 1)).toEqual(['b']);
    s.remove(s.find('b'));
    // The hand stays where the last sweep stopped, after b; a lost its bit when passed over.
    expect(take(s, 2)).toEqual(['c', 'a']);
  });

  it('SieveSlots keeps a re-read hot set while a stream of keys read once passes through', () => {
    const tier = new MemoryTier<string, number>(100 * 10, 1000, 'sieve');
    const hot = ['h0', 'h1', 'h2', 'h3', 'h4'];
    for (const k of hot) tier.add(k, k, 0, 100 - 64, Flag.ON_DISK);
    for (let i = 0; i < 200; i++) {
      for (const k of hot) tier.touch(tier.find(k));
      tier.add(`s${i}`, `s${i}`, i, 100 - 64, Flag.ON_DISK);
      if (tier.overBudget) for (const slot of tier.victims()) tier.remove(slot);
    }
    for (const k of hot) expect(tier.find(k)).not.toBe(0);
    // The same stream under LRU pushes out the hot keys whenever they are not the most recent.
    const lru = new MemoryTier<string, number>(100 * 10, 1000, 'lru');
    for (const k of hot) lru.add(k, k, 0, 100 - 64, Flag.ON_DISK);
    for (let i = 0; i < 200; i++) {
      lru.add(`s${i}`, `s${i}`, i, 100 - 64, Flag.ON_DISK);
      if (lru.overBudget) for (const slot of lru.victims()) lru.remove(slot);
    }
    for (const k of hot) expect(lru.find(k)).toBe(0);
  });

  it('SieveSlots agrees with a reference SIEVE under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('add', 'touch', 'remove', 'evict'),
            fc.integer({ min: 0, max: 15 }),
            fc.nat(3),
          ),
        ),
        (ops) => {
          const s = new SieveSlots<string, number>();
          // Reference: oldest first, each with its visited bit; the hand is an index into it.
          const model: { key: string; visited: boolean }[] = [];
          let hand = 0;
          for (const [op, k, n] of ops) {
            const key = `k${k}`;
            const slot = s.find(key);
            const at = model.findIndex((m) => m.key === key);
            if (op === 'add' && slot === 0) {
              s.add(key, key, k, 1, 0);
              model.push({ key, visited: false });
            } else if (op === 'touch' && slot !== 0) {
              s.touch(slot);
              model[at]!.visited = true;
            } else if (op === 'remove' && slot !== 0) {
              s.remove(slot);
              model.splice(at, 1);
              if (at < hand) hand--;
              if (hand >= model.length) hand = 0;
            } else if (op === 'evict' && model.length > 0) {
              const want = Math.min(n + 1, model.length);
              const expected: string[] = [];
              const chosen = new Set<string>();
              for (let steps = 2 * model.length; steps > 0 && expected.length < want; steps--) {
                const m = model[hand]!;
                if (m.visited) m.visited = false;
                else if (!chosen.has(m.key)) {
                  chosen.add(m.key);
                  expected.push(m.key);
                }
                hand = (hand + 1) % model.length;
              }
              expect(take(s, want)).toEqual(expected);
              for (const key of expected) {
                s.remove(s.find(key));
                const i = model.findIndex((m) => m.key === key);
                model.splice(i, 1);
                if (i < hand) hand--;
              }
              if (hand >= model.length) hand = 0;
            }
          }
          expect([...s.slots()].map((x) => s.key(x))).toEqual(model.map((m) => m.key));
        },
      ),
    );
  });

  it('Chest evicts with either policy and reads every value back; an unknown policy is a TypeError', () => {
    for (const eviction of ['sieve', 'lru'] as const) {
      using c = new Chest<number, string>({ availableMemory: 4000, eviction });
      for (let i = 0; i < 200; i++) c.set(i, `value ${i}`);
      for (let i = 0; i < 200; i += 3) c.get(i);
      expect(c.memoryUsage).toBeLessThanOrEqual(4000);
      expect(c.size).toBe(200);
      for (let i = 0; i < 200; i++) expect(c.get(i)).toBe(`value ${i}`);
    }
    expect(() => new Chest({ eviction: 'fifo' as 'lru' })).toThrow(TypeError);
  });
});
