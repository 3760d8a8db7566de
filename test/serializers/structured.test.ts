import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { isDeepStrictEqual, types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { fitsMsgpack, MAX_DEPTH } from '../../src/serializers/fast-structured-check.js';
import { SharedRecords } from '../../src/serializers/records.js';
import { structured } from '../../src/serializers/structured.js';
import { MemoryStore } from '../../src/stores/memory.js';

/**
 * The structured serializer must give back exactly what `v8.deserialize(v8.serialize(v))` gives,
 * whichever format it chose. "Exactly" is isDeepStrictEqual plus what it does not look at: every
 * prototype, the order and descriptors of own properties (so array holes, lengths and extra
 * properties), which objects are the same object (shared references, cycles), -0 everywhere, Dates
 * by time value (invalid ones too), ArrayBuffer resizability.
 *
 * Not compared: a view's byteOffset and the byteLength of its buffer. node:v8 writes only a view's
 * own bytes and reads it back aliasing the bytes it loads from (or an 8 KiB pool slab), so those
 * depend on the input buffer, not on the value; see 'what node:v8 keeps of a view' below. Instead,
 * no two views read back may overlap, as with V8.
 */

const V8_TAG = 0xff;
const OPTIONS = { structuredClone: true, moreTypes: true, useRecords: true } as const;

/** The structured serializer always writes bytes. */
function dump(value: unknown): Uint8Array {
  const out = structured.dump(value);
  if (typeof out === 'string') throw new TypeError('structured wrote text');
  return out;
}

function viaV8(value: unknown): unknown {
  return deserialize(serialize(value));
}

/** As stores hand them out: a plain Uint8Array at an odd offset of a larger buffer. */
function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + 3);
  out.set(bytes, 3);
  return out.subarray(3);
}

function errorOf(fn: () => unknown): Error | undefined {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  return undefined;
}

const isIndex = (k: PropertyKey): boolean => typeof k === 'string' && /^(0|[1-9]\d*)$/.test(k);

function bytesOf(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  return ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v);
}

class Mismatch extends Error {}

/** ES2024 resizable ArrayBuffers, which Node 20 has. */
type Resizable = ArrayBuffer & { readonly resizable?: boolean; readonly maxByteLength?: number };
const ResizableArrayBuffer = ArrayBuffer as unknown as new (
  n: number,
  o: { maxByteLength: number },
) => Resizable;

