import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ChestError, ErrorCode, isChestError } from '../../src/errors.js';
import { json, msgpack, structured } from '../../src/serializers/index.js';
import type { Serializer } from '../../src/serializers/types.js';
import type { StoredValue } from '../../src/stores/types.js';
import { binaryByteLength, isBinary, ValueCodec } from '../../src/values/codec.js';
import {
  compress,
  compressionName,
  compressSized,
  decompress,
  decompressStored,
  resolveCompression,
  type CompressionName,
} from '../../src/values/compression.js';
import { Codec, ValueKind } from '../../src/values/kinds.js';

const HAS_ZSTD = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

type Binary = ArrayBufferView | ArrayBuffer;

/** One value of every raw kind, `n` elements long, with repetitive content so it compresses. */
function rawSamples(n: number): [string, ValueKind, Binary][] {
  const pattern = (i: number): number => (i % 7) + 1;
  const ints = Array.from({ length: n }, (_, i) => pattern(i));
  const bigs = ints.map(BigInt);
  return [
    ['Int8Array', ValueKind.INT8, Int8Array.from(ints, (v) => -v)],
    ['Uint8Array', ValueKind.UINT8, Uint8Array.from(ints)],
    ['Uint8ClampedArray', ValueKind.UINT8_CLAMPED, Uint8ClampedArray.from(ints)],
    ['Int16Array', ValueKind.INT16, Int16Array.from(ints, (v) => -v * 1000)],
    ['Uint16Array', ValueKind.UINT16, Uint16Array.from(ints, (v) => v * 1000)],
    ['Int32Array', ValueKind.INT32, Int32Array.from(ints, (v) => -v * 1e6)],
    ['Uint32Array', ValueKind.UINT32, Uint32Array.from(ints, (v) => v * 1e6)],
    ['Float32Array', ValueKind.FLOAT32, Float32Array.from(ints, (v) => v / 4)],
    ['Float64Array', ValueKind.FLOAT64, Float64Array.from(ints, (v) => v / 3)],
    ['BigInt64Array', ValueKind.BIGINT64, BigInt64Array.from(bigs, (v) => -v * 10n ** 15n)],
    ['BigUint64Array', ValueKind.BIGUINT64, BigUint64Array.from(bigs, (v) => v * 10n ** 15n)],
    ['Buffer', ValueKind.BUFFER, Buffer.from(Uint8Array.from(ints))],
    ['DataView', ValueKind.DATA_VIEW, new DataView(Uint8Array.from(ints).buffer)],
    ['ArrayBuffer', ValueKind.ARRAY_BUFFER, Uint8Array.from(ints).buffer],
  ];
}

function bytesOf(v: Binary): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Byte equality without vitest's element-by-element diff, which is slow on large arrays. */
function expectSameBytes(actual: Binary, expected: Binary): void {
  const a = bytesOf(actual);
  const b = bytesOf(expected);
  expect(a.byteLength).toBe(b.byteLength);
  expect(Buffer.compare(a, b)).toBe(0);
}

/** `bytes` copied to `offset` bytes into a fresh, larger buffer. */
function at(offset: number, bytes: Uint8Array): Uint8Array {
  const big = new Uint8Array(offset + bytes.byteLength + 5);
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.byteLength);
}

function expectChestError(fn: () => unknown, code: ErrorCode, withCause = false): ChestError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isChestError(caught, code), String(caught)).toBe(true);
  if (withCause) expect((caught as ChestError).cause).toBeDefined();
  return caught as ChestError;
}

const plain = new ValueCodec(structured, Codec.NONE);

