/** Nodes looked at before giving up: a value this large is checked by serializing it, as before. */
const MAX_NODES = 256;

/**
 * True when a value cannot have been changed in place since it was read: a primitive, or a plain
 * object or array that is frozen all the way down (and holds only primitives and such). A chest
 * that is not `immutable` serializes every other clean value it spills or flushes to find out
 * whether it changed; these it can skip. Anything else (a Map, a Date, a typed array, a class
 * instance, a value too large to walk cheaply, a cycle) answers false, which is always safe.
 */
export function cannotChange(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'function';
  return frozenTree(value, { left: MAX_NODES });
}

function frozenTree(value: object, budget: { left: number }): boolean {
  if (--budget.left < 0 || !Object.isFrozen(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
  // A frozen object's own properties cannot change; only what its values hold can. Reading them
  // through Object.values would call getters, which may answer differently each time: refuse those.
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !('value' in descriptor)) return false;
    const child: unknown = descriptor.value;
    if (typeof child === 'function') return false;
    if (typeof child === 'object' && child !== null && !frozenTree(child, budget)) return false;
  }
  return true;
}
