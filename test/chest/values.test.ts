import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/index.js';

const typedArrays = [
  new Int8Array([-1, 2, -3]),
  new Uint8Array([1, 2, 255]),
  new Uint8ClampedArray([0, 128, 255]),
  new Int16Array([-300, 300]),
  new Uint16Array([65535, 1]),
  new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
  new Uint32Array([2 ** 32 - 1, 7]),
  new Float32Array([1.5, -0.25, Infinity]),
  new Float64Array([2.5, 2.5, 2.5, 2.5]),
  new BigInt64Array([-(2n ** 63n), 5n]),
  new BigUint64Array([2n ** 64n - 1n, 0n]),
];

const bytesOf = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

describe('Chest values', () => {
  it('Chest stores every typed array type raw: its file holds exactly its bytes', () => {
    using c = new Chest<string, ArrayBufferView>({ inlineThreshold: 0 });
    for (const array of typedArrays) c.set(array.constructor.name.toLowerCase(), array);
    c.spill();
    for (const array of typedArrays) {
      const name = array.constructor.name.toLowerCase();
      expect(fs.readFileSync(c.keyToFilename(name)).equals(bytesOf(array))).toBe(true);
      const back = c.get(name)!;
      expect(back.constructor).toBe(array.constructor);
      expect(back).toEqual(array);
    }
  });

  it('Chest reads back a Float64Array as numpy.fromfile would write it', () => {
    using c = new Chest<string, Float64Array>({ inlineThreshold: 0 });
    c.set('x', new Float64Array([2.5, 2.5, 2.5, 2.5]));
    c.flush();
    const raw = fs.readFileSync(c.keyToFilename('x'));
    expect(raw.byteLength).toBe(32);
    expect(Array.from(new Float64Array(raw.buffer, raw.byteOffset, 4))).toEqual([2.5, 2.5, 2.5, 2.5]);
  });

  it('Chest round-trips typed arrays held inline in the index', () => {
    using c = new Chest<number, ArrayBufferView>();
    typedArrays.forEach((a, i) => c.set(i, a));
    c.spill();
    typedArrays.forEach((a, i) => {
      const back = c.get(i)!;
      expect(back.constructor).toBe(a.constructor);
      expect(back).toEqual(a);
      // Views handed out are aligned for their element type.
      expect(back.byteOffset % (a as Float64Array).BYTES_PER_ELEMENT).toBe(0);
    });
  });

  it('Chest keeps Buffer, ArrayBuffer, DataView and views into larger buffers', () => {
    using c = new Chest<string, unknown>({ inlineThreshold: 0 });
    const backing = new Float64Array([1, 2, 3, 4, 5]);
    const view = new Float64Array(backing.buffer, 8, 3);
    const ab = new Uint8Array([9, 8, 7]).buffer;
    c.set('buffer', Buffer.from('hello'));
    c.set('arraybuffer', ab);
    c.set('dataview', new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2));
    c.set('view', view);
    c.spill();
    const buf = c.get('buffer');
    expect(Buffer.isBuffer(buf)).toBe(true);
    expect(String(buf)).toBe('hello');
    const gotAb = c.get('arraybuffer') as ArrayBuffer;
    expect(gotAb).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(gotAb)]).toEqual([9, 8, 7]);
    const dv = c.get('dataview') as DataView;
    expect(dv).toBeInstanceOf(DataView);
    expect([dv.getUint8(0), dv.getUint8(1)]).toEqual([2, 3]);
    expect(c.get('view')).toEqual(new Float64Array([2, 3, 4]));
    expect(fs.statSync(c.keyToFilename('view')).size).toBe(24);
  });

  it('Chest stores large arrays in files and reads them back whole', () => {
    using c = new Chest<string, Float64Array>({ availableMemory: '16 MiB' });
    const arrays = Array.from({ length: 4 }, (_, i) => new Float64Array(2 ** 20).map((_, j) => i + j));
    arrays.forEach((a, i) => c.set(`a${i}`, a));
    // Compared as bytes: element-by-element deep equality of a million numbers is slow.
    arrays.forEach((a, i) => {
      const back = c.get(`a${i}`)!;
      expect(back).toBeInstanceOf(Float64Array);
      expect(bytesOf(back).equals(bytesOf(a))).toBe(true);
    });
    expect(c.memoryUsage).toBeLessThanOrEqual(16 * 2 ** 20);
    c.spill();
    expect(fs.statSync(c.keyToFilename('a0')).size).toBe(8 * 2 ** 20);
  });

  it('Chest with the default serializer keeps what structuredClone keeps, across a spill', () => {
    using c = new Chest<string, unknown>();
    const cyclic: { self?: unknown; n: number } = { n: 1 };
    cyclic.self = cyclic;
    const value = {
      map: new Map<unknown, unknown>([[1, { a: [1n] }]]),
      set: new Set(['x']),
      date: new Date(123),
      re: /ab+c/gi,
      big: 2n ** 70n,
      nested: { typed: new Float32Array([1.5]) },
      cyclic,
      nothing: undefined,
    };
    c.set('v', value);
    c.spill();
    const back = c.get('v') as typeof value;
    expect(back).toEqual(value);
    expect(back.cyclic.self).toBe(back.cyclic);
  });

  it.each(['json', 'msgpack'] as const)('Chest with the %s serializer round-trips records', (serializer) => {
    using c = new Chest<string, unknown>({ serializer });
    const record = { id: 1, name: 'item1', tags: ['a', 'b'], score: 0.5 };
    c.set('r', record);
    c.spill();
    expect(c.get('r')).toEqual(record);
  });

  it.each(['gzip', 'brotli'] as const)(
    'Chest with %s compression shrinks files and reads them back',
    (compress) => {
      using c = new Chest<string, unknown>({ compress, inlineThreshold: 0 });
      const text = 'abc'.repeat(10_000);
      const zeros = new Float64Array(10_000);
      c.set('t', text);
      c.set('z', zeros);
      c.spill();
      expect(fs.statSync(c.keyToFilename('t')).size).toBeLessThan(3000);
      expect(fs.statSync(c.keyToFilename('z')).size).toBeLessThan(3000);
      expect(c.get('t')).toBe(text);
      expect(c.get('z')).toEqual(zeros);
    },
  );

  it('Chest reopened with another compression still reads what was written before', () => {
    using first = new Chest<string, string>({ compress: 'gzip' });
    first.set('a', 'x'.repeat(1000));
    first.flush();
    const again = new Chest<string, string>({ path: first.path, compress: 'brotli' });
    expect(again.get('a')).toBe('x'.repeat(1000));
    again.set('b', 'y'.repeat(1000));
    again.spill();
    expect(again.get('b')).toBe('y'.repeat(1000));
    again.close();
  });
});
