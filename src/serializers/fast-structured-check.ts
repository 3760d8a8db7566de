import { types } from 'node:util';

/**
 * `fitsMsgpack(value)`: true when msgpackr (`structuredClone`, `moreTypes`, records) brings `value`
 * back exactly as `v8.deserialize(v8.serialize(value))` would, false when V8 must write it. A false
 * answer is always safe: it only costs speed.
 *
 * What msgpackr 1.12 gets wrong, so is refused here (each checked against node:v8 on Node 20):
 * - -0 becomes 0.
 * - Strings with an unpaired surrogate (values, object keys, Map keys, RegExp sources) are mangled:
 *   short ones by msgpackr's own encoder, long ones to U+FFFD.
 * - Arrays: holes come back as undefined, non-enumerable indices as values, and own named properties
 *   (RegExp match arrays have index, input, groups) are dropped; V8 keeps all three.
 * - An own `__proto__` key comes back as `__proto_`.
 * - An own `__keys__` key collides with msgpackr's record lookup table: later messages packed by the
 *   same Packr can become unreadable, so such a value must never reach it.
 * - An own `hasOwnProperty` key makes msgpackr also write inherited enumerable properties.
 * - msgpackr picks its path by `constructor`. An own `constructor` on a Map or Set changes how the
 *   entries are read, on a typed array which type is written: each built-in must have its own
 *   constructor. On a plain object it sends msgpackr down its class-instance path, which is the same
 *   but calls a truthy `toJSON`: as that is never a function here, it throws, and V8 writes the value.
 * - Functions become undefined, and proxies, `arguments` objects and module namespaces plain
 *   objects, where V8 throws. Boxed primitives and Errors come back as plain objects (an Error also
 *   gains `cause`); V8 keeps them. Class instances would mostly match, but msgpackr calls their
 *   `toJSON`. Any prototype other than the few below goes to V8.
 * - A resizable ArrayBuffer comes back fixed-length; V8 keeps `resizable` and `maxByteLength`.
 * - Nesting deeper than about 700 levels (Sets) to 1400 (arrays) overflows the stack while packing,
 *   about half what V8 manages: values deeper than MAX_DEPTH go to V8.
 *
 * Exact, so allowed through: Map and Set (insertion order, object keys), Date (fractional
 * milliseconds are truncated on creation; invalid, negative and extreme dates), RegExp (flags
 * d g i m s u v y; lastIndex is reset by both), BigInt (0n, -1n, around 2^63 and 2^64, huge and
 * negative), NaN and infinities, undefined in objects and arrays, empty containers, integer-like keys
 * (both keep V8's key order), cycles and shared references (msgpackr's structuredClone), null-prototype
 * objects (both read them back with Object.prototype), typed arrays, DataView, ArrayBuffer and Buffer.
 * Both ignore non-enumerable and symbol-keyed properties, and own properties of Map, Set, Date,
 * RegExp and binary values.
 *
 * Typed arrays need no care beyond their type: node:v8 writes each view's own bytes and nothing of
 * its buffer, so V8 does not keep byteOffset, the rest of the buffer, or two views sharing one buffer
 * either. It reads a view back aliasing the bytes it loads from (or an 8 KiB pool slab when
 * misaligned); msgpackr copies each into a buffer of its own.
 *
 * Known gaps, each needing deliberate `Object.setPrototypeOf` on a built-in: a Map, Set, typed
 * array, DataView, ArrayBuffer, boxed BigInt or Symbol, Promise or Weak* given Object.prototype or
 * null looks like a plain object here (telling would cost a native call per object). Arrays, Dates,
 * RegExps, Errors, boxed strings, numbers and booleans given Object.prototype are caught.
 *
 * Getters run here and again while packing; a getter that answers differently the second time is
 * packed unchecked (a function there still throws, see structured.ts).
 */

/** Deeper values go to V8: under a third of the shallowest overflow measured (Sets in Sets). */
export const MAX_DEPTH = 200;

