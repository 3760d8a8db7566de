import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isChestError } from '../../src/errors.js';
import {
  MAX_KEY_DEPTH,
  assertKey,
  compareKeys,
  decodeKey,
  encodeKey,
  encodeTuplePrefix,
  keyIdentity,
  prefixEnd,
} from '../../src/keys/codec.js';
import type { Key } from '../../src/keys/types.js';

// ---------------------------------------------------------------------------------------------------
// Reference semantics, written from the definition of the key order rather than from the codec.

function rank(k: Key): number {
  if (k === undefined) return 0;
  if (k === null) return 1;
  if (k === false) return 2;
  if (k === true) return 3;
  if (typeof k === 'number') return 4;
  if (typeof k === 'bigint') return 5;
  if (k instanceof Date) return 6;
  if (typeof k === 'string') return 7;
  return 8;
}

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

function compareNumbers(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Code point order; a lone surrogate counts as a code point with its own value. */
function compareStrings(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return sign(a.length - i - (b.length - j));
}

function refCompare(a: Key, b: Key): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return sign(ra - rb);
  if (typeof a === 'number' && typeof b === 'number') return compareNumbers(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return compareNumbers(a.getTime(), b.getTime());
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const ta = a as readonly Key[];
    const tb = b as readonly Key[];
    for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
      const c = refCompare(ta[i], tb[i]);
      if (c !== 0) return c;
    }
    return sign(ta.length - tb.length);
  }
  return 0; // undefined, null, false, true
}

/** Equality by value, independent of the order. */
function refEqual(a: Key, b: Key): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (a instanceof Date && b instanceof Date) return Object.is(a.getTime(), b.getTime());
  if (Array.isArray(a) && Array.isArray(b)) {
    const ta = a as readonly Key[];
    const tb = b as readonly Key[];
    return ta.length === tb.length && ta.every((x, i) => refEqual(x, tb[i]));
  }
  return a === b;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s/g, ''), 'hex');

// ---------------------------------------------------------------------------------------------------
// Arbitraries.

const surrogateString = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0, max: 0xffff }),
    ),
    { maxLength: 8 },
  )
  .map((units) => String.fromCharCode(...units));

const stringArb = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  surrogateString,
  fc.constantFrom(
    '',
    '\0',
    '\0\0',
    '\x01',
    'a\0',
    'a\x01',
    'a\x02',
    '\uFFFD',
    '😀',
    '\ud83d',
    '\ude00\ud83d',
  ),
);

const doubleArb = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE),
);

const bigintArb = fc.oneof(
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.tuple(fc.bigInt({ min: -1000n, max: 1000n }), fc.nat(3000)).map(([b, shift]) => b << BigInt(shift)),
  fc.constantFrom(
    2n ** 1008n - 1n,
    2n ** 1008n,
    -(2n ** 1008n) + 1n,
    -(2n ** 1008n),
    255n,
    256n,
    -255n,
    -256n,
  ),
);

const atomArb: fc.Arbitrary<Key> = fc.oneof(
  stringArb,
  doubleArb,
  bigintArb,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: false }),
);

const { key: keyArb } = fc.letrec<{ key: Key; tuple: Key[] }>((tie) => ({
  key: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atomArb, tie('tuple')),
  tuple: fc.array(tie('key'), { maxLength: 4 }),
}));

/** Few distinct values, so that pairs are often equal by value. */
const smallAtomArb: fc.Arbitrary<Key> = fc.constantFrom<Key>(
  '',
  'a',
  '\0',
  '\0a',
  '\0\0a',
  '1',
  0,
  -0,
  1,
  NaN,
  0n,
  1n,
  true,
  false,
  null,
  undefined,
  new Date(0),
  new Date(1),
  new Date(NaN),
);
const smallKeyArb: fc.Arbitrary<Key> = fc.oneof(smallAtomArb, fc.array(smallAtomArb, { maxLength: 2 }));

function expectCorruptOrCanonical(input: Uint8Array): void {
  let decoded: Key;
  try {
    decoded = decodeKey(input);
  } catch (error) {
    expect(isChestError(error, ErrorCode.CORRUPT)).toBe(true);
    return;
  }
  expect(hex(encodeKey(decoded))).toBe(hex(input));
}

