import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/values/crc32.js';

describe('crc32', () => {
  it('gives zlib.crc32 for every length, short (computed here) and long (zlib), and for views at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (bytes, cut) => {
        expect(crc32(bytes)).toBe(zlibCrc32(bytes));
        const view = bytes.subarray(Math.min(cut, bytes.length));
        expect(crc32(view)).toBe(zlibCrc32(view));
        expect(crc32(Buffer.from(view))).toBe(zlibCrc32(view));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the standard check value and the empty input', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});
