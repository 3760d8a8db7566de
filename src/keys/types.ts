/**
 * A key part that is not a tuple.
 *
 * @example
 * ```ts
 * import { Chest, type KeyAtom } from 'spillchest';
 *
 * const atoms: KeyAtom[] = ['s', 1, 1n, true, null, undefined, new Date(0)];
 * using chest = new Chest<KeyAtom, number>();
 * atoms.forEach((atom, i) => chest.set(atom, i));
 * console.log(chest.get(1n), chest.get(1)); // 2 1
 * ```
 */
export type KeyAtom = string | number | bigint | boolean | null | undefined | Date;

/**
 * Any key a chest accepts: an atom, or a tuple (array) of keys, nested to any depth.
 * Keys compare by value, like Python's hashable tuples: `['a', 1]` finds what `['a', 1]` stored.
 *
 * @example
 * ```ts
 * import { Chest, type Key } from 'spillchest';
 *
 * using chest = new Chest<Key, string>();
 * chest.set(['user', 42, ['tags', true]], 'nested tuples compare by value');
 * console.log(chest.get(['user', 42, ['tags', true]]));
 * ```
 */
export type Key = KeyAtom | readonly Key[];