function expectCorrupt(input: Uint8Array): void {
  let thrown: unknown;
  try {
    decodeKey(input);
  } catch (error) {
    thrown = error;
  }
  expect(isChestError(thrown, ErrorCode.CORRUPT), hex(input).slice(0, 40)).toBe(true);
}

class Foo {
  readonly foo = 1;
}

// ---------------------------------------------------------------------------------------------------

describe('encodeKey / decodeKey', () => {
  it('encodeKey round-trips every key through decodeKey', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const encoded = encodeKey(key);
        const decoded = decodeKey(encoded);
        expect(refEqual(decoded, key)).toBe(true);
        expect(hex(encodeKey(decoded))).toBe(hex(encoded));
      }),
      { numRuns: 2000 },
    );
  });

  it('encodeKey round-trips strings with lone surrogates, NUL and emoji exactly', () => {
    fc.assert(
      fc.property(stringArb, (s) => {
        expect(decodeKey(encodeKey(s))).toBe(s);
        expect(decodeKey(encodeKey([s, s]))).toEqual([s, s]);
      }),
      { numRuns: 2000 },
    );
    for (const s of ['\ud800', '\udc00\ud800', 'a\ud83d\ude00\udc00', '\0\x01\x02', '\uFFFD\ud800']) {
      expect(decodeKey(encodeKey(s))).toBe(s);
      expect(decodeKey(encodeKey(['x', s]))).toEqual(['x', s]);
    }
  });

  it('encodeKey writes well-formed strings as plain UTF-8 after the tag', () => {
    expect(hex(encodeKey('abc'))).toBe('40' + Buffer.from('abc').toString('hex'));
    expect(hex(encodeKey('é😀'))).toBe('40' + Buffer.from('é😀').toString('hex'));
    expect(hex(encodeKey('\ud800'))).toBe('40eda080');
  });

  it('decodeKey returns Dates as new Date objects and tuples as arrays', () => {
    const date = new Date(12345);
    const decoded = decodeKey(encodeKey([date, [new Date(NaN)]]));
    expect(Array.isArray(decoded)).toBe(true);
    const [d, [invalid]] = decoded as [Date, [Date]];
    expect(d).toBeInstanceOf(Date);
    expect(d).not.toBe(date);
    expect(d.getTime()).toBe(12345);
    expect(Number.isNaN(invalid.getTime())).toBe(true);
  });

  it('encodeKey reads a Date subclass by its time value, not an overridden getTime', () => {
    class Odd extends Date {
      override getTime(): number {
        return 1.5;
      }
    }
    expect(hex(encodeKey(new Odd(5)))).toBe(hex(encodeKey(new Date(5))));
    expect(keyIdentity(new Odd(5))).toBe(keyIdentity(new Date(5)));
  });

  it('encodeKey treats -0 as 0 and every NaN as one key', () => {
    const payloadNaN = new Float64Array(new BigUint64Array([0xfff8000000000001n]).buffer)[0]!;
    expect(hex(encodeKey(-0))).toBe(hex(encodeKey(0)));
    expect(hex(encodeKey(payloadNaN))).toBe(hex(encodeKey(NaN)));
    expect(hex(encodeKey([-0, new Date(-0)]))).toBe(hex(encodeKey([0, new Date(0)])));
    expect(Object.is(decodeKey(encodeKey(-0)), 0)).toBe(true);
  });

  it('encodeKey handles keys longer than its scratch space', () => {
    const long = 'x'.repeat(1_000_000) + '\ud800';
    expect(decodeKey(encodeKey(long))).toBe(long);
    const tuple = Array.from({ length: 10_000 }, (_, i) => `k${i}\0`);
    expect(decodeKey(encodeKey(tuple))).toEqual(tuple);
    const huge = -(3n ** 100_000n);
    expect(decodeKey(encodeKey(huge))).toBe(huge);
    expect(hex(encodeKey('ab'))).toBe('406162');
  });

  it('encodeKey returns a copy that later encodings do not overwrite', () => {
    const first = encodeKey('first');
    encodeKey('second');
    expect(Buffer.isBuffer(first)).toBe(true);
    expect(decodeKey(first)).toBe('first');
  });

  it('decodeKey accepts a Uint8Array view at an offset', () => {
    const encoded = encodeKey(['a', 1n]);
    const backing = new Uint8Array(encoded.length + 3);
    backing.set(encoded, 3);
    expect(decodeKey(backing.subarray(3))).toEqual(['a', 1n]);
  });
});