describe('ValueCodec.encode', () => {
  it('stores a Float64Array [2.5, 2.5, 2.5, 2.5] as exactly its 32 bytes, without a copy', () => {
    const f = new Float64Array([2.5, 2.5, 2.5, 2.5]);
    const stored = plain.encode(f);
    expect(stored.kind).toBe(ValueKind.FLOAT64);
    expect(stored.codec).toBe(Codec.NONE);
    expect(stored.data.byteLength).toBe(32);
    expect(stored.data).toStrictEqual(new Uint8Array(f.buffer));
    expect(stored.data.buffer).toBe(f.buffer);
    expect(plain.decode(stored)).toStrictEqual(f);
  });

  for (const [name, kind, value] of rawSamples(9)) {
    it(`stores a ${name} raw and decodes it to the same type and bytes`, () => {
      const stored = plain.encode(value);
      expect(stored.kind).toBe(kind);
      expect(stored.data).toStrictEqual(bytesOf(value));
      const out = plain.decode(stored) as Binary;
      expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(value));
      expect(bytesOf(out)).toStrictEqual(bytesOf(value));
    });
  }

  it('stores only the bytes of a view into a larger buffer', () => {
    const backing = new Float64Array([1, 2, 3, 4]);
    const view = backing.subarray(1, 3);
    const stored = plain.encode(view);
    expect(stored.data.byteLength).toBe(16);
    expect(stored.data.byteOffset).toBe(8);
    expect(plain.decode(stored)).toStrictEqual(new Float64Array([2, 3]));
  });

  it('serializes a subclass of Uint8Array instead of storing it raw', () => {
    class Tagged extends Uint8Array {}
    const stored = plain.encode(new Tagged([1, 2, 3]));
    expect(stored.kind).toBe(ValueKind.SERIALIZED);
    expect(plain.decode(stored)).toStrictEqual(new Uint8Array([1, 2, 3]));
  });

  it('serializes a binary value nested in an object', () => {
    const stored = plain.encode({ f: new Float64Array([1]) });
    expect(stored.kind).toBe(ValueKind.SERIALIZED);
    expect(plain.decode(stored)).toStrictEqual({ f: new Float64Array([1]) });
  });

  it('stores text from a serializer returning strings as TEXT in UTF-8', () => {
    const codec = new ValueCodec(json, Codec.NONE);
    const stored = codec.encode({ é: 1 });
    expect(stored.kind).toBe(ValueKind.TEXT);
    expect(Buffer.from(stored.data).toString('utf8')).toBe('{"é":1}');
    expect(codec.decode(stored)).toStrictEqual({ é: 1 });
  });

  it('hands a text loader exactly the string dump returned, BOM included', () => {
    const s: Serializer = { name: 'id', dump: (v) => String(v), load: (d) => d };
    const codec = new ValueCodec(s, Codec.NONE);
    expect(codec.decode(codec.encode('\ufeffbom'))).toBe('\ufeffbom');
  });

  it('wraps a serializer error as UNSERIALIZABLE, naming the type, with the cause', () => {
    class Holder {
      f = (): number => 1;
    }
    const error = expectChestError(() => plain.encode(new Holder()), ErrorCode.UNSERIALIZABLE, true);
    expect(error.message).toMatch(/object \(Holder\)/);
    expectChestError(() => new ValueCodec(json, Codec.NONE).encode(1n), ErrorCode.UNSERIALIZABLE, true);
  });

  it('reports a dump that returns neither bytes nor a string as UNSERIALIZABLE', () => {
    const bad = { name: 'bad', dump: () => 42, load: () => 0 } as unknown as Serializer;
    expectChestError(() => new ValueCodec(bad, Codec.NONE).encode({}), ErrorCode.UNSERIALIZABLE);
  });

  it('keeps small values uncompressed', () => {
    const stored = new ValueCodec(structured, Codec.GZIP).encode({ id: 1 });
    expect(stored.codec).toBe(Codec.NONE);
  });

  it('keeps values that do not shrink uncompressed', () => {
    const noise = new Uint8Array(4096);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const stored = new ValueCodec(structured, Codec.GZIP).encode(zlib.gzipSync(noise));
    expect(stored.codec).toBe(Codec.NONE);
  });

  it('refuses an unknown codec', () => {
    expect(() => new ValueCodec(structured, 9 as Codec)).toThrow(RangeError);
  });
});

