import { describe, expect, it } from 'vitest';
import {
  fromFunctions,
  json,
  msgpack,
  resolveSerializer,
  structured,
  type DumpFunction,
  type LoadFunction,
  type Serializer,
} from '../../src/serializers/index.js';
import { roundTrip, serializerSuite, type SerializerSupport } from '../conformance/serializer-suite.js';

const JSON_SUPPORT: SerializerSupport = {
  maps: 'a Map becomes {}',
  sets: 'a Set becomes {}',
  dates: 'a Date becomes its ISO string',
  bigints: 'JSON.stringify throws on a BigInt',
  cycles: 'JSON.stringify throws on a cycle',
  sharedReferences: 'JSON writes a shared object once per reference',
  undefined: 'undefined properties vanish and undefined alone is not JSON',
  regexps: 'a RegExp becomes {}',
  errors: 'an Error becomes {}',
  typedArraysNested: 'a typed array becomes an object of indices',
  sparseArrays: 'holes become null',
  negativeZero: 'JSON writes -0 as 0',
  nonFinite: 'NaN and infinities become null',
  loneSurrogates: true,
  protoKeys: true,
};

serializerSuite('structured', () => structured, {
  maps: true,
  sets: true,
  dates: true,
  bigints: true,
  cycles: true,
  sharedReferences: true,
  undefined: true,
  regexps: true,
  errors: true,
  typedArraysNested: true,
  sparseArrays: true,
  negativeZero: true,
  nonFinite: true,
  loneSurrogates: true,
  protoKeys: true,
});

serializerSuite('json', () => json, JSON_SUPPORT);

serializerSuite('msgpack', () => msgpack, {
  maps: 'a standard msgpack map is read back as a plain object (only msgpackr records keep Maps)',
  sets: true,
  dates: true,
  bigints: true,
  cycles: 'msgpackr reads cycles only with records; packing one overflows the stack',
  sharedReferences: 'msgpackr keeps identity only with structuredClone, which needs records',
  undefined: true,
  regexps: true,
  errors: true,
  typedArraysNested: true,
  sparseArrays: 'holes come back as undefined',
  negativeZero: 'msgpackr writes -0 as the integer 0',
  nonFinite: true,
  loneSurrogates: 'msgpack strings are UTF-8: an unpaired surrogate becomes U+FFFD',
  protoKeys: 'msgpackr reads a __proto__ key as __proto_, against prototype pollution',
});

serializerSuite(
  'fromFunctions(JSON.stringify, JSON.parse)',
  () => fromFunctions(JSON.stringify, JSON.parse),
  {
    ...JSON_SUPPORT,
    undefined: 'JSON.stringify answers undefined for undefined, which the codec cannot store',
  },
);

describe('structured', () => {
  it('throws on a function', () => {
    expect(() => structured.dump({ f: () => 1 })).toThrow(/could not be cloned/);
  });

  it('throws on a symbol', () => {
    expect(() => structured.dump(Symbol('s'))).toThrow();
  });

  it('throws on damaged bytes', () => {
    expect(() => structured.load(Uint8Array.of(1, 2, 3))).toThrow();
  });

  it('refuses text', () => {
    expect(() => structured.load('text')).toThrow(TypeError);
  });

  it('returns a Buffer nested in a value as a Buffer', () => {
    const out = roundTrip(structured, { b: Buffer.from('x') }) as { b: unknown };
    expect(Buffer.isBuffer(out.b)).toBe(true);
  });
});

describe('json', () => {
  it('dumps plain JSON text', () => {
    expect(json.dump({ a: [1, 'b'] })).toBe('{"a":[1,"b"]}');
  });

  it('throws a TypeError on a BigInt', () => {
    expect(() => json.dump({ n: 1n })).toThrow(TypeError);
  });

  it('throws a TypeError naming values JSON.stringify skips', () => {
    expect(() => json.dump(() => 1)).toThrow(/function is not JSON-serializable/);
    expect(() => json.dump(undefined)).toThrow(/undefined is not JSON-serializable/);
    expect(() => json.dump(Symbol('s'))).toThrow(/symbol is not JSON-serializable/);
  });

  it('throws on a cycle', () => {
    const o: Record<string, unknown> = {};
    o.o = o;
    expect(() => json.dump(o)).toThrow(TypeError);
  });

  it('loads UTF-8 bytes as well as text', () => {
    expect(json.load(Buffer.from('{"é":1}'))).toStrictEqual({ é: 1 });
  });
});