/**
 * Values of more objects than this go to V8 without finishing the walk. Tracking identity is what
 * costs for large values (a Set insert each, slower as the Set grows): past a few thousand objects
 * V8 alone was measured faster than the check plus msgpackr (10,000 records: 12–14.5 ms against
 * 16–17.5 ms), so the walk stops early and its cost stays bounded.
 */
export const MAX_OBJECTS = 4096;

/** ES2024; present on every Node this package supports. */
interface WellFormed {
  isWellFormed(): boolean;
}

const isWellFormed = (s: string): boolean => (s as unknown as WellFormed).isWellFormed();

const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;

/** The [[TypedArrayName]] of a typed array whatever its prototype, undefined for anything else. */
const typedArrayName = (o: object): unknown => Reflect.get(TYPED_ARRAY_PROTOTYPE, Symbol.toStringTag, o);

const MAP = 1;
const SET = 2;
const DATE = 3;
const REGEXP = 4;
const ARRAY_BUFFER = 5;
const DATA_VIEW = 6;
const TYPED_ARRAY = 7;

interface Builtin {
  readonly kind: number;
  readonly ctor: unknown;
  /** For typed arrays: the internal type msgpackr will be told by `constructor`. */
  readonly name?: string;
}

const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

/** Prototypes msgpackr handles besides Object.prototype, Array.prototype and null. */
const BUILTINS = new Map<object, Builtin>([
  [Map.prototype, { kind: MAP, ctor: Map }],
  [Set.prototype, { kind: SET, ctor: Set }],
  [Date.prototype, { kind: DATE, ctor: Date }],
  [RegExp.prototype, { kind: REGEXP, ctor: RegExp }],
  [ArrayBuffer.prototype, { kind: ARRAY_BUFFER, ctor: ArrayBuffer }],
  [DataView.prototype, { kind: DATA_VIEW, ctor: DataView }],
  // msgpackr writes a Buffer as msgpack bin and reads it back as a Buffer view of the bytes it loads
  // from, as node:v8 does.
  [Buffer.prototype, { kind: TYPED_ARRAY, ctor: Buffer, name: 'Uint8Array' }],
  ...TYPED_ARRAYS.map((c): [object, Builtin] => [c.prototype, { kind: TYPED_ARRAY, ctor: c, name: c.name }]),
]);

type Bag = Record<string, unknown>;

/**
 * Objects seen in this walk, so that shared and cyclic ones are checked once, and so the caller
 * knows whether msgpackr must track identity (its structuredClone mode puts every object in a Map,
 * which costs more than the rest of packing for large values). The first few go in a reused array
 * searched in turn: small values need no hashing at all. Past those, all go in a reused Set, cleared
 * only when used: clearing allocates a new table, and a Set cleared on every call made the whole
 * check several times slower once packing had filled the heap.
 */
const FEW = 16;
const few = new Array<object | undefined>(FEW).fill(undefined);
let fewCount = 0;
const many = new Set<object>();
let shared = false;
let walking = false;

/** Marks `o` seen; true (and notes the sharing) if it already was. */
function seenBefore(o: object): boolean {
  if (fewCount < FEW) {
    for (let i = 0; i < fewCount; i++) if (few[i] === o) return (shared = true);
    few[fewCount++] = o;
    if (fewCount === FEW) for (const f of few) many.add(f!);
    return false;
  }
  // One hash lookup, not two (has, then add): for large values this Set is most of the cost.
  const size = many.size;
  return many.add(o).size === size && (shared = true);
}

/** What `msgpackFit` found. */
export const Fit = {
  /** V8 must write it. */
  NO: 0,
  /** msgpackr reproduces it, and no object is reached twice. */
  TREE: 1,
  /** msgpackr reproduces it, keeping shared references and cycles with `structuredClone`. */
  SHARED: 2,
} as const;
export type Fit = (typeof Fit)[keyof typeof Fit];

