import { C1, Packr, Unpackr } from 'msgpackr';
import { deserialize, serialize } from 'node:v8';
import { Fit, msgpackFit } from './fast-structured-check.js';
import type { Serializer } from './types.js';

/** node:v8 output always starts with its version tag; msgpack output only for the value -1. */
const V8_TAG = 0xff;

export const throwOnFunction = (): never => {
  throw new TypeError('a function cannot be serialized');
};

/**
 * Packrs for the process: records (`useRecords`) are defined inside each message and forgotten
 * after it, so any Packr or Unpackr reads any message, in any order. `moreTypes` gives Set, RegExp,
 * BigInt beyond 64 bits and typed arrays their own extensions. `writeFunction` throws rather than
 * write undefined, should a getter hand the packer a function it did not show the check (the dump
 * then falls back to V8, which throws too).
 *
 * `graphs` adds `structuredClone`, keeping shared references and cycles at the cost of a Map entry
 * per object; `trees` packs values with neither, writing the same bytes `graphs` would for them.
 * `reader` reads both; it is apart from the packers so that a load from a getter while packing
 * leaves their state alone.
 */
const graphs = new Packr({
  structuredClone: true,
  moreTypes: true,
  useRecords: true,
  writeFunction: throwOnFunction,
});
const trees = new Packr({ moreTypes: true, useRecords: true, writeFunction: throwOnFunction });
const reader = new Unpackr({ structuredClone: true, moreTypes: true, useRecords: true });

/**
 * msgpackr's packing state is module-wide, shared by every Packr: a dump from a getter while packing
 * must not touch it. Shared-record packing (records.ts) holds the same flag.
 */
export const packState = { packing: false };

function packed(value: unknown, fit: Fit): Uint8Array | undefined {
  if (packState.packing || fit === Fit.NO) return undefined;
  packState.packing = true;
  try {
    // A view into a slab msgpackr fills message after message: never rewritten, alive while this is.
    const bytes = (fit === Fit.TREE ? trees : graphs).pack(value);
    return bytes[0] === V8_TAG ? undefined : bytes;
  } catch {
    // Whatever msgpackr trips on (a stack overflow, an object merely wearing a built-in's
    // prototype), V8 either writes it or throws its own error, as it always did.
    return undefined;
  } finally {
    packState.packing = false;
  }
}

/** `structured.dump(value)` for a value whose `msgpackFit` is known already. */
export function dumpFitting(value: unknown, fit: Fit): Uint8Array {
  return packed(value, fit) ?? serialize(value);
}

/**
 * Keeps what `structuredClone` keeps: Map, Set, Date, RegExp, BigInt, typed arrays, Error,
 * cycles, `undefined`, NaN, -0 and sparse arrays all come back as they went in. Class instances
 * come back as plain objects; functions and symbols throw.
 *
 * Values msgpackr reproduces exactly (most data: plain objects, arrays, strings, numbers, Maps,
 * Sets, Dates, ...) are written as msgpack with msgpackr records, which for small values is much
 * faster than V8's serializer, whose every call sets up a new serializer object; everything else as
 * V8 writes it, which is also how every value was written before. The first byte tells them apart:
 * 0xFF is V8's version tag. See fast-structured-check.ts for what goes which way and why.
 *
 * V8's format is V8's own: a newer Node reads what an older one wrote, not necessarily the reverse.
 *
 * @example
 * ```ts
 * import { Chest, structured } from 'spillchest';
 *
 * using chest = new Chest<string, Map<string, Date>>({ serializer: structured, availableMemory: 0 });
 * chest.set('seen', new Map([['ada', new Date(0)]]));
 * console.log(chest.get('seen')); // Map(1) { 'ada' => 1970-01-01T00:00:00.000Z }
 * ```
 */
export const structured: Serializer = {
  name: 'structured',
  dump(value: unknown): Uint8Array {
    return dumpFitting(value, packState.packing ? Fit.NO : msgpackFit(value));
  },
  load(data: Uint8Array | string): unknown {
    if (typeof data === 'string') throw new TypeError('the structured serializer reads bytes, not text');
    if (data[0] === V8_TAG) {
      const value: unknown = deserialize(data);
      return value;
    }
    // From a Buffer, msgpackr reads a nested Buffer back as a Buffer view of `data`, as V8 does.
    const value: unknown = reader.unpack(
      Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
    // 0xc1 is never valid msgpack; msgpackr answers it with a marker object instead of throwing.
    if (value === C1) throw new TypeError('invalid msgpack: 0xc1');
    return value;
  },
};