/** Throws a Mismatch naming the first place where `a` (ours) and `b` (V8's) differ. */
function compare(a: unknown, b: unknown): void {
  const pairs = new Map<object, object>();
  const back = new Map<object, object>();
  const views: ArrayBufferView[] = [];
  let invalidDate = false;

  const fail = (path: string, what: string): never => {
    throw new Mismatch(`${path || 'value'}: ${what}`);
  };

  const same = (x: unknown, y: unknown, path: string): void => {
    if (typeof x !== typeof y) fail(path, `${typeof x} vs ${typeof y}`);
    if (typeof x !== 'object' || x === null || y === null) {
      if (!Object.is(x, y)) fail(path, `${String(x)} vs ${String(y)}`);
      return;
    }
    const o = x;
    const p = y as object;
    // Identity: the two graphs must pair objects one to one.
    const paired = pairs.get(o);
    if (paired !== undefined) {
      if (paired !== p) fail(path, 'a shared reference or cycle differs');
      return;
    }
    if (back.has(p)) fail(path, 'one object where V8 has two');
    pairs.set(o, p);
    back.set(p, o);

    if (Object.getPrototypeOf(o) !== Object.getPrototypeOf(p)) fail(path, 'prototypes differ');
    if (Array.isArray(o) !== Array.isArray(p)) fail(path, 'array vs not');

    if (types.isDate(o)) {
      const t = o.getTime();
      if (Number.isNaN(t)) invalidDate = true;
      if (!Object.is(t, (p as Date).getTime())) fail(path, 'dates differ');
    } else if (types.isRegExp(o)) {
      const [r, s] = [o, p as RegExp];
      if (r.source !== s.source || r.flags !== s.flags || r.lastIndex !== s.lastIndex)
        fail(path, 'regexps differ');
    } else if (types.isMap(o)) {
      const [m, n] = [[...o], [...(p as Map<unknown, unknown>)]];
      if (m.length !== n.length) fail(path, 'map sizes differ');
      m.forEach(([k, v], i) => {
        same(k, n[i]![0], `${path}<key ${i}>`);
        same(v, n[i]![1], `${path}<value ${i}>`);
      });
    } else if (types.isSet(o)) {
      const [m, n] = [[...o], [...(p as Set<unknown>)]];
      if (m.length !== n.length) fail(path, 'set sizes differ');
      m.forEach((v, i) => same(v, n[i], `${path}<${i}>`));
    } else if (types.isAnyArrayBuffer(o)) {
      const [r, s] = [o as Resizable, p as Resizable];
      if (r.resizable !== s.resizable || r.maxByteLength !== s.maxByteLength)
        fail(path, 'resizability differs');
      if (!Buffer.from(r).equals(Buffer.from(s))) fail(path, 'buffer bytes differ');
    } else if (ArrayBuffer.isView(o)) {
      const [r, s] = [o, p as ArrayBufferView];
      views.push(r);
      if (r.byteLength !== s.byteLength || !Buffer.from(bytesOf(r)).equals(Buffer.from(bytesOf(s)))) {
        fail(path, 'view bytes differ');
      }
    } else if (types.isBoxedPrimitive(o)) {
      if (!Object.is((o as { valueOf(): unknown }).valueOf(), (p as { valueOf(): unknown }).valueOf())) {
        fail(path, 'boxed values differ');
      }
    }

    // Own properties, in order, with their descriptors (array holes and lengths included).
    const view = ArrayBuffer.isView(o);
    const keysOf = (z: object): PropertyKey[] => Reflect.ownKeys(z).filter((k) => !view || !isIndex(k));
    const [ka, kb] = [keysOf(o), keysOf(p)];
    if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
      fail(path, `own keys differ: ${ka.map(String).join(',')} vs ${kb.map(String).join(',')}`);
    }
    for (const k of ka) {
      const [da, db] = [Object.getOwnPropertyDescriptor(o, k)!, Object.getOwnPropertyDescriptor(p, k)!];
      if (
        da.enumerable !== db.enumerable ||
        da.writable !== db.writable ||
        da.configurable !== db.configurable
      ) {
        fail(`${path}.${String(k)}`, 'descriptors differ');
      }
      if ('value' in da !== 'value' in db) fail(`${path}.${String(k)}`, 'accessor vs data');
      same(da.value, db.value, `${path}.${String(k)}`);
    }
  };

  same(a, b, '');
  // Views read back never share bytes, with V8 (disjoint stretches of its input) or msgpackr (copies).
  for (let i = 0; i < views.length; i++) {
    for (let j = i + 1; j < views.length; j++) {
      const [u, w] = [views[i]!, views[j]!];
      if (
        u.buffer === w.buffer &&
        u.byteOffset < w.byteOffset + w.byteLength &&
        w.byteOffset < u.byteOffset + u.byteLength
      ) {
        fail('', 'two views read back overlap');
      }
    }
  }
  // isDeepStrictEqual holds too, but calls two invalid Dates unequal even to themselves.
  if (!invalidDate && !isDeepStrictEqual(a, b)) fail('', 'not isDeepStrictEqual');
}

/** How a round trip is made: `structured` itself, or through a store's shared structure table. */
interface Codec {
  dump(value: unknown): Uint8Array;
  load(bytes: Uint8Array): unknown;
}

const plain: Codec = { dump, load: (bytes) => structured.load(bytes) };

/**
 * The structured serializer with a structure table (src/serializers/records.ts), as a chest on the
 * default store uses it. A first byte tells the load which of its two outputs it is given, as the
 * value's kind does in a store.
 */