/** Whether msgpackr reproduces `value` exactly as V8 does; see the notes at the top of this file. */
export function msgpackFit(value: unknown): Fit {
  if (typeof value !== 'object' || value === null) return fits(value, 0) ? Fit.TREE : Fit.NO;
  // Called again from a getter inside the walk: the seen objects are in use.
  if (walking) return Fit.NO;
  walking = true;
  shared = false;
  try {
    return !fitsObject(value, 0) ? Fit.NO : shared ? Fit.SHARED : Fit.TREE;
  } finally {
    // Drop the references: the user's objects must not outlive the call here.
    for (let i = 0; i < fewCount; i++) few[i] = undefined;
    fewCount = 0;
    if (many.size > 0) many.clear();
    walking = false;
  }
}

/** True if msgpackr reproduces `value` exactly as V8 does. */
export function fitsMsgpack(value: unknown): boolean {
  return msgpackFit(value) !== Fit.NO;
}

function fits(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return isWellFormed(v);
    case 'number':
      return v !== 0 || 1 / v > 0;
    case 'object':
      return v === null || fitsObject(v, depth);
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return true;
    default:
      // function, symbol: V8 throws
      return false;
  }
}

function fitsObject(o: object, depth: number): boolean {
  if (seenBefore(o)) return true;
  if (many.size > MAX_OBJECTS) return false;
  // Before touching it: a proxy's traps could run code, and V8 refuses proxies outright.
  if (depth > MAX_DEPTH || types.isProxy(o)) return false;
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === null) {
    // Not '[object Object]': arguments objects, arrays, Dates, RegExps, Errors and boxed values given
    // Object.prototype, which V8 writes as what they are, and module namespaces, which it refuses.
    return Object.prototype.toString.call(o) === '[object Object]' && fitsKeys(o as Bag, depth + 1);
  }
  if (proto === Array.prototype) return Array.isArray(o) && fitsArray(o as unknown[], depth + 1);
  const builtin = BUILTINS.get(proto as object);
  if (builtin === undefined || (o as Bag).constructor !== builtin.ctor) return false;
  // Objects merely given a built-in's prototype make msgpackr throw (then V8 writes them), except
  // where noted; the native type checks keep this walk from throwing on them first.
  switch (builtin.kind) {
    case MAP:
      return types.isMap(o) && fitsMap(o, depth + 1);
    case SET:
      return types.isSet(o) && fitsSet(o, depth + 1);
    case REGEXP:
      return types.isRegExp(o) && isWellFormed(o.source);
    case ARRAY_BUFFER:
      return types.isArrayBuffer(o) && (o as { resizable?: boolean }).resizable !== true;
    case TYPED_ARRAY:
      // msgpackr names the type by constructor: another typed array's prototype would be believed.
      return typedArrayName(o) === builtin.name;
    default:
      // DATE, DATA_VIEW
      return true;
  }
}

function fitsKeys(o: Bag, depth: number): boolean {
  // for-in, as msgpackr itself enumerates: own enumerable string keys in V8's order.
  for (const key in o) {
    if (
      key === '__proto__' ||
      key === '__keys__' ||
      key === 'hasOwnProperty' ||
      !isWellFormed(key) ||
      !fits(o[key], depth)
    ) {
      return false;
    }
  }
  return true;
}

function fitsArray(a: unknown[], depth: number): boolean {
  const n = a.length;
  // Enumerable own keys list indices in order, then named ones. Exactly n of them, the last being
  // n - 1, means every index is present and enumerable and there is nothing else.
  const keys = Object.keys(a);
  if (keys.length !== n || (n > 0 && keys[n - 1] !== String(n - 1))) return false;
  for (let i = 0; i < n; i++) if (!fits(a[i], depth)) return false;
  return true;
}

function fitsMap(m: Map<unknown, unknown>, depth: number): boolean {
  for (const [k, v] of m) if (!fits(k, depth) || !fits(v, depth)) return false;
  return true;
}

function fitsSet(s: Set<unknown>, depth: number): boolean {
  for (const v of s) if (!fits(v, depth)) return false;
  return true;
}
