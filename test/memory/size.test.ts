import { describe, expect, it } from 'vitest';
import { sizeOf, sizeOfValue } from '../../src/memory/size.js';

describe('sizeOfValue', () => {
  it('sizeOfValue is exact for binary values', () => {
    expect(sizeOfValue(new Float64Array(1000))).toBe(8000);
    expect(sizeOfValue(Buffer.alloc(5))).toBe(5);
    expect(sizeOfValue(new ArrayBuffer(7))).toBe(7);
    expect(sizeOfValue(new DataView(new ArrayBuffer(16), 4, 8))).toBe(8);
  });

  it('sizeOfValue grows with strings, arrays, objects, maps and sets', () => {
    expect(sizeOfValue('x'.repeat(100))).toBeGreaterThan(sizeOfValue('x'));
    expect(sizeOfValue([1, 2, 3, 4])).toBeGreaterThan(sizeOfValue([1]));
    expect(sizeOfValue({ a: 'x'.repeat(50) })).toBeGreaterThan(sizeOfValue({ a: 1 }));
    expect(sizeOfValue(new Map([[1, 'x'.repeat(99)]]))).toBeGreaterThan(99);
    expect(sizeOfValue(new Set(['x'.repeat(99)]))).toBeGreaterThan(99);
    expect(sizeOfValue(2n ** 200n)).toBeGreaterThan(sizeOfValue(1n));
    expect(sizeOfValue({ nested: new Float64Array(100) })).toBeGreaterThanOrEqual(800);
  });

  it('sizeOfValue counts a shared or cyclic reference once and terminates', () => {
    const shared = 'y'.repeat(1000);
    const inner = { s: shared };
    const twice = sizeOfValue({ a: inner, b: inner });
    expect(twice).toBeLessThan(2 * sizeOfValue(inner));
    const cyclic: { self?: unknown; pad: string } = { pad: 'x'.repeat(100) };
    cyclic.self = cyclic;
    expect(sizeOfValue(cyclic)).toBeGreaterThan(100);
  });

  it('sizeOf adds the key to the value', () => {
    expect(sizeOf(1, 'a-long-key-name')).toBeGreaterThan(sizeOf(1, 'k'));
    expect(sizeOf(1, ['tuple', 'key'])).toBeGreaterThan(sizeOf(1, 1));
  });
});