function withTable(): Codec {
  const records = new SharedRecords(new MemoryStore().structures);
  return {
    dump(value) {
      const bytes = records.dump(value);
      return Buffer.concat([Buffer.of(records.shared ? 1 : 0), bytes]);
    },
    load(bytes) {
      const rest = bytes.subarray(1);
      return bytes[0] === 1 ? records.load(rest) : structured.load(rest);
    },
  };
}

/** Dumps and loads `value` and checks it against V8; returns the first byte written. */
function expectAsV8(value: unknown, codec: Codec = plain): number | undefined {
  const v8Error = errorOf(() => viaV8(value));
  if (v8Error !== undefined) {
    const ours = errorOf(() => codec.dump(value));
    expect(ours, 'V8 throws, so must dump').toBeDefined();
    expect(ours!.message).toBe(v8Error.message);
    return undefined;
  }
  const expected = viaV8(value);
  const bytes = codec.dump(value);
  compare(codec.load(padded(bytes)), expected);
  // Loading from a Buffer (as stores return) too.
  compare(codec.load(Buffer.from(bytes)), expected);
  return bytes[0];
}

function firstByte(value: unknown): number {
  return dump(value)[0]!;
}

// ---- arbitraries ----

const TYPED = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

/** A typed array, DataView or Buffer at some offset into a larger buffer, or the whole of one. */
const viewArb = fc
  .record({
    kind: fc.integer({ min: 0, max: TYPED.length + 1 }),
    bytes: fc.uint8Array({ maxLength: 48 }),
    start: fc.nat({ max: 16 }),
    end: fc.nat({ max: 16 }),
  })
  .map(({ kind, bytes, start, end }) => {
    const buffer = new ArrayBuffer(bytes.byteLength + 32);
    new Uint8Array(buffer).set(bytes, 8);
    if (kind === TYPED.length)
      return new DataView(buffer, start, Math.max(0, buffer.byteLength - start - end));
    if (kind === TYPED.length + 1)
      return Buffer.from(buffer, start, Math.max(0, buffer.byteLength - start - end));
    const C = TYPED[kind]!;
    const size = C.BYTES_PER_ELEMENT;
    const offset = start - (start % size);
    return new C(buffer, offset, Math.max(0, Math.floor((buffer.byteLength - offset - end) / size)));
  });

/** Several views of one buffer, the buffer itself and a view repeated. */
const sharedBufferArb = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.nat({ max: 8 }))
  .map(([bytes, at]) => {
    const buffer = bytes.slice().buffer;
    const u8 = new Uint8Array(buffer, at, 4);
    return [u8, new Uint32Array(buffer, 8, 2), new DataView(buffer), buffer, u8];
  });

const loneSurrogateArb = fc
  .tuple(
    fc.string(),
    fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff'),
    fc.string(),
    fc.nat({ max: 80 }),
  )
  .map(([a, s, b, n]) => a + s + b + 'x'.repeat(n));

const w1Arb = fc.nat().map((i) => ({ id: i, name: `item${i}`, tags: ['a', 'b'], score: i * 0.5 }));

const TRICKY_KEYS = [
  '__proto__',
  '__keys__',
  'constructor',
  'toJSON',
  'hasOwnProperty',
  'valueOf',
  'toString',
  'length',
  'prototype',
  '0',
  '1',
  '-0',
  '01',
  '4294967294',
  '4294967295',
  '9007199254740993',
  '',
  '\ud800',
  '\ufeffbom',
];

function keyArb(unit: 'grapheme' | 'binary'): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit, maxLength: 6 }) },
    fc.constantFrom(...TRICKY_KEYS),
  );
}

