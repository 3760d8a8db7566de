import { deserialize, serialize } from 'node:v8';
import type { Serializer } from './types.js';

/**
 * The V8 serializer behind `structuredClone`: Map, Set, Date, RegExp, BigInt, typed arrays, Error,
 * cycles, `undefined`, NaN, -0 and sparse arrays all come back as they went in. Class instances
 * come back as plain objects; functions and symbols throw.
 *
 * The format is V8's own: a newer Node reads what an older one wrote, not necessarily the reverse.
 */
export const structured: Serializer = {
  name: 'structured',
  dump(value: unknown): Uint8Array {
    return serialize(value);
  },
  load(data: Uint8Array | string): unknown {
    if (typeof data === 'string') throw new TypeError('the structured serializer reads bytes, not text');
    const value: unknown = deserialize(data);
    return value;
  },
};
