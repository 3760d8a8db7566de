import type { Serializer } from './types.js';

/** A user's `dump`: bytes, or a string stored as UTF-8 text. */
export type DumpFunction<V = unknown> = (value: V) => Uint8Array | string;

/**
 * A user's `load`, for text (`JSON.parse`), bytes, or both. It receives a string exactly when
 * `dump` returned one. A union, so that options objects accept either kind without a cast.
 */
export type LoadFunction<V = unknown> = ((data: string) => V) | ((data: Uint8Array) => V);

/** What `load` receives for what `dump` returned: text for a string, a plain Uint8Array for bytes. */
export type Loaded<D extends Uint8Array | string> = D extends string ? string : Uint8Array;

/**
 * A serializer from two functions, e.g. `fromFunctions(JSON.stringify, JSON.parse)`. The type of
 * `load`'s argument follows `dump`'s result, so a text loader paired with a bytes dumper is refused.
 * The name, recorded in the chest, defaults to `custom:<dump name>/<load name>`.
 *
 * @example
 * ```ts
 * import { Chest, fromFunctions } from 'spillchest';
 *
 * const serializer = fromFunctions(JSON.stringify, (text: string) => JSON.parse(text) as object, 'plain-json');
 * using chest = new Chest<string, object>({ serializer });
 * ```
 */
export function fromFunctions<V, D extends Uint8Array | string>(
  dump: (value: V) => D,
  load: (data: Loaded<D>) => V,
  name?: string,
): Serializer<V> {
  return functionsSerializer(dump, load as LoadFunction<V>, name);
}

/** `fromFunctions` for options objects, where the two functions' types are not linked. */
export function functionsSerializer<V>(
  dump: DumpFunction<V>,
  load: LoadFunction<V>,
  name?: string,
): Serializer<V> {
  if (typeof dump !== 'function') throw new TypeError('dump must be a function');
  if (typeof load !== 'function') throw new TypeError('load must be a function');
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new TypeError('a serializer name must be a non-empty string');
  }
  // The codec passes text only for what dump returned as text, so either member of the union fits.
  const read = load as (data: Uint8Array | string) => V;
  return {
    name: name ?? `custom:${dump.name || 'anonymous'}/${load.name || 'anonymous'}`,
    dump: (value: V) => dump(value),
    load: (data: Uint8Array | string) => read(data),
  };
}
