import type { Database } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { Chest, ErrorCode } from '../../src/index.js';
import { DiskQuota, MAX_RECENT } from '../../src/stores/lmdb/quota.js';
import { expectCode, freshPath } from '../helpers.js';

const value = (i: number): Uint8Array => new Uint8Array(10_000).fill(i);

describe('availableDisk', () => {
  it('past the quota a write fails with DISK_FULL and nothing stored is lost', () => {
    const dir = freshPath();
    const chest = new Chest<string, Uint8Array>({
      path: dir,
      availableDisk: '100 kB',
      availableMemory: 0,
      inlineThreshold: 4096,
    });
    let i = 0;
    const error = expectCode(() => {
      for (; i < 100; i++) chest.set(`k${i}`, value(i));
    }, ErrorCode.DISK_FULL);
    expect(error.message).toContain('quota');
    expect(i).toBeGreaterThanOrEqual(8);
    expect(i).toBeLessThan(10);
    for (let j = 0; j < i; j++) expect(chest.get(`k${j}`)).toEqual(value(j));
    // An overwrite of the same size fits; freeing space lets new keys in again.
    chest.set('k0', value(200));
    chest.delete('k1');
    chest.delete('k2');
    chest.flush();
    chest.set('new', value(201));
    chest.close();
    using again = new Chest<string, Uint8Array>({ path: dir, availableDisk: 100_000 });
    expect(again.get('k0')).toEqual(value(200));
    expect(again.get('new')).toEqual(value(201));
    expect(again.size).toBe(i - 1);
  });

  it("with onDiskFull: 'evict' the least recently used entries leave the disk and the hook names them", () => {
    const evicted: string[] = [];
    using chest = new Chest<string, Uint8Array>({
      path: freshPath(),
      availableDisk: 100_000,
      onDiskFull: 'evict',
      onEvict: (keys) => evicted.push(...keys),
      availableMemory: 0,
      inlineThreshold: 4096,
    });
    for (let i = 0; i < 8; i++) chest.set(`k${i}`, value(i));
    expect(chest.get('k0')).toEqual(value(0)); // k0 is now the most recent
    for (let i = 8; i < 12; i++) chest.set(`k${i}`, value(i));
    expect(evicted.length).toBeGreaterThan(0);
    expect(evicted).not.toContain('k0');
    expect(evicted[0]).toBe('k1');
    for (const key of evicted) expect(chest.has(key)).toBe(false);
    for (let i = 0; i < 12; i++) {
      if (!evicted.includes(`k${i}`)) expect(chest.get(`k${i}`)).toEqual(value(i));
    }
    expect(chest.size).toBe(12 - evicted.length);
  });

  it('keeps the order of use of at most MAX_RECENT keys; the longest unused leave the disk first', () => {
    const key = (i: number): Buffer => Buffer.from(`k${i}`);
    const stored = [key(-1), ...Array.from({ length: MAX_RECENT + 10 }, (_, i) => key(i))];
    // The quota reads only `getKeys` of the index's table here.
    const entries = { getKeys: () => stored } as unknown as Database<Buffer, Buffer>;
    const quota = new DiskQuota(1e9, () => entries);
    for (let i = 0; i < MAX_RECENT + 10; i++) quota.touch(key(i));
    quota.touch(key(0)); // used again: now the most recent
    // Never more than the cap: a Map of every key ever used would grow without bound.
    expect(quota.tracked).toBe(MAX_RECENT);
    const order = quota.oldest(new Set());
    const take = (): string => {
      const next = order.next();
      if (next.done === true) throw new Error('the order ended early');
      return next.value.toString();
    };
    const first = Array.from({ length: 11 }, take);
    // The untouched key first, then the ten dropped from the order of use (k1 to k10; k0 came back), in
    // key order, then the tracked keys from the least recently used.
    expect(first).toEqual(['k-1', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10']);
    expect(take()).toBe('k11');
    const rest = [...order].map((k) => k.toString());
    expect(rest.at(-1)).toBe('k0');
    expect(rest).toHaveLength(MAX_RECENT - 1);
  });

  it('rejects a share or a bad mode', () => {
    expect(() => new Chest({ availableDisk: '10%' })).toThrow(TypeError);
    expect(() => new Chest({ availableDisk: 1000, onDiskFull: 'drop' as 'evict' })).toThrow(TypeError);
    expect(() => new Chest({ onDiskFull: 'evict' })).toThrow(TypeError);
  });
});
