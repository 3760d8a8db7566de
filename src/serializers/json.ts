import { describeType } from '../errors.js';
import type { Serializer } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Plain JSON text, readable by anything. Lossy the way `JSON.stringify` is: Maps and Sets become
 * `{}`, Dates become strings, `undefined` properties vanish, -0 becomes 0. BigInt and cycles throw.
 *
 * @example
 * ```ts
 * import { Chest, json } from 'spillchest';
 *
 * // Values other chests or languages can read as JSON text.
 * using chest = new Chest<string, { n: number }>({ serializer: json });
 * ```
 */
export const json: Serializer = {
  name: 'json',
  dump(value: unknown): string {
    const text = JSON.stringify(value);
    // JSON.stringify answers undefined, rather than throwing, for a function, a symbol or undefined.
    if (text === undefined)
      throw new TypeError(`a value of type ${describeType(value)} is not JSON-serializable`);
    return text;
  },
  load(data: Uint8Array | string): unknown {
    const value: unknown = JSON.parse(typeof data === 'string' ? data : utf8.decode(data));
    return value;
  },
};
