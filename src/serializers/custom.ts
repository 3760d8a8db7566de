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
 * A serializer from two functions and the name the chest records for their format, e.g.
 * `fromFunctions(JSON.stringify, JSON.parse, 'json-text-v1')`. The type of `load`'s argument follows
 * `dump`'s result, so a text loader paired with a bytes dumper is refused.
 *
 * Give the name whenever the chest is kept (a `path`, or a store that persists), and change it when
 * the format changes: a chest is only ever reopened by a serializer of the name it recorded. Without
 * one, the name is made up as `custom:<dump name>/<load name>`, which two different pairs of inline
 * functions share (`custom:dump/load`); such a serializer serves a temporary chest, and a chest that
 * is kept refuses it.
 *
 * @example
 * ```ts
 * import { Chest, fromFunctions } from 'spillchest';
 *
 * const serializer = fromFunctions(JSON.stringify, (text: string) => JSON.parse(text) as object, 'plain-json');
 * using chest = new Chest<string, object>({ path: './plain-json', serializer });
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
  if (name !== undefined && BUILT_IN_NAMES.includes(name)) {
    // A chest opened with no serializer given takes the recorded name for the built-in one.
    throw new TypeError(`${JSON.stringify(name)} is a built-in serializer's name; give yours another`);
  }
  // The codec passes text only for what dump returned as text, so either member of the union fits.
  const read = load as (data: Uint8Array | string) => V;
  const serializer: Serializer<V> = {
    name: name ?? `custom:${dump.name || 'anonymous'}/${load.name || 'anonymous'}`,
    dump: (value: V) => dump(value),
    load: (data: Uint8Array | string) => read(data),
  };
  if (name === undefined) derived.add(serializer);
  return serializer;
}

/** The built-in serializers' names (index.ts), which a custom pair may not take. */
const BUILT_IN_NAMES: readonly string[] = ['structured', 'json', 'msgpack'];

/**
 * Serializers whose name was made from their functions' names. Such a name says nothing about the
 * format (every `dump: (v) => …` is named `dump`), so no chest is reopened by one, and no hashing
 * of the functions' source could stand in for it: that changes with every build.
 */
const derived = new WeakSet<object>();

/** True for a serializer from `fromFunctions` (or `dump` and `load`) given no name. */
export function hasDerivedName(serializer: object): boolean {
  return derived.has(serializer);
}

/**
 * True when values one serializer wrote are known to load with the other: the same serializer, or
 * the same name where neither name was made up from function names.
 */
export function sameFormat(a: { readonly name: string }, b: { readonly name: string }): boolean {
  return a === b || (a.name === b.name && !derived.has(a) && !derived.has(b));
}
