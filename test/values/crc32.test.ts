import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, longCrc32 } from '../../src/values/crc32.js';

describe('crc32', () => {
  it('gives zlib.crc32 for every length, short (computed here) and long (native code), and for views at any offset', () => {
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

  it('gives zlib.crc32 for long inputs, views into larger buffers and shared memory', () => {
    fc.assert(
      fc.property(fc.integer({ min: 129, max: 70_000 }), fc.nat(15), fc.integer(), (length, cut, seed) => {
        const bytes = new Uint8Array(length + cut);
        let x = seed | 1;
        for (let i = 0; i < bytes.length; i++) bytes[i] = x = Math.imul(x, 1_103_515_245) + 12_345;
        const view = bytes.subarray(cut);
        expect(crc32(view)).toBe(zlibCrc32(view));
        const shared = new Uint8Array(new SharedArrayBuffer(view.length));
        shared.set(view);
        expect(crc32(shared)).toBe(zlibCrc32(view));
      }),
      { numRuns: 200 },
    );
    const doubles = new Float64Array(1 << 20).map((_, i) => i * 0.37);
    const bytes = new Uint8Array(doubles.buffer, 8, doubles.byteLength - 16);
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
  });

  it.runIf(process.platform === 'linux' && process.arch === 'x64')(
    'uses the native implementation for long inputs where its prebuilt binary ships',
    () => {
      expect(longCrc32).toBe('native');
    },
  );

  it('matches the standard check value and the empty input', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});