describe('key order', () => {
  it('encodeKey orders bytes as keys order', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(sign(Buffer.compare(encodeKey(a), encodeKey(b)))).toBe(refCompare(a, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('encodeKey orders numbers, bigints and strings among themselves', () => {
    const pairs = fc.oneof(
      fc.tuple(doubleArb, doubleArb),
      fc.tuple(bigintArb, bigintArb),
      fc.tuple(stringArb, stringArb),
      fc.tuple(fc.array(stringArb, { maxLength: 3 }), fc.array(stringArb, { maxLength: 3 })),
    );
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        expect(sign(Buffer.compare(encodeKey(a), encodeKey(b)))).toBe(refCompare(a, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('encodeKey sorts the boundary cases in key order', () => {
    const sorted: Key[] = [
      undefined,
      null,
      false,
      true,
      -Infinity,
      -Number.MAX_VALUE,
      -1,
      -Number.MIN_VALUE,
      0,
      Number.MIN_VALUE,
      1,
      Number.MAX_VALUE,
      Infinity,
      NaN,
      -(2n ** 5000n),
      -(2n ** 1008n),
      -(2n ** 1008n) + 1n,
      -256n,
      -255n,
      -1n,
      0n,
      1n,
      255n,
      256n,
      2n ** 1008n - 1n,
      2n ** 1008n,
      2n ** 5000n,
      new Date(-8.64e15),
      new Date(0),
      new Date(8.64e15),
      new Date(NaN),
      '',
      '\0',
      '\x01',
      'a',
      'a\0',
      'ab',
      '\ud7ff',
      '\ud800',
      '\udbff\udbff',
      '\udc00',
      '\ue000',
      '\uffff',
      '😀',
      [],
      [undefined],
      [1],
      ['a'],
      ['a', 1],
      ['a\0'],
      ['a\x01'],
      ['a\x02'],
      ['ab'],
      [[]],
      [[], 1],
      [['a']],
    ];
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1], sorted[i]];
      expect(refCompare(a, b), `${i}`).toBe(-1);
      expect(Buffer.compare(encodeKey(a), encodeKey(b)), `${i}`).toBe(-1);
      expect(compareKeys(b, a), `${i}`).toBe(1);
    }
  });

  it('compareKeys agrees with the reference order', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(sign(compareKeys(a, b))).toBe(refCompare(a, b));
        expect(compareKeys(a, a)).toBe(0);
      }),
    );
  });
});

