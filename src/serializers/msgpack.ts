import { C1, Packr } from 'msgpackr';
import type { Serializer } from './types.js';

/**
 * Options, each chosen on purpose:
 * - `useRecords: false`: plain objects are standard msgpack maps, so other languages can read a
 *   value made of objects, arrays, strings, numbers, booleans and null. Records would also bring
 *   back Maps and (with `structuredClone`) cycles, but only msgpackr can read them.
 * - `moreTypes: true`: Set, RegExp, Error, BigInt beyond 64 bits and typed arrays use msgpackr
 *   extensions; values without them stay standard. Without it a nested Float64Array came back as a
 *   Buffer of unrelated bytes. Dates use the standard timestamp extension either way.
 * - `mapsAsObjects: true`: a msgpack map is read as an object, so a JS Map comes back as a plain
 *   object with string keys. Standard msgpack cannot tell the two apart.
 * - no `structuredClone`: without records, msgpackr 1.12 writes cycles but cannot read them back
 *   ("targetProperties.entries is not a function"); a cycle here overflows the stack while packing.
 * - `variableMapSize: true`: smallest map headers (2 bytes less per small object, ~4% slower to
 *   pack), and objects with more than 65535 keys, which the fixed 16-bit header refuses.
 * - `writeFunction` throws: msgpackr would otherwise drop a function value silently.
 *
 * Also lossy: -0 comes back as 0, a `__proto__` key as `__proto_`, fractional milliseconds of a
 * Date are dropped, class instances come back as plain objects. 64-bit integers written by other
 * languages come back as BigInt.
 */
const packr = new Packr({
  useRecords: false,
  moreTypes: true,
  mapsAsObjects: true,
  variableMapSize: true,
  writeFunction: () => {
    throw new TypeError('a function cannot be serialized with msgpack');
  },
});

/**
 * @example
 * ```ts
 * import { Chest, msgpack } from 'spillchest';
 *
 * using chest = new Chest<string, { n: number }>({ serializer: msgpack });
 * ```
 */
export const msgpack: Serializer = {
  name: 'msgpack',
  dump(value: unknown): Uint8Array {
    return packr.pack(value);
  },
  load(data: Uint8Array | string): unknown {
    if (typeof data === 'string') throw new TypeError('the msgpack serializer reads bytes, not text');
    // From a Buffer, msgpack bin values (how msgpackr writes a Buffer) come back as Buffers, not
    // plain Uint8Arrays. They are views of `data`, not copies.
    const value: unknown = packr.unpack(
      Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
    // 0xc1 is never valid msgpack; msgpackr answers it with a marker object instead of throwing.
    if (value === C1) throw new TypeError('invalid msgpack: 0xc1');
    return value;
  },
};
