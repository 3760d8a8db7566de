import { describe, expect, it } from 'vitest';
import { LargeSet } from '../../src/core/large-set.js';

describe('LargeSet', () => {
  it('holds each string once across its Sets, and finds, counts and lists them all', () => {
    // Three entries per Set, so that ten strings (and the repeats) span four of them.
    const set = new LargeSet(3);
    const words = Array.from({ length: 10 }, (_, i) => `w${i}`);
    for (const word of [...words, ...words.slice(0, 5)]) set.add(word);
    expect(set.size).toBe(10);
    for (const word of words) expect(set.has(word)).toBe(true);
    expect(set.has('w10')).toBe(false);
    expect([...set].sort()).toEqual([...words].sort());
  });

  it('holds more than one of its Sets may, as verify() must past the 2^24 entries of a V8 Set', () => {
    const set = new LargeSet(2 ** 10);
    for (let i = 0; i < 5 * 2 ** 10 + 1; i++) set.add(String(i));
    expect(set.size).toBe(5 * 2 ** 10 + 1);
    expect(set.has('0')).toBe(true);
    expect(set.has(String(5 * 2 ** 10))).toBe(true);
  });
});