describe('ValueCodec.decode', () => {
  const f = new Float64Array([2.5, -1, 1e300, NaN]);

  it('does not copy aligned bytes', () => {
    const data = at(16, new Uint8Array(f.buffer));
    const out = plain.decode({ kind: ValueKind.FLOAT64, codec: Codec.NONE, data }) as Float64Array;
    expect(out.buffer).toBe(data.buffer);
    expect(out.byteOffset).toBe(16);
    expect(out).toStrictEqual(f);
  });

  it('copies misaligned bytes into a fresh buffer, from a Uint8Array or a Buffer', () => {
    const view = at(3, new Uint8Array(f.buffer));
    for (const data of [view, Buffer.from(view.buffer, view.byteOffset, view.byteLength)]) {
      const out = plain.decode({ kind: ValueKind.FLOAT64, codec: Codec.NONE, data }) as Float64Array;
      expect(out.buffer).not.toBe(data.buffer);
      expect(out.byteOffset).toBe(0);
      expect(out.buffer.byteLength).toBe(32);
      expect(out).toStrictEqual(f);
    }
  });

  it('does not copy a misaligned Buffer, Uint8Array or DataView', () => {
    for (const kind of [ValueKind.BUFFER, ValueKind.UINT8, ValueKind.DATA_VIEW]) {
      const data = at(3, Uint8Array.of(1, 2, 3));
      const out = plain.decode({ kind, codec: Codec.NONE, data }) as ArrayBufferView;
      expect(out.buffer).toBe(data.buffer);
    }
  });

  it('returns a Buffer as a Buffer', () => {
    const out = plain.decode(plain.encode(Buffer.from('hello')));
    expect(Buffer.isBuffer(out)).toBe(true);
    expect((out as Buffer).toString()).toBe('hello');
  });

  it('returns an ArrayBuffer exactly sized, copying only a part of a larger buffer', () => {
    const whole = Uint8Array.of(1, 2, 3);
    const same = plain.decode({ kind: ValueKind.ARRAY_BUFFER, codec: Codec.NONE, data: whole });
    expect(same).toBe(whole.buffer);
    const part = at(5, Uint8Array.of(1, 2, 3));
    for (const data of [part, Buffer.from(part.buffer, part.byteOffset, part.byteLength)]) {
      const copy = plain.decode({ kind: ValueKind.ARRAY_BUFFER, codec: Codec.NONE, data }) as ArrayBuffer;
      expect(copy).toBeInstanceOf(ArrayBuffer);
      expect(copy.byteLength).toBe(3);
      expect(new Uint8Array(copy)).toStrictEqual(Uint8Array.of(1, 2, 3));
    }
  });

  it('decodes empty binary values', () => {
    for (const [, , value] of rawSamples(0)) {
      const out = plain.decode(plain.encode(value)) as Binary;
      expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(value));
      expect(out.byteLength).toBe(0);
    }
  });

  it('reports a length that is not a multiple of the element size as CORRUPT', () => {
    const data = new Uint8Array(12);
    expectChestError(
      () => plain.decode({ kind: ValueKind.FLOAT64, codec: Codec.NONE, data }),
      ErrorCode.CORRUPT,
    );
    expectChestError(
      () => plain.decode({ kind: ValueKind.INT16, codec: Codec.NONE, data: new Uint8Array(3) }),
      ErrorCode.CORRUPT,
    );
  });

  it('reports an unknown kind as CORRUPT', () => {
    expectChestError(
      () => plain.decode({ kind: 200, codec: Codec.NONE, data: new Uint8Array(8) }),
      ErrorCode.CORRUPT,
    );
  });

  it('reports an unknown codec as CORRUPT', () => {
    expectChestError(
      () => plain.decode({ kind: ValueKind.UINT8, codec: 77, data: new Uint8Array(8) }),
      ErrorCode.CORRUPT,
    );
  });

  it('reports bytes the serializer cannot load as CORRUPT, with the cause', () => {
    const data = Uint8Array.of(0xff, 0x0f, 0x6f, 0x01);
    expectChestError(
      () => plain.decode({ kind: ValueKind.SERIALIZED, codec: Codec.NONE, data }),
      ErrorCode.CORRUPT,
      true,
    );
    const msg = new ValueCodec(msgpack, Codec.NONE);
    expectChestError(
      () => msg.decode({ kind: ValueKind.SERIALIZED, codec: Codec.NONE, data: Uint8Array.of(0x92, 1) }),
      ErrorCode.CORRUPT,
      true,
    );
  });

  it('reports invalid UTF-8 text as CORRUPT', () => {
    const codec = new ValueCodec(json, Codec.NONE);
    expectChestError(
      () => codec.decode({ kind: ValueKind.TEXT, codec: Codec.NONE, data: Uint8Array.of(0x22, 0xff, 0x22) }),
      ErrorCode.CORRUPT,
      true,
    );
  });
});