/** One of a kind: values that each exercise one decision of the check. */
const specialArb = fc.oneof(
  fc.constantFrom(-0, 0, -1, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31), 4294967295, 5e-324),
  fc.constantFrom(
    0n,
    -1n,
    1n,
    2n ** 63n - 1n,
    2n ** 63n,
    -(2n ** 63n),
    -(2n ** 63n) - 1n,
    2n ** 64n - 1n,
    2n ** 64n,
    3n ** 200n,
    -(5n ** 300n),
  ),
  fc.bigInt({ min: -(2n ** 600n), max: 2n ** 600n }),
  fc.date({ noInvalidDate: false }),
  fc.constantFrom(8.64e15, -8.64e15, -1, 0, 1.5, 2 ** 32 * 1000, NaN).map((t) => new Date(t)),
  fc
    .tuple(
      fc.constantFrom('a.b', '^x$', '\\d+(?<n>y)', '[\\ud800]', '\\/', '\ud800', ''),
      fc.subarray(['d', 'g', 'i', 'm', 's', 'u', 'y']),
    )
    .map(([src, flags]) => {
      try {
        return new RegExp(src, flags.join(''));
      } catch {
        return new RegExp(src);
      }
    }),
  fc.constantFrom('v', 'gv', 'dv').map((f) => new RegExp('[a&&a]', f)),
  loneSurrogateArb,
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('\ufeff', '\ufeffabc', '\u0000', 'x'.repeat(70_000), '😀'.repeat(40), 'é'.repeat(300)),
  viewArb,
  sharedBufferArb,
  fc.uint8Array({ maxLength: 32 }).map((b) => b.slice().buffer),
  fc.constant(null).map(() => new ResizableArrayBuffer(8, { maxByteLength: 16 })),
  fc.constant(null).map(() => 'abcb'.match(/b/)),
  fc.constant(null).map(() => Object.assign([1, 2], { extra: true })),
  fc.constant(null).map(() => {
    const a = [1, 2, 3];
    Object.defineProperty(a, 1, { value: 2, enumerable: false });
    return a;
  }),
  w1Arb,
);

function anythingArb(unit: 'grapheme' | 'binary', withExotic: boolean): fc.Arbitrary<unknown> {
  return fc.anything({
    key: keyArb(unit),
    values: [
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.string({ unit }),
      fc.constantFrom(null, undefined, NaN, 0, -0, Number.EPSILON, Number.MIN_VALUE, Number.MAX_VALUE),
      fc.constantFrom(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Infinity, -Infinity),
      specialArb,
    ],
    maxDepth: 4,
    maxKeys: 6,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withObjectString: true,
    withSparseArray: withExotic,
    withBoxedValues: withExotic,
    withNullPrototype: withExotic,
    stringUnit: unit,
  });
}

const CONTAINERS = ['object', 'array', 'map', 'mapKey', 'set', 'null-proto'] as const;

/** Containers linked at random: shared references and cycles of every kind. */
const graphArb = fc
  .record({
    kinds: fc.array(fc.constantFrom(...CONTAINERS), { minLength: 1, maxLength: 7 }),
    edges: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.string({ maxLength: 3 })), { maxLength: 14 }),
    leaves: fc.array(fc.tuple(fc.nat(), anythingArb('grapheme', false)), { maxLength: 4 }),
  })
  .map(({ kinds, edges, leaves }) => {
    const make = (k: (typeof CONTAINERS)[number]): object => {
      if (k === 'array') return [];
      if (k === 'map' || k === 'mapKey') return new Map();
      if (k === 'set') return new Set();
      return k === 'null-proto' ? (Object.create(null) as object) : {};
    };
    const nodes = kinds.map(make);
    const add = (i: number, child: unknown, key: string): void => {
      const n = nodes[i % nodes.length]!;
      const k = kinds[i % nodes.length]!;
      if (k === 'array') (n as unknown[]).push(child);
      else if (k === 'map') (n as Map<unknown, unknown>).set(key, child);
      else if (k === 'mapKey') (n as Map<unknown, unknown>).set(child, key);
      else if (k === 'set') (n as Set<unknown>).add(child);
      else (n as Record<string, unknown>)[`k${key}`] = child;
    };
    for (const [from, to, key] of edges) add(from, nodes[to % nodes.length], key);
    leaves.forEach(([at, leaf], i) => add(at, leaf, `leaf${i}`));
    return nodes[0]!;
  });

