import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Serializer } from '../../src/serializers/types.js';

/** `true`, or why the serializer cannot do it: the tests that need it are skipped with that reason. */
export type Support = true | string;

/** What a serializer round-trips beyond JSON values. */
export interface SerializerSupport {
  readonly maps: Support;
  readonly sets: Support;
  readonly dates: Support;
  readonly bigints: Support;
  readonly cycles: Support;
  /** The same object reached twice comes back as one object. */
  readonly sharedReferences: Support;
  readonly undefined: Support;
  readonly regexps: Support;
  readonly errors: Support;
  /** Typed arrays, Buffers and ArrayBuffers inside other values. */
  readonly typedArraysNested: Support;
  readonly sparseArrays: Support;
  readonly negativeZero: Support;
  /** NaN, Infinity, -Infinity. */
  readonly nonFinite: Support;
  /** Strings with unpaired UTF-16 surrogates. */
  readonly loneSurrogates: Support;
  /** An own property named `__proto__`, as `JSON.parse` makes. */
  readonly protoKeys: Support;
}

type Capability = keyof SerializerSupport;

interface Case {
  readonly name: string;
  readonly needs: readonly Capability[];
  readonly value: () => unknown;
  /** Checks the round-tripped value; structural strict equality when absent. */
  readonly check?: (out: unknown, input: unknown) => void;
}

/**
 * Dumps and loads `value` the way the value codec does: text stays text, bytes come back as a plain
 * Uint8Array at an odd offset of a larger buffer (stores hand out views, not Buffers).
 */
export function roundTrip(serializer: Serializer, value: unknown): unknown {
  const data = serializer.dump(value);
  if (typeof data === 'string') return serializer.load(data);
  expect(data).toBeInstanceOf(Uint8Array);
  const padded = new Uint8Array(data.byteLength + 3);
  padded.set(data, 3);
  return serializer.load(padded.subarray(3));
}

