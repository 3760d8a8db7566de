import { types } from 'node:util';

/**
 * A chest's own copy of a key. Keys compare by value, so a tuple or a Date kept by reference would
 * change under the chest if its owner changed it afterwards: the entry would stay filed under the old
 * value in memory and be written under the new one, and two entries could end up as one. The chest
 * therefore keeps a copy of every tuple and Date key it holds, and hands out copies of them too.
 * Other keys are values already and are returned as they are.
 */
export function ownKey<K>(key: K): K {
  return typeof key === 'object' && key !== null ? (copy(key) as K) : key;
}

function copy(key: object): unknown {
  if (Array.isArray(key)) {
    const n = key.length;
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const part: unknown = key[i];
      out[i] = typeof part === 'object' && part !== null ? copy(part) : part;
    }
    return out;
  }
  if (types.isDate(key)) return new Date(key.getTime());
  // Not a key the codec accepts; the caller has already rejected it.
  return key;
}