// ---- tests ----

describe('structured: same as V8, whichever format', () => {
  const props: [string, fc.Arbitrary<unknown>][] = [
    ['anything, well-formed strings', anythingArb('grapheme', false)],
    ['anything, any UTF-16 (lone surrogates)', anythingArb('binary', false)],
    ['anything with sparse arrays, boxed values, null prototypes', anythingArb('grapheme', true)],
    ['anything with every option, any UTF-16', anythingArb('binary', true)],
    [
      'objects with every option',
      fc.object({
        key: keyArb('binary'),
        maxDepth: 3,
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withNullPrototype: true,
        withObjectString: true,
        withSet: true,
        withSparseArray: true,
        withTypedArray: true,
        stringUnit: 'binary',
      }),
    ],
    ['special values', specialArb],
    ['special values nested', fc.array(fc.oneof(specialArb, fc.dictionary(keyArb('binary'), specialArb)))],
    ['graphs with shared references and cycles', graphArb],
    ['graphs nested in arrays, twice', graphArb.map((g) => [g, { g }, new Map([[g, g]])])],
    ['records', fc.array(w1Arb, { maxLength: 40 })],
  ];
  for (const [name, arb] of props) {
    it(`round-trips ${name}`, () => {
      fc.assert(
        fc.property(arb, (v) => {
          expectAsV8(v);
        }),
        { numRuns: 400 },
      );
    });
    it(`round-trips ${name} through one shared structure table`, () => {
      // One table for every run: later values meet the structures of earlier ones.
      const codec = withTable();
      fc.assert(
        fc.property(arb, (v) => {
          expectAsV8(v, codec);
        }),
        { numRuns: 400 },
      );
    });
  }

  it('writes most plain values as msgpack', () => {
    let fast = 0;
    const runs = 300;
    fc.assert(
      fc.property(anythingArb('grapheme', false), (v) => {
        if (expectAsV8(v) !== V8_TAG) fast++;
      }),
      { numRuns: runs },
    );
    expect(fast).toBeGreaterThan(runs * 0.6);
  });
});