describe('keyIdentity', () => {
  it('keyIdentity is equal exactly when encodings are equal', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(smallKeyArb, smallKeyArb), fc.tuple(keyArb, keyArb)), ([a, b]) => {
        const sameBytes = hex(encodeKey(a)) === hex(encodeKey(b));
        expect(sameBytes).toBe(refEqual(a, b));
        const ia = keyIdentity(a);
        const ib = keyIdentity(b);
        expect(ia === ib || (Number.isNaN(ia) && Number.isNaN(ib))).toBe(sameBytes);
        expect(new Map([[ia, 1]]).has(ib)).toBe(sameBytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('keyIdentity returns strings and numbers as they are', () => {
    expect(keyIdentity('abc')).toBe('abc');
    expect(keyIdentity('')).toBe('');
    expect(keyIdentity(42.5)).toBe(42.5);
    expect(Object.is(keyIdentity(-0), 0)).toBe(true);
    expect(keyIdentity(NaN)).toBeNaN();
    expect(keyIdentity(7n)).toBe(7n);
    expect(keyIdentity(null)).toBe(null);
    expect(keyIdentity(undefined)).toBe(undefined);
    expect(keyIdentity(true)).toBe(true);
    expect(keyIdentity('\0a')).toBe('\0\0a');
    expect(keyIdentity([1])).toBe('\0' + Buffer.from(encodeKey([1])).toString('latin1'));
  });

  it('keyIdentity keeps 1, "1", 1n, [1] and Date(1) distinct', () => {
    const keys: Key[] = [1, '1', 1n, [1], new Date(1), ['1'], [[1]], '\0' + 'P'];
    const identities = new Set(keys.map(keyIdentity));
    expect(identities.size).toBe(keys.length);
    expect(new Set(keys.map((k) => hex(encodeKey(k)))).size).toBe(keys.length);
  });

  it('keyIdentity throws a TypeError naming an unsupported type', () => {
    const cases: [unknown, string][] = [
      [{}, 'unsupported key type: object'],
      [() => 1, 'unsupported key type: function'],
      [Symbol('s'), 'unsupported key type: symbol'],
      [new Map(), 'unsupported key type: object (Map)'],
      [new Foo(), 'unsupported key type: object (Foo)'],
      [new Uint8Array(1), 'unsupported key type: object (Uint8Array)'],
      [Object.assign(Object.create(null) as object, { a: 1 }), 'unsupported key type: object'],
    ];
    for (const [key, message] of cases) {
      expect(() => keyIdentity(key)).toThrow(TypeError);
      expect(() => keyIdentity(key)).toThrow(message);
      expect(() => encodeKey(key as Key)).toThrow(message);
    }
  });

  it('keyIdentity names the tuple position of an unsupported element', () => {
    expect(() => keyIdentity([1, [new Foo()]])).toThrow(
      new TypeError('unsupported key type: object (Foo) at [1][0]'),
    );
    expect(() => keyIdentity(['a', 'b', Symbol('x')])).toThrow('unsupported key type: symbol at [2]');
    expect(() => encodeTuplePrefix(['a', [{}]] as unknown as Key[])).toThrow(
      'unsupported key type: object at [1][0]',
    );
  });

  it('keyIdentity refuses cyclic and too deeply nested tuples', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => keyIdentity(cyclic)).toThrow(TypeError);
    let deep: Key = 'x';
    for (let i = 0; i < MAX_KEY_DEPTH; i++) deep = [deep];
    expect(refEqual(decodeKey(encodeKey(deep)), deep)).toBe(true);
    expect(() => keyIdentity([deep])).toThrow(TypeError);
  });

  it('assertKey accepts keys and rejects what keyIdentity rejects', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        expect(() => {
          assertKey(key);
        }).not.toThrow();
      }),
    );
    expect(() => {
      assertKey([1, [new Foo()]]);
    }).toThrow('unsupported key type: object (Foo) at [1][0]');
    expect(() => {
      assertKey(Symbol('s'));
    }).toThrow(TypeError);
  });
});

