import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD, Flag, MemoryTier } from '../../src/memory/tier.js';

describe('MemoryTier', () => {
  it('MemoryTier counts each entry with its bookkeeping overhead', () => {
    const tier = new MemoryTier<string, number>(1000, 100);
    tier.add('a', 'a', 1, 100, Flag.DIRTY);
    expect(tier.bytes).toBe(100 + ENTRY_OVERHEAD);
    expect(tier.overBudget).toBe(false);
    tier.add('b', 'b', 2, 900, Flag.DIRTY);
    expect(tier.overBudget).toBe(true);
  });

  it('MemoryTier names victims from the least recent end down to a low-water mark, passing over unspillable ones', () => {
    const tier = new MemoryTier<string, number>(800, 100);
    for (let i = 0; i < 10; i++) tier.add(`k${i}`, `k${i}`, i, 100 - ENTRY_OVERHEAD, Flag.DIRTY);
    tier.setFlags(tier.find('k0'), Flag.DIRTY | Flag.UNSPILLABLE);
    const victims = tier.victims().map((slot) => tier.key(slot));
    expect(victims[0]).toBe('k1');
    expect(victims).not.toContain('k0');
    // 1000 bytes held, budget 800, low-water 775 (a 32nd under it): three go.
    expect(victims).toEqual(['k1', 'k2', 'k3']);
  });

  it('MemoryTier enforces its entry cap as well as its bytes', () => {
    const tier = new MemoryTier<string, number>(1e9, 16);
    for (let i = 0; i < 20; i++) tier.add(`k${i}`, `k${i}`, i, 1, Flag.DIRTY);
    expect(tier.overBudget).toBe(true);
    expect(tier.victims().length).toBe(20 - 14);
  });

  it('MemoryTier counts entries by what the store holds of them', () => {
    const tier = new MemoryTier<string, number>(1e6, 100);
    const a = tier.add('a', 'a', 1, 1, Flag.DIRTY);
    const b = tier.add('b', 'b', 1, 1, Flag.DIRTY | Flag.DISK_UNKNOWN);
    const c = tier.add('c', 'c', 1, 1, Flag.ON_DISK);
    expect([tier.memoryOnly, tier.unknown, tier.buried]).toEqual([1, 1, 0]);
    tier.setFlags(b, Flag.DIRTY | Flag.ON_DISK);
    expect([tier.memoryOnly, tier.unknown, tier.buried]).toEqual([1, 0, 0]);
    tier.bury(c, 1);
    expect([tier.memoryOnly, tier.unknown, tier.buried]).toEqual([1, 0, 1]);
    expect(tier.flags(c) & Flag.DELETED).toBe(Flag.DELETED);
    tier.replace(c, 2, 1);
    expect([tier.memoryOnly, tier.unknown, tier.buried]).toEqual([1, 0, 0]);
    tier.remove(a);
    expect([tier.memoryOnly, tier.unknown, tier.buried]).toEqual([0, 0, 0]);
    tier.clear();
    expect(tier.count).toBe(0);
  });
});