describe('structured: values msgpackr would get wrong go to V8', () => {
  const deep = (n: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const poisoned = Object.assign(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), {});
  Object.setPrototypeOf(poisoned, Float64Array.prototype);
  const fakeArray = { a: 1 };
  Object.setPrototypeOf(fakeArray, Array.prototype);
  const fakeMap = { a: 1 };
  Object.setPrototypeOf(fakeMap, Map.prototype);
  const reArray = [1, 2];
  Object.setPrototypeOf(reArray, Object.prototype);
  const reDate = new Date(5);
  Object.setPrototypeOf(reDate, Object.prototype);
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const CASES: [string, () => unknown][] = [
    ['-0', () => -0],
    ['-0 in an object', () => ({ a: -0 })],
    ['-0 as a Map value', () => new Map([[1, -0]])],
    ['-1, whose msgpack starts with 0xFF', () => -1],
    ['a sparse array', () => [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['an array with a non-enumerable index', () => Object.defineProperty([1, 2], 0, { enumerable: false })],
    ['an array with an extra property', () => Object.assign([1, 2], { x: 1 })],
    ['a RegExp match array (index, input, groups)', () => 'abc'.match(/(?<x>b)/)],
    ['a short string with a lone surrogate', () => 'a\ud800'],
    ['a long string with a lone surrogate', () => 'a\udc00'.repeat(100)],
    ['a lone surrogate in a key', () => ({ '\ud800': 1 })],
    ['a lone surrogate in a Map key', () => new Map([['\udfff', 1]])],
    ['a lone surrogate in a Set', () => new Set(['\udfff'])],
    ['a lone surrogate in a RegExp source', () => new RegExp('\ud800')],
    ['an own __proto__ key', () => JSON.parse('{"__proto__": {"a": 1}, "b": 2}') as unknown],
    ['an own __keys__ key', () => ({ q: 1, __keys__: 2 })],
    ['an own hasOwnProperty key', () => ({ hasOwnProperty: 1 })],
    ['a constructor key beside a toJSON key', () => ({ constructor: 1, toJSON: 2 })],
    [
      'a null-prototype object with a toJSON key',
      () => Object.assign(Object.create(null) as object, { toJSON: 1 }),
    ],
    ['new Boolean(false)', () => new Boolean(false)],
    ['new Number(-0)', () => new Number(-0)],
    ['new String("ab")', () => new String('ab')],
    ['Object(1n)', () => Object(1n) as unknown],
    ['an Error', () => new RangeError('r')],
    ['a class instance', () => new Point(1, 2)],
    ['a Map with its own constructor property', () => Object.assign(new Map([[1, 2]]), { constructor: 1 })],
    [
      'a Set with Map as its own constructor',
      () => Object.defineProperty(new Set(['ab']), 'constructor', { value: Map }),
    ],
    ['a Uint8Array given the Float64Array prototype', () => poisoned],
    ['an array given Object.prototype', () => reArray],
    ['a Date given Object.prototype', () => reDate],
    ['an object given Map.prototype', () => fakeMap],
    ['an object given Array.prototype', () => fakeArray],
    ['an empty object given Array.prototype', () => Object.setPrototypeOf({}, Array.prototype) as unknown],
    ['a resizable ArrayBuffer', () => new ResizableArrayBuffer(4, { maxByteLength: 8 })],
    [`nesting deeper than ${MAX_DEPTH}`, () => deep(MAX_DEPTH + 2)],
  ];
  for (const [name, make] of CASES) {
    it(name, () => {
      expect(firstByte(make())).toBe(V8_TAG);
      expectAsV8(make());
    });
  }

  it('values V8 refuses still throw its error', () => {
    const refused: unknown[] = [
      () => 1,
      { f: () => 1 },
      Symbol('s'),
      { s: Symbol('s') },
      new Proxy({ a: 1 }, {}),
      new Proxy([1], {}),
      (function (..._args: unknown[]) {
        return arguments; // eslint-disable-line prefer-rest-params
      })(1, 2),
      new SharedArrayBuffer(4),
      new WeakMap(),
      Promise.resolve(1),
      new Map([[1, () => 1]]),
      new Set([Symbol('s')]),
    ];
    for (const v of refused) {
      const v8Error = errorOf(() => serialize(v));
      expect(v8Error).toBeDefined();
      expect(errorOf(() => dump(v))?.message).toBe(v8Error!.message);
    }
  });

  it('a module namespace, which V8 refuses', async () => {
    const ns: unknown = await import('../../src/serializers/types.js');
    expect(fitsMsgpack(ns)).toBe(false);
    expect(errorOf(() => dump(ns))?.message).toBe(errorOf(() => serialize(ns))?.message);
  });

  it('a detached ArrayBuffer, which V8 refuses', () => {
    const ab = new ArrayBuffer(8);
    structuredClone(ab, { transfer: [ab] });
    expect(errorOf(() => dump({ ab }))?.message).toBe(errorOf(() => serialize({ ab }))?.message);
  });

  it('a value too deep for V8 too throws its RangeError', () => {
    const v = deep(200_000);
    const v8Error = errorOf(() => serialize(v));
    expect(v8Error).toBeInstanceOf(RangeError);
    const ours = errorOf(() => dump(v));
    expect(ours).toBeInstanceOf(RangeError);
    expect(ours!.message).toBe(v8Error!.message);
  });

  it(`nesting up to ${MAX_DEPTH} stays msgpack, for every kind of container`, () => {
    const wrap: ((v: unknown) => unknown)[] = [
      (v) => [v],
      (v) => ({ a: v }),
      (v) => new Map([[1, v]]),
      (v) => new Map([[v, 1]]),
      (v) => new Set([v]),
    ];
    for (const w of wrap) {
      let v: unknown = 1;
      for (let i = 0; i < MAX_DEPTH; i++) v = w(v);
      expect(firstByte(v)).not.toBe(V8_TAG);
      expectAsV8(v);
    }
  });
});

describe('structured: msgpack for what msgpackr keeps', () => {
  const shared = { s: 1 };
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const CASES: [string, () => unknown][] = [
    ['the W1 record', () => ({ id: 7, name: 'item7', tags: ['a', 'b'], score: 3.5 })],
    [
      'null, booleans, undefined, numbers',
      () => [null, true, false, undefined, 0, 1, -2, 0.5, NaN, Infinity, 2 ** 60],
    ],
    ['undefined alone', () => undefined],
    [
      'strings of all kinds',
      () => ['', 'a', '\u0000', '\ufeffbom', 'é', '😀', 'x'.repeat(70_000), '\ud83d\ude00'],
    ],
    ['integer-like keys, in V8 order', () => ({ b: 1, 2: 2, a: 3, 1: 4, '-1': 5, '01': 6, 4294967295: 7 })],
    ['a constructor key', () => ({ constructor: 'c', a: 1 })],
    ['a null-prototype object', () => Object.assign(Object.create(null) as object, { a: 1 })],
    [
      'Maps with object keys, in order',
      () =>
        new Map<unknown, unknown>([
          [3, 1],
          [{ k: 1 }, 2],
          ['b', 3],
          [NaN, 4],
        ]),
    ],
    ['Sets in order', () => new Set([3, 1, 'b', shared])],
    [
      'Dates',
      () => [new Date(0), new Date(-1), new Date(1.7), new Date(NaN), new Date(8.64e15), new Date(-8.64e15)],
    ],
    ['RegExps with every flag', () => [/a.b/dgimsuy, new RegExp('[a&&a]', 'v'), /x/y]],
    ['BigInts', () => [0n, -1n, 2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n, -(3n ** 300n)]],
    ['empty containers', () => ({ a: {}, b: [], c: new Map(), d: new Set(), e: [[]], f: [{}] })],
    [
      'typed arrays, a DataView, an ArrayBuffer, a Buffer',
      () => [
        new BigInt64Array([-1n]),
        new Float32Array([NaN, -0]),
        new DataView(new ArrayBuffer(3)),
        new ArrayBuffer(2),
        Buffer.from('b'),
      ],
    ],
    [
      'views into a larger buffer, sharing it',
      () => {
        const ab = new ArrayBuffer(16);
        return [new Uint8Array(ab, 3, 5), new Uint16Array(ab, 2, 3), new DataView(ab, 1, 2), ab];
      },
    ],
    ['shared references', () => ({ a: shared, b: [shared], c: new Map([[shared, shared]]) })],
    ['a cycle', () => cyclic],
    [
      'more object shapes than msgpackr has record ids (64), with shared references',
      () => {
        const shapes = Array.from({ length: 300 }, (_, i) => ({
          [`s${i}`]: i,
          [`k${i % 13}`]: { [`n${i % 97}`]: i },
        }));
        const all: unknown[] = [...shapes, ...shapes.map((o) => ({ ...o })), shapes[5], shapes[200]];
        all.push(all);
        return all;
      },
    ],
    ['an array of 70,000 numbers', () => Array.from({ length: 70_000 }, (_, i) => i * 1.5)],
    [
      'an object with 70,000 keys',
      () => Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i])),
    ],
    [
      'one shape repeated, with keys a compiled reader must quote',
      () =>
        Array.from({ length: 6 }, (_, i) => ({ constructor: i, 'a b': 1, '1': 2, '\u2028': 3, é: 4, r: 5 })),
    ],
    [
      'a Set holding itself',
      () => {
        const s = new Set<unknown>();
        s.add(s);
        return s;
      },
    ],
    [
      'non-enumerable and symbol-keyed properties (both drop them)',
      () => Object.defineProperty({ a: 1, [Symbol('s')]: 2 }, 'h', { value: 3 }),
    ],
    [
      'a getter (its value is written)',
      () => ({
        get x() {
          return 5;
        },
      }),
    ],
  ];
  for (const [name, make] of CASES) {
    it(name, () => {
      expect(firstByte(make())).not.toBe(V8_TAG);
      expectAsV8(make());
    });
  }
});