describe('encodeTuplePrefix / prefixEnd', () => {
  function inRange(key: Key, lo: Uint8Array, hi: Uint8Array | undefined): boolean {
    const e = encodeKey(key);
    return Buffer.compare(e, lo) >= 0 && (hi === undefined || Buffer.compare(e, hi) < 0);
  }

  function startsWith(key: Key, prefix: readonly Key[]): boolean {
    if (!Array.isArray(key)) return false;
    const tuple = key as readonly Key[];
    return tuple.length >= prefix.length && prefix.every((p, i) => refEqual(p, tuple[i]));
  }

  /** Keys that look like the prefix but are not: a last string with a byte more, a shorter tuple... */
  function neighbours(prefix: readonly Key[]): Key[] {
    const out: Key[] = [prefix.slice(0, -1), [...prefix.slice(0, -1), [prefix.at(-1)]]];
    const last = prefix.at(-1);
    if (typeof last === 'string') {
      for (const extra of ['\0', '\x01', '\x02', 'a', '\uffff'])
        out.push([...prefix.slice(0, -1), last + extra]);
    }
    return out;
  }

  it('encodeTuplePrefix with prefixEnd selects exactly the tuples with that prefix', () => {
    fc.assert(
      fc.property(
        fc.array(keyArb, { maxLength: 3 }),
        fc.array(fc.array(keyArb, { maxLength: 2 }), { maxLength: 4 }),
        fc.array(keyArb, { maxLength: 4 }),
        (prefix, tails, others) => {
          const lo = encodeTuplePrefix(prefix);
          const hi = prefixEnd(lo);
          const candidates: Key[] = [
            ...tails.map((t) => [...prefix, ...t]),
            ...others,
            ...neighbours(prefix),
          ];
          for (const key of candidates) expect(inRange(key, lo, hi)).toBe(startsWith(key, prefix));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("encodeTuplePrefix keeps ['a'] apart from ['a\\0'] and ['a\\x01']", () => {
    const lo = encodeTuplePrefix(['a']);
    const hi = prefixEnd(lo);
    expect(inRange(['a'], lo, hi)).toBe(true);
    expect(inRange(['a', 'b'], lo, hi)).toBe(true);
    expect(inRange(['a\0'], lo, hi)).toBe(false);
    expect(inRange(['a\x01', 1], lo, hi)).toBe(false);
    expect(inRange('a', lo, hi)).toBe(false);
  });

  it('prefixEnd increments the last byte that is not 0xff', () => {
    expect(hex(prefixEnd(bytes('01 02'))!)).toBe('0103');
    expect(hex(prefixEnd(bytes('01 ff ff'))!)).toBe('02');
    expect(prefixEnd(bytes('ff ff'))).toBeUndefined();
    expect(prefixEnd(new Uint8Array(0))).toBeUndefined();
    const input = bytes('05 ff');
    prefixEnd(input);
    expect(hex(input)).toBe('05ff');
  });
});

describe('decodeKey on malformed input', () => {
  const tags = [0x10, 0x11, 0x12, 0x13, 0x20, 0x28, 0x30, 0x40, 0x50];

  it('decodeKey throws CORRUPT or returns a key that re-encodes to the same bytes on random bytes', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc
        .tuple(
          fc.constantFrom(...tags),
          fc.constantFrom(...tags, 0x00, 0x01, 0xff),
          fc.uint8Array({ maxLength: 30 }),
        )
        .map(([a, b, rest]) => Uint8Array.from([a, b, ...rest])),
    );
    fc.assert(fc.property(input, expectCorruptOrCanonical), { numRuns: 5000 });
  });

  it('decodeKey throws CORRUPT or returns a key on truncated and mutated encodings', () => {
    const mutated = fc
      .tuple(keyArb, fc.nat(), fc.nat(255), fc.constantFrom('truncate', 'flip', 'insert', 'delete'))
      .map(([key, at, value, how]) => {
        const e = Array.from(encodeKey(key));
        const i = e.length === 0 ? 0 : at % e.length;
        if (how === 'truncate') e.length = i;
        else if (how === 'flip') e[i] = value;
        else if (how === 'insert') e.splice(i, 0, value);
        else e.splice(i, 1);
        return Uint8Array.from(e);
      });
    fc.assert(fc.property(mutated, expectCorruptOrCanonical), { numRuns: 5000 });
  });

  it('decodeKey rejects bytes that no key encodes to', () => {
    const cases = [
      '', // empty
      '7f', // unknown tag
      '1100', // trailing bytes
      '20 7fffffffffffffff', // -0
      '20 fff8000000000001', // NaN with a payload
      '20 0007ffffffffffff', // NaN with the sign bit
      '20 80', // truncated number
      '28 82 0001', // bigint with a leading zero byte
      '28 7d ff fe', // negative bigint with a leading zero byte
      '28 7f', // unused bigint header
      '28 ff 01 05 0102030405', // long form for a short bigint
      '28 ff 07 ' + '01'.repeat(7), // length of length too big
      '28 ff 05 ffffffffff 01', // length far beyond the input: must not allocate it
      '28 00 fe 7f 01', // negative huge with a truncated magnitude
      '30 bff8000000000000', // Date at 1.5 ms
      '30' + hex(encodeKey(8.64e15 + 1)).slice(2), // Date beyond the time range
      '40 c080', // overlong UTF-8
      '40 eda0bd edb880', // surrogate pair written as two 3-byte sequences
      '40 f4908080', // beyond U+10FFFF
      '40 e282', // truncated UTF-8
      '50', // unterminated tuple
      '50 4061', // unterminated string in a tuple
      '50 40 0103 00 00', // bad escape
      '50 40 01', // escape at the end
      '50'.repeat(MAX_KEY_DEPTH + 1) + '00'.repeat(MAX_KEY_DEPTH + 1), // too deep
      '50'.repeat(100_000), // deep and unterminated: must not overflow the stack
    ];
    for (const c of cases) expectCorrupt(bytes(c));
  });

  it('decodeKey accepts the canonical forms next to those', () => {
    expect(decodeKey(bytes('28 7e fe'))).toBe(-1n);
    expect(decodeKey(bytes('28 80'))).toBe(0n);
    expect(decodeKey(bytes('40 ed a0 bd'))).toBe('\ud83d');
    expect(decodeKey(bytes('40 f0 9f 98 80'))).toBe('😀');
    expect(decodeKey(bytes('40 ef bf bd'))).toBe('\uFFFD');
    expect(decodeKey(bytes('50 40 0101 0102 00 00'))).toEqual(['\0\x01']);
  });
});