function cyclicObject(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

const CASES: readonly Case[] = [
  { name: 'null', needs: [], value: () => null },
  { name: 'booleans', needs: [], value: () => [true, false] },
  {
    name: 'integers',
    needs: [],
    value: () => [
      0,
      1,
      -1,
      127,
      128,
      255,
      65536,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 32 + 1,
      Number.MAX_SAFE_INTEGER,
    ],
  },
  { name: 'floats', needs: [], value: () => [0.1, -2.5, 1e300, 5e-324, Math.PI] },
  {
    name: 'strings',
    needs: [],
    value: () => ['', 'plain', 'héllo wörld', '😀 emoji', '\u0000nul', 'x'.repeat(100_000)],
  },
  {
    name: 'nested objects and arrays',
    needs: [],
    value: () => ({ a: [1, { b: [2, [3, { c: 'd' }]] }], e: {}, f: [], g: { h: null } }),
  },
  { name: 'objects with numeric-looking keys', needs: [], value: () => ({ '1': 'a', '01': 'b', c: 2 }) },
  {
    name: 'an own __proto__ property',
    needs: ['protoKeys'],
    value: () => JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown,
    check: (out) => {
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toStrictEqual({ polluted: true });
    },
  },
  {
    name: 'an array of records',
    needs: [],
    value: () => [1, 2, 3].map((i) => ({ id: i, name: `item${i}` })),
  },
  { name: '-0', needs: ['negativeZero'], value: () => [-0, { x: -0 }] },
  { name: 'NaN and infinities', needs: ['nonFinite'], value: () => [NaN, Infinity, -Infinity] },
  {
    name: 'lone surrogates',
    needs: ['loneSurrogates'],
    value: () => ['a\ud800b', '\udfff', { '\ud800': 1 }],
  },
  { name: 'undefined', needs: ['undefined'], value: () => undefined },
  {
    name: 'undefined inside values',
    needs: ['undefined'],
    value: () => ({ a: undefined, b: [undefined, 1] }),
  },
  {
    name: 'sparse arrays',
    needs: ['sparseArrays'],
    // eslint-disable-next-line no-sparse-arrays
    value: () => [1, , 3],
    check: (out) => {
      expect(out).toStrictEqual([1, , 3]); // eslint-disable-line no-sparse-arrays
      expect(1 in (out as unknown[])).toBe(false);
    },
  },
  {
    name: 'a Map with non-string keys',
    needs: ['maps'],
    value: () =>
      new Map<unknown, unknown>([
        [1, 'one'],
        ['1', 'string one'],
        [true, { nested: new Map([['k', 'v']]) }],
      ]),
  },
  { name: 'a Set', needs: ['sets'], value: () => new Set([1, 'a', 2.5]) },
  {
    name: 'Dates',
    needs: ['dates'],
    value: () => [new Date(0), new Date(1_700_000_000_123), new Date(-1e12)],
  },
  {
    name: 'BigInts',
    needs: ['bigints'],
    value: () => [0n, -1n, 2n ** 63n - 1n, 2n ** 64n, -(2n ** 200n), 3n ** 700n],
  },
  { name: 'RegExps', needs: ['regexps'], value: () => [/a+b/gi, /^x$/msuy] },
  {
    name: 'Errors',
    needs: ['errors'],
    value: () => [new Error('plain'), new RangeError('range'), new TypeError('type')],
    check: (out, input) => {
      const a = out as Error[];
      (input as Error[]).forEach((e, i) => {
        expect(a[i]).toBeInstanceOf(e.constructor);
        expect(a[i]!.name).toBe(e.name);
        expect(a[i]!.message).toBe(e.message);
      });
    },
  },
  {
    name: 'typed arrays inside an object',
    needs: ['typedArraysNested'],
    value: () => ({
      f64: new Float64Array([2.5, -0, NaN, 1e300]),
      f32: new Float32Array([1.5, -2]),
      i16: new Int16Array([1, -2, 32767]),
      u8: new Uint8Array([1, 2, 255]),
      u8c: new Uint8ClampedArray([0, 255]),
      i64: new BigInt64Array([-(2n ** 63n), 5n]),
      buf: Buffer.from('bytes'),
      ab: new Uint8Array([9, 8, 7]).buffer,
      // An odd offset, so a serializer that aliases its input must cope.
      view: new Uint16Array(new Uint8Array([0, 1, 0, 2, 0]).buffer, 2, 1),
      dv: new DataView(new Uint8Array([0, 1, 0, 2, 0]).buffer, 1, 3),
    }),
    check: (out, input) => {
      const o = out as Record<string, unknown>;
      const i = input as Record<string, ArrayBufferView | ArrayBuffer>;
      for (const [k, v] of Object.entries(i)) {
        expect(Object.getPrototypeOf(o[k]), k).toBe(Object.getPrototypeOf(v));
        expect(bytesOf(o[k] as ArrayBufferView | ArrayBuffer), k).toStrictEqual(bytesOf(v));
      }
    },
  },
  {
    name: 'shared references as one object',
    needs: ['sharedReferences'],
    value: () => {
      const shared = { s: 1 };
      return { a: shared, b: [shared] };
    },
    check: (out) => {
      const o = out as { a: unknown; b: unknown[] };
      expect(o.a).toStrictEqual({ s: 1 });
      expect(o.b[0]).toBe(o.a);
    },
  },
  {
    name: 'a cyclic object',
    needs: ['cycles'],
    value: cyclicObject,
    check: (out) => {
      const o = out as Record<string, unknown>;
      expect(o.a).toBe(1);
      expect(o.self).toBe(o);
    },
  },
  {
    name: 'a cyclic array',
    needs: ['cycles'],
    value: () => {
      const a: unknown[] = [1];
      a.push(a);
      return a;
    },
    check: (out) => {
      expect((out as unknown[])[1]).toBe(out);
    },
  },
  {
    name: 'a cycle through a Map',
    needs: ['cycles', 'maps'],
    value: () => {
      const m = new Map<string, unknown>();
      m.set('me', m);
      return m;
    },
    check: (out) => {
      expect((out as Map<string, unknown>).get('me')).toBe(out);
    },
  },
];

function bytesOf(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** True if `value` or anything inside it passes `test`. */
function contains(value: unknown, test: (v: unknown) => boolean): boolean {
  if (test(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const inner = value instanceof Map || value instanceof Set ? [...value].flat() : Object.values(value);
  return inner.some((v) => contains(v, test));
}

const isNegativeZero = (v: unknown): boolean => Object.is(v, -0);
const hasProtoKey = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__');

/** Leaves out generated values that need a capability the serializer lacks. */
function within<T>(supports: SerializerSupport, arb: fc.Arbitrary<T>): fc.Arbitrary<T> {
  const tests: ((v: unknown) => boolean)[] = [];
  if (supports.negativeZero !== true) tests.push(isNegativeZero);
  if (supports.protoKeys !== true) tests.push(hasProtoKey);
  return tests.length === 0 ? arb : arb.filter((v) => !tests.some((t) => contains(v, t)));
}

/** The first capability in `needs` the serializer lacks, with its reason. */
function missing(supports: SerializerSupport, needs: readonly Capability[]): string | undefined {
  for (const need of needs) {
    const s = supports[need];
    if (s !== true) return `${need}: ${s}`;
  }
  return undefined;
}

/** Runs the round-trip cases and properties every serializer must pass, as far as it supports them. */
export function serializerSuite(label: string, make: () => Serializer, supports: SerializerSupport): void {
  describe(label, () => {
    const serializer = make();
    const yes = (c: Capability): boolean => supports[c] === true;

    it('has a non-empty name', () => {
      expect(typeof serializer.name).toBe('string');
      expect(serializer.name).not.toBe('');
    });

    for (const c of CASES) {
      const reason = missing(supports, c.needs);
      if (reason !== undefined) {
        it.skip(`round-trips ${c.name} (unsupported, ${reason})`, () => {});
        continue;
      }
      it(`round-trips ${c.name}`, () => {
        const input = c.value();
        const out = roundTrip(serializer, input);
        if (c.check) c.check(out, input);
        else expect(out).toStrictEqual(input);
      });
    }

    const stringUnit = yes('loneSurrogates') ? 'binary' : 'grapheme';
    const json = within(supports, fc.jsonValue({ stringUnit }));
    const without = (['negativeZero', 'protoKeys'] as const).filter((c) => !yes(c));
    it(`round-trips any JSON value${without.length ? ` without ${without.join(' or ')}` : ''}`, () => {
      fc.assert(
        fc.property(json, (v) => {
          expect(roundTrip(serializer, v)).toStrictEqual(v);
        }),
        { numRuns: 300 },
      );
    });

    const richer: Capability[] = ['maps', 'sets', 'dates', 'bigints', 'typedArraysNested', 'undefined'];
    if (!richer.some(yes)) {
      it.skip('round-trips richer values (unsupported: none of maps, sets, dates, bigints, typed arrays, undefined)', () => {});
      return;
    }
    const leaves: fc.Arbitrary<unknown>[] = [
      fc.boolean(),
      fc.integer(),
      fc
        .double({ noNaN: !yes('nonFinite'), noDefaultInfinity: !yes('nonFinite') })
        .filter((d) => yes('negativeZero') || !Object.is(d, -0)),
      fc.string({ unit: stringUnit }),
      fc.constant(null),
    ];
    if (yes('undefined')) leaves.push(fc.constant(undefined));
    const anything = within(
      supports,
      fc.anything({
        key: fc.string({ unit: stringUnit }),
        values: leaves,
        withMap: yes('maps'),
        withSet: yes('sets'),
        withDate: yes('dates'),
        withBigInt: yes('bigints'),
        withTypedArray: yes('typedArraysNested'),
        withSparseArray: yes('sparseArrays'),
        withNullPrototype: false,
        withBoxedValues: false,
        withObjectString: false,
      }),
    );
    const kinds = richer.filter(yes).join(', ');
    it(`round-trips richer values (${kinds})`, () => {
      fc.assert(
        fc.property(anything, (v) => {
          expect(roundTrip(serializer, v)).toStrictEqual(v);
        }),
        { numRuns: 300 },
      );
    });
  });
}
