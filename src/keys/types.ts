/** A key part that is not a tuple. */
export type KeyAtom = string | number | bigint | boolean | null | undefined | Date;

/**
 * Any key a chest accepts: an atom, or a tuple (array) of keys, nested to any depth.
 * Keys compare by value, like Python's hashable tuples: `['a', 1]` finds what `['a', 1]` stored.
 */
export type Key = KeyAtom | readonly Key[];