describe('structured: format', () => {
  it('loads what plain v8.serialize wrote (the old format)', () => {
    const values: unknown[] = [
      { id: 1, name: 'item1', tags: ['a', 'b'], score: 0.5 },
      -1,
      new Map([[1, new Set([2])]]),
      'text',
      { f64: new Float64Array([1.5]), d: new Date(3) },
    ];
    for (const v of values) {
      compare(structured.load(padded(serialize(v))), viaV8(v));
      compare(structured.load(serialize(v)), viaV8(v));
    }
  });

  it('reads messages with fresh readers, in any order', () => {
    const values = fc.sample(fc.oneof(anythingArb('grapheme', false), graphArb, w1Arb), {
      numRuns: 600,
      seed: 42,
    });
    const written = values.map((v, i) => ({ i, bytes: Buffer.from(dump(v)) }));
    const fast = written.filter((w) => w.bytes[0] !== V8_TAG);
    expect(fast.length).toBeGreaterThan(values.length / 2);
    // Shuffle deterministically.
    const order = fast.map((w, k) => ({ w, r: (k * 7919) % fast.length })).sort((a, b) => a.r - b.r);
    const reader = new Unpackr(OPTIONS);
    for (const { w } of order) {
      compare(new Packr(OPTIONS).unpack(w.bytes), viaV8(values[w.i]));
      compare(reader.unpack(Buffer.from(w.bytes)), viaV8(values[w.i]));
    }
  });

  it('keeps writing readable messages after values with a __keys__ key', () => {
    // msgpackr 1.12 alone: a __keys__ key poisons its record table, and a later { q } cannot be read.
    const raw = new Packr(OPTIONS);
    raw.pack({ q: 1, __keys__: 2 });
    expect(() => new Unpackr(OPTIONS).unpack(raw.pack({ q: 5 })) as unknown).toThrow();
    // Here those values go to V8 and never reach the Packr.
    const values = [
      { q: 1, __keys__: 2 },
      { q: 5 },
      [{ a: 1, __keys__: 2 }, { a: 1 }],
      {},
      { __keys__: 1 },
      { q: 6 },
    ];
    for (const v of values) expectAsV8(v);
  });

  it('packs a value dumped again from a getter during a dump', () => {
    const inner = { n: 1 };
    let nested: Uint8Array | undefined;
    const outer = {
      get x() {
        nested = dump(inner);
        return 2;
      },
    };
    expectAsV8(outer);
    expect(nested).toBeDefined();
    compare(structured.load(nested!), viaV8(inner));
  });

  it('throws on damaged bytes', () => {
    for (const bytes of [[], [0xc1], [0x92, 1], [1, 2, 3], [0xd4, 0x72, 0x40], [0xff], [0xff, 0x0f, 0x6f]]) {
      expect(() => structured.load(Uint8Array.from(bytes))).toThrow();
    }
  });
});

describe('what node:v8 keeps of a view', () => {
  // Why view offsets and buffers are not compared: node:v8 does not keep them either.
  it('writes only the view’s bytes and reads them back aliasing its input', () => {
    const ab = new ArrayBuffer(16);
    const bytes = serialize([new Uint8Array(ab, 4, 4), new Uint8Array(ab), ab]);
    const [part, whole, buffer] = deserialize(bytes) as [Uint8Array, Uint8Array, ArrayBuffer];
    // Not offset 4 of a 16-byte buffer: a stretch of the bytes it read.
    expect(part.buffer).toBe(bytes.buffer);
    expect(part.byteOffset).toBeGreaterThan(bytes.byteOffset);
    // The views no longer share bytes with each other or with the buffer.
    expect(whole.buffer).toBe(bytes.buffer);
    expect(
      part.byteOffset + part.byteLength <= whole.byteOffset || whole.byteOffset + 16 <= part.byteOffset,
    ).toBe(true);
    expect(buffer).not.toBe(bytes.buffer);
  });
});
