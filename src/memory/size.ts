/**
 * The default memory accounting (chest's `nbytes`).
 *
 * Binary values (typed arrays, `Buffer`, `DataView`, `ArrayBuffer`) count exactly their bytes. Anything
 * else is an estimate of what V8 holds for it on a 64-bit machine with pointer compression off:
 *
 * | value                    | bytes                                                |
 * |--------------------------|------------------------------------------------------|
 * | number, boolean, null…   | 8                                                    |
 * | string                   | 16 + length (one-byte strings; two-byte ones are twice that in V8) |
 * | bigint                   | 16 + 8 per 64-bit word                               |
 * | Date                     | 32                                                   |
 * | RegExp                   | 64 + source length                                   |
 * | array                    | 16 + 8 per element + each element's own size         |
 * | plain or class object    | 24 + 8 per own enumerable property + each value's size |
 * | Map / Set                | 32 + 24 per entry + each key's and value's size      |
 * | binary nested in another | its bytes + 64                                       |
 *
 * Shared references and cycles count once. The walk costs time proportional to the value, like
 * serializing it would; pass your own `sizeOf` to a chest when a cheaper figure is good enough.
 *
 * @example
 * ```ts
 * import { sizeOfValue } from 'spillchest';
 *
 * console.log(sizeOfValue(new Float64Array(1000))); // 8000: binary values count exactly
 * console.log(sizeOfValue({ name: 'Ada', tags: ['a', 'b'] }) > 0); // an estimate for the rest
 * ```
 */
export function sizeOfValue(value: unknown): number {
  if (typeof value !== 'object' || value === null) return sizeOfPrimitive(value);
  const binary = binaryByteLength(value);
  if (binary >= 0) return binary;
  try {
    return sizeOfObject(value);
  } finally {
    forgetSeen();
  }
}

/**
 * Default `sizeOf(value, key)` of a chest: the value's estimate plus the key's.
 *
 * @example
 * ```ts
 * import { Chest, sizeOf } from 'spillchest';
 *
 * // Strings at two bytes a character, everything else as estimated by default.
 * using chest = new Chest<string, unknown>({
 *   sizeOf: (value, key) => (typeof value === 'string' ? 2 * value.length : sizeOf(value, key)),
 * });
 * ```
 */
export function sizeOf(value: unknown, key: unknown): number {
  return sizeOfValue(value) + sizeOfKey(key);
}

/** Estimate for a key: strings and numbers fast, tuples walked. */
export function sizeOfKey(key: unknown): number {
  if (typeof key === 'string') return 16 + key.length;
  if (typeof key !== 'object' || key === null) return 8;
  return sizeOfValue(key);
}

/** Exact byte length of a binary value, or -1 when the value is not binary. */
export function binaryByteLength(value: object): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return value.byteLength;
  return -1;
}

/**
 * Objects counted in the current walk. The first few go in a reused array searched in turn, so a
 * small record needs no hashing; the rest in a Set, cleared only when it was used: `Set#clear`
 * allocates a new table, and clearing one on every call was a tenth of the time of inserting small
 * records.
 */
const FEW = 16;
const few = new Array<object | undefined>(FEW).fill(undefined);
let fewCount = 0;
const many = new Set<object>();

/** Marks `o` counted; true if it already was. */
function seenBefore(o: object): boolean {
  for (let i = 0; i < fewCount; i++) if (few[i] === o) return true;
  if (fewCount < FEW) {
    few[fewCount++] = o;
    return false;
  }
  if (many.has(o)) return true;
  many.add(o);
  return false;
}

function forgetSeen(): void {
  few.fill(undefined, 0, fewCount);
  fewCount = 0;
  if (many.size > 0) many.clear();
}

function sizeOfPrimitive(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length;
    case 'bigint': {
      const bits = (value < 0n ? -value : value).toString(16).length * 4;
      return 16 + 8 * Math.ceil(bits / 64);
    }
    default:
      return 8;
  }
}

function sizeOfChild(value: unknown): number {
  if (typeof value !== 'object' || value === null) {
    // Small numbers and the like sit in their parent's slot, already counted there.
    return typeof value === 'string' || typeof value === 'bigint' ? sizeOfPrimitive(value) : 0;
  }
  if (seenBefore(value)) return 0;
  const binary = binaryByteLength(value);
  if (binary >= 0) return binary + 64;
  return sizeOfObject(value);
}

/** `value` is not yet marked when called from the top, already marked from `sizeOfChild`. */
function sizeOfObject(value: object): number {
  if (fewCount === 0) seenBefore(value);
  if (Array.isArray(value)) {
    let total = 16 + 8 * value.length;
    for (const element of value as unknown[]) total += sizeOfChild(element);
    return total;
  }
  if (value instanceof Map) {
    let total = 32 + 24 * value.size;
    for (const [k, v] of value as Map<unknown, unknown>) total += sizeOfChild(k) + sizeOfChild(v);
    return total;
  }
  if (value instanceof Set) {
    let total = 32 + 24 * value.size;
    for (const v of value as Set<unknown>) total += sizeOfChild(v);
    return total;
  }
  if (value instanceof Date) return 32;
  if (value instanceof RegExp) return 64 + value.source.length;
  let total = 24;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    total += 8 + sizeOfChild((value as Record<string, unknown>)[k]);
  }
  return total;
}