describe('isBinary', () => {
  it('is true for raw kinds only', () => {
    for (const [name, , value] of rawSamples(2)) expect(isBinary(value), name).toBe(true);
    class Sub extends Float64Array {}
    for (const v of [new Sub(2), {}, [], 'text', null, undefined, 1, new SharedArrayBuffer(4)]) {
      expect(isBinary(v)).toBe(false);
    }
    expect(plain.isBinary(new Uint8Array(1))).toBe(true);
  });
});

describe('binaryByteLength', () => {
  it('is the exact byte length of binary values and undefined otherwise', () => {
    expect(binaryByteLength(new Float64Array(new ArrayBuffer(80), 8, 3))).toBe(24);
    expect(binaryByteLength(new ArrayBuffer(7))).toBe(7);
    expect(binaryByteLength(Buffer.alloc(5))).toBe(5);
    expect(binaryByteLength({ length: 3 })).toBeUndefined();
    expect(plain.binaryByteLength(new DataView(new ArrayBuffer(9), 2))).toBe(7);
  });
});

const COMPRESSIONS: [CompressionName, Codec][] = [
  ['gzip', Codec.GZIP],
  ['brotli', Codec.BROTLI],
  ['zstd', Codec.ZSTD],
];

/** The codec byte each compression records, with the decompressed length before its bytes. */
const SIZED: Readonly<Partial<Record<Codec, Codec>>> = {
  [Codec.GZIP]: Codec.GZIP_SIZED,
  [Codec.BROTLI]: Codec.BROTLI_SIZED,
  [Codec.ZSTD]: Codec.ZSTD_SIZED,
};

for (const [name, codec] of COMPRESSIONS) {
  const run = name !== 'zstd' || HAS_ZSTD ? describe : describe.skip;
  const label = run === describe ? `ValueCodec with ${name}` : `ValueCodec with ${name} (needs a newer Node)`;
  run(label, () => {
    const codecs = new ValueCodec(structured, codec);
    const sized = SIZED[codec]!;

    for (const [typeName, kind, value] of rawSamples(4096)) {
      it(`round-trips a compressed ${typeName}`, () => {
        const stored = codecs.encode(value);
        expect(stored.kind).toBe(kind);
        expect(stored.codec).toBe(sized);
        expect(stored.data.byteLength).toBeLessThan(value.byteLength);
        const out = codecs.decode(stored) as Binary;
        expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(value));
        expectSameBytes(out, value);
      });
    }

    it('round-trips a compressed serialized value', () => {
      const value = Array.from({ length: 500 }, (_, i) => ({ id: i, name: `item${i}`, tags: ['a', 'b'] }));
      const stored = codecs.encode(value);
      expect(stored.kind).toBe(ValueKind.SERIALIZED);
      expect(stored.codec).toBe(sized);
      expect(codecs.decode(stored)).toStrictEqual(value);
    });

    it('round-trips compressed text', () => {
      const text = new ValueCodec(json, codec);
      const value = { words: 'lorem ipsum '.repeat(200) };
      const stored = text.encode(value);
      expect(stored.kind).toBe(ValueKind.TEXT);
      expect(stored.codec).toBe(sized);
      expect(text.decode(stored)).toStrictEqual(value);
    });

    it('reports damaged compressed bytes as CORRUPT, with the cause', () => {
      const stored = codecs.encode(new Float64Array(4096));
      const data = new Uint8Array(stored.data);
      data.fill(0x55, 0, 8);
      expectChestError(() => codecs.decode({ ...stored, data }), ErrorCode.CORRUPT, true);
      expectChestError(
        () => codecs.decode({ ...stored, data: stored.data.subarray(0, stored.data.byteLength >> 1) }),
        ErrorCode.CORRUPT,
      );
    });

    it('decompresses to the expected length, and refuses more or less', () => {
      const bytes = new Uint8Array(10_000).fill(7);
      const packed = compress(codec, bytes);
      expectSameBytes(decompress(codec, packed, 10_000), bytes);
      // A bomb: the limit stops zlib long before it inflates everything.
      expectChestError(() => decompress(codec, packed, 100), ErrorCode.CORRUPT, true);
      expectChestError(() => decompress(codec, packed, 20_000), ErrorCode.CORRUPT);
    });

    it('stops a stored value at the length it records: a bomb is CORRUPT, not gigabytes', () => {
      const bomb = compress(codec, new Uint8Array(16 * 2 ** 20));
      const data = Buffer.concat([Buffer.from([100]), bomb]);
      expectChestError(
        () => codecs.decode({ kind: ValueKind.BUFFER, codec: sized, data }),
        ErrorCode.CORRUPT,
      );
      const honest = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x08]), bomb]);
      expect(
        (codecs.decode({ kind: ValueKind.BUFFER, codec: sized, data: honest }) as Buffer).byteLength,
      ).toBe(16 * 2 ** 20);
    });

    it('refuses a damaged recorded length, and reads values stored before lengths were recorded', () => {
      const stored = codecs.encode(new Float64Array(4096).fill(1.5));
      const long = Buffer.concat([Buffer.alloc(8, 0xff), stored.data]);
      expectChestError(() => codecs.decode({ ...stored, data: long }), ErrorCode.CORRUPT);
      expectChestError(() => codecs.decode({ ...stored, data: new Uint8Array([0x80]) }), ErrorCode.CORRUPT);
      const doubles = new Float64Array(4096).fill(1.5);
      const older = { kind: stored.kind, codec, data: compress(codec, bytesOf(doubles)) };
      expectSameBytes(codecs.decode(older) as Float64Array, doubles);
    });

    it('decompresses an empty value', () => {
      expect(decompress(codec, compress(codec, new Uint8Array(0)), 0).byteLength).toBe(0);
    });
  });
}

