import { functionsSerializer, type DumpFunction, type LoadFunction } from './custom.js';
import { json } from './json.js';
import { msgpack } from './msgpack.js';
import { structured } from './structured.js';
import type { Serializer } from './types.js';

export type { Serializer } from './types.js';
export type { DumpFunction, Loaded, LoadFunction } from './custom.js';
export { fromFunctions } from './custom.js';
export { json } from './json.js';
export { msgpack } from './msgpack.js';
export { structured } from './structured.js';

/**
 * Names of the built-in serializers.
 *
 * @example
 * ```ts
 * import { Chest, type SerializerName } from 'spillchest';
 *
 * const serializer: SerializerName = 'json';
 * using chest = new Chest<string, { n: number }>({ serializer });
 * ```
 */
export type SerializerName = 'structured' | 'json' | 'msgpack';

/**
 * A built-in serializer by name or as an object, or one of the user's own. A serializer for any value
 * (`Serializer<unknown>`, as the built-ins are: they load back whatever they dumped) serves a chest
 * of any value type.
 *
 * @example
 * ```ts
 * import { Chest, msgpack, type SerializerOption } from 'spillchest';
 *
 * const byName: SerializerOption = 'msgpack';
 * const byObject: SerializerOption = msgpack; // the same serializer
 * using chest = new Chest({ serializer: Math.random() < 0.5 ? byName : byObject });
 * ```
 */
export type SerializerOption<V = unknown> = SerializerName | Serializer<V> | Serializer;

// A custom pair may not take one of these names (custom.ts keeps the list).
const BUILT_IN: Readonly<Record<SerializerName, Serializer>> = { structured, json, msgpack };

/**
 * The serializer a chest uses: `option` (a name or a serializer), or one made from `dump` and
 * `load` under the name `serializerName`, or 'structured' when none is given.
 */
export function resolveSerializer<V = unknown>(
  option?: SerializerOption<V>,
  dump?: DumpFunction<V>,
  load?: LoadFunction<V>,
  serializerName?: string,
): Serializer<V> {
  if (dump !== undefined || load !== undefined) {
    if (option !== undefined) throw new TypeError('give either a serializer or dump and load, not both');
    if (dump === undefined) throw new TypeError('load was given without dump');
    if (load === undefined) throw new TypeError('dump was given without load');
    if (serializerName !== undefined && (typeof serializerName !== 'string' || serializerName === '')) {
      throw new TypeError('serializerName must be a non-empty string');
    }
    return functionsSerializer(dump, load, serializerName);
  }
  if (serializerName !== undefined) {
    throw new TypeError(
      'serializerName names a dump and load pair; a Serializer object has a name of its own',
    );
  }
  if (option === undefined) option = 'structured';
  if (typeof option === 'string') {
    if (!Object.hasOwn(BUILT_IN, option)) {
      throw new TypeError(
        `unknown serializer ${JSON.stringify(option)}: expected one of ${Object.keys(BUILT_IN).join(', ')}, or a serializer object`,
      );
    }
    // A built-in loads back whatever was dumped, so it serves any V.
    return BUILT_IN[option] as Serializer<V>;
  }
  if (!isSerializer(option)) {
    throw new TypeError('a serializer must have a non-empty string name and dump and load functions');
  }
  return option;
}

function isSerializer(value: unknown): value is Serializer<never> {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<Record<keyof Serializer, unknown>>;
  return (
    typeof s.name === 'string' &&
    s.name !== '' &&
    typeof s.dump === 'function' &&
    typeof s.load === 'function'
  );
}