describe('msgpack', () => {
  it('writes plain values as standard msgpack', () => {
    // fixmap of 1, fixstr "a", positive fixint 1: no records, smallest map header.
    expect(Array.from(msgpack.dump({ a: 1 }) as Uint8Array)).toStrictEqual([0x81, 0xa1, 0x61, 0x01]);
    // fixarray of 2, float64, nil
    expect(Array.from(msgpack.dump([0.5, null]) as Uint8Array)).toStrictEqual([
      0x92, 0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0, 0xc0,
    ]);
  });

  it('reads a Map back as a plain object with string keys', () => {
    expect(roundTrip(msgpack, new Map<unknown, unknown>([[1, 'a']]))).toStrictEqual({ '1': 'a' });
  });

  it('round-trips typed arrays given directly', () => {
    const out = roundTrip(msgpack, new Float64Array([2.5, 2.5]));
    expect(out).toBeInstanceOf(Float64Array);
    expect(out).toStrictEqual(new Float64Array([2.5, 2.5]));
  });

  it('round-trips objects with more than 65535 keys', () => {
    const big = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i]));
    expect(roundTrip(msgpack, big)).toStrictEqual(big);
  });

  it('throws on a function instead of dropping it', () => {
    expect(() => msgpack.dump({ f: () => 1 })).toThrow(/function cannot be serialized/);
  });

  it('throws on a symbol', () => {
    expect(() => msgpack.dump(Symbol('s'))).toThrow();
  });

  it('throws on a cycle', () => {
    const o: Record<string, unknown> = {};
    o.o = o;
    expect(() => msgpack.dump(o)).toThrow();
  });

  it('throws on damaged bytes', () => {
    expect(() => msgpack.load(Uint8Array.of(0xc1))).toThrow(/0xc1/);
    expect(() => msgpack.load(Uint8Array.of(0x92, 1))).toThrow();
    expect(() => msgpack.load(Uint8Array.of(1, 2))).toThrow();
  });
});

describe('fromFunctions', () => {
  it('names a serializer after its functions', () => {
    expect(fromFunctions(JSON.stringify, JSON.parse).name).toBe('custom:stringify/parse');
  });

  it('names anonymous functions anonymous', () => {
    const s = fromFunctions([(v: number) => String(v)][0]!, [(t: string) => Number(t)][0]!);
    expect(s.name).toBe('custom:anonymous/anonymous');
  });

  it('takes an explicit name', () => {
    expect(fromFunctions(JSON.stringify, JSON.parse, 'json-v2').name).toBe('json-v2');
  });

  it("refuses a built-in serializer's name, which a chest opened with none would take for the built-in", () => {
    expect(() => fromFunctions(JSON.stringify, JSON.parse, 'json')).toThrow(/built-in serializer's name/);
    expect(() => fromFunctions(JSON.stringify, JSON.parse, 'structured')).toThrow(TypeError);
  });

  it('pairs a bytes dumper with a bytes loader', () => {
    const s = fromFunctions(
      (v: { n: number }) => Uint8Array.of(v.n),
      (b: Uint8Array) => ({ n: b[0]! }),
    );
    expect(roundTrip(s, { n: 7 })).toStrictEqual({ n: 7 });
  });

  it('refuses a text loader for a bytes dumper at compile time', () => {
    const dump = (v: number): Uint8Array => Uint8Array.of(v);
    const load = (t: string): number => Number(t);
    // @ts-expect-error load must take the Uint8Array that dump returns
    const s = fromFunctions(dump, load);
    expect(s.name).toBe('custom:dump/load');
  });

  it('throws a TypeError for something that is not a function', () => {
    expect(() => fromFunctions(JSON.stringify, 'parse' as never)).toThrow(TypeError);
  });
});

describe('resolveSerializer', () => {
  it('defaults to structured', () => {
    expect(resolveSerializer()).toBe(structured);
  });

  it('resolves built-in names', () => {
    expect(resolveSerializer('json')).toBe(json);
    expect(resolveSerializer('msgpack')).toBe(msgpack);
    expect(resolveSerializer('structured')).toBe(structured);
  });

  it('passes a serializer object through', () => {
    const s: Serializer<number> = { name: 'num', dump: (v) => String(v), load: (d) => Number(d) };
    expect(resolveSerializer(s)).toBe(s);
  });

  it('makes a serializer from options-style dump and load', () => {
    const options: { dump?: DumpFunction; load?: LoadFunction } = { dump: JSON.stringify, load: JSON.parse };
    const s = resolveSerializer(undefined, options.dump, options.load);
    expect(s.name).toBe('custom:stringify/parse');
    expect(roundTrip(s, { a: [1] })).toStrictEqual({ a: [1] });
  });

  it('throws a TypeError for an unknown name', () => {
    expect(() => resolveSerializer('yaml' as never)).toThrow(/unknown serializer "yaml"/);
  });

  it('throws a TypeError for dump without load, or load without dump', () => {
    expect(() => resolveSerializer(undefined, JSON.stringify)).toThrow(/dump was given without load/);
    expect(() => resolveSerializer(undefined, undefined, JSON.parse)).toThrow(/load was given without dump/);
  });

  it('throws a TypeError for both a serializer and dump/load', () => {
    expect(() => resolveSerializer('json', JSON.stringify, JSON.parse)).toThrow(TypeError);
  });

  it('throws a TypeError for an object that is not a serializer', () => {
    expect(() => resolveSerializer({ name: 'x', dump: () => '' } as never)).toThrow(TypeError);
  });
});