describe('compressSized', () => {
  it('records lengths across the boundaries of its length bytes, and decompressStored stops there', () => {
    for (const length of [0, 1, 127, 128, 129, 16_383, 16_384, 16_385, 2_097_151, 2_097_152]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31) & 0x0f);
      const framed = compressSized(Codec.GZIP, bytes);
      expect(framed.codec).toBe(Codec.GZIP_SIZED);
      const prefix = length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;
      expectSameBytes(framed.data.subarray(prefix), compress(Codec.GZIP, bytes));
      expectSameBytes(decompressStored(framed.codec, framed.data), bytes);
    }
    expect(() => compressSized(Codec.NONE, new Uint8Array(1))).toThrow(RangeError);
  });
});

describe('resolveCompression', () => {
  it('maps names to codec bytes, none by default', () => {
    expect(resolveCompression()).toBe(Codec.NONE);
    expect(resolveCompression('none')).toBe(Codec.NONE);
    expect(resolveCompression('gzip')).toBe(Codec.GZIP);
    expect(resolveCompression('brotli')).toBe(Codec.BROTLI);
  });

  it('throws a TypeError for an unknown name', () => {
    expect(() => resolveCompression('lz4' as CompressionName)).toThrow(/unknown compression "lz4"/);
    expect(() => resolveCompression('toString' as CompressionName)).toThrow(TypeError);
  });

  it.runIf(!HAS_ZSTD)('throws a TypeError for zstd, which needs a newer Node', () => {
    expect(() => resolveCompression('zstd')).toThrow(/newer Node/);
  });

  it.runIf(HAS_ZSTD)('resolves zstd', () => {
    expect(resolveCompression('zstd')).toBe(Codec.ZSTD);
  });
});

describe('compressionName', () => {
  it('is the inverse of resolveCompression', () => {
    for (const name of ['none', 'gzip', 'brotli', 'zstd'] as const) {
      expect(compressionName(Codec[name.toUpperCase() as keyof typeof Codec])).toBe(name);
    }
    expect(() => compressionName(9 as Codec)).toThrow(RangeError);
  });
});

describe('decompress', () => {
  it('passes uncompressed bytes through, checking the expected length', () => {
    const bytes = Uint8Array.of(1, 2, 3);
    expect(decompress(Codec.NONE, bytes)).toBe(bytes);
    expectChestError(() => decompress(Codec.NONE, bytes, 4), ErrorCode.CORRUPT);
  });

  it('stops a gzip bomb at the expected length', () => {
    const bomb = zlib.gzipSync(new Uint8Array(16 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(50_000);
    expectChestError(() => decompress(Codec.GZIP, bomb, 1024), ErrorCode.CORRUPT, true);
  });
});

describe('StoredValue', () => {
  it('is what the store keeps: kind, codec and data only', () => {
    const stored: StoredValue = plain.encode({ a: 1 });
    expect(Object.keys(stored).sort()).toStrictEqual(['codec', 'data', 'kind']);
  });
});
