import { describeType } from '../errors.js';
import { defaultKeyToFilename, safeRelativePath } from '../keys/filename.js';
import type { Key } from '../keys/types.js';
import { EVICTION_POLICIES, MAX_ENTRIES, type EvictionPolicy } from '../memory/tier.js';
import { sizeOf as defaultSizeOf } from '../memory/size.js';
import { diskOptions, type DiskOptions } from '../options/disk.js';
import { defaultAvailableMemory, parseMemorySize, type MemorySize } from '../options/memory.js';
import { describeKey } from './spill.js';
import type { ChestOptions } from '../chest.js';

/**
 * Default for `inlineThreshold`: see docs/ARCHITECTURE.md for the measurement behind it.
 *
 * @example
 * ```ts
 * import { Chest, DEFAULT_INLINE_THRESHOLD } from 'spillchest';
 *
 * // Values up to 128 KiB stay inside the index.
 * using chest = new Chest({ inlineThreshold: 2 * DEFAULT_INLINE_THRESHOLD });
 * ```
 */
export const DEFAULT_INLINE_THRESHOLD = 64 * 1024;

/** The options `Chest` and `AsyncChest` share, apart from the store. */
export interface TierOptions<K extends Key, V> {
  path?: string;
  availableMemory?: MemorySize;
  keyToFilename?: (key: K) => string;
  sizeOf?: (value: V, key: K) => number;
  onMiss?: (key: K) => void;
  onOverflow?: (key: K) => void;
  inlineThreshold?: number;
  maxEntries?: number;
  eviction?: EvictionPolicy;
  immutable?: boolean;
  readOnly?: boolean;
  durable?: boolean;
  availableDisk?: number | string;
  onDiskFull?: 'fail' | 'evict';
  onEvict?: (keys: K[]) => void;
  store?: unknown;
}

/** Those options checked, with their defaults filled in. */
export interface ResolvedOptions<K extends Key, V> {
  readonly budget: number;
  readonly maxEntries: number;
  readonly inlineThreshold: number;
  readonly naming: (key: K) => string;
  /**
   * Checks the file name a user's `keyToFilename` gives a key, throwing a TypeError that names the
   * key; `undefined` with the default naming, which cannot fail for a valid key. Called by `set`:
   * a name refused at spill time would fail the whole batch, every other value's write with it.
   */
  readonly checkName: ((key: K) => void) | undefined;
  readonly sizeOf: (value: V, key: K) => number;
  readonly onMiss: ((key: K) => void) | undefined;
  readonly onOverflow: ((key: K) => void) | undefined;
  readonly onEvict: ((keys: K[]) => void) | undefined;
  readonly eviction: EvictionPolicy;
  readonly readOnly: boolean;
  readonly immutable: boolean;
  readonly durable: boolean;
  /** The disk quota as the LMDB store takes it, its evictions going to `evicted`. */
  readonly disk: DiskOptions;
}

/**
 * Every option `Chest` and `AsyncChest` take (the same names): any other is refused, as a misspelt
 * `path` would lose data.
 */
const OPTION_NAMES: Readonly<Record<keyof ChestOptions<Key, unknown>, true>> = {
  path: true,
  availableMemory: true,
  serializer: true,
  dump: true,
  load: true,
  serializerName: true,
  compress: true,
  keyToFilename: true,
  sizeOf: true,
  onMiss: true,
  onOverflow: true,
  inlineThreshold: true,
  maxEntries: true,
  eviction: true,
  store: true,
  immutable: true,
  availableDisk: true,
  onDiskFull: true,
  onEvict: true,
  readOnly: true,
  durable: true,
};

/**
 * Checks a chest's options (misuse is a `RangeError` or `TypeError`) and fills in the defaults.
 * `evicted` receives the encoded keys the store drops to stay within `availableDisk`.
 */
export function resolveOptions<K extends Key, V>(
  options: TierOptions<K, V>,
  evicted: (keys: Uint8Array[]) => void,
): ResolvedOptions<K, V> {
  checkNames(options, OPTION_NAMES);
  const budget = parseMemorySize(options.availableMemory ?? defaultAvailableMemory());
  const maxEntries = options.maxEntries ?? MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 0 || maxEntries > MAX_ENTRIES) {
    throw new RangeError(`maxEntries must be an integer from 0 to ${MAX_ENTRIES}, got ${maxEntries}`);
  }
  const inlineThreshold = options.inlineThreshold ?? DEFAULT_INLINE_THRESHOLD;
  if (!Number.isSafeInteger(inlineThreshold) || inlineThreshold < 0) {
    throw new RangeError(`inlineThreshold must be a whole number of bytes >= 0, got ${inlineThreshold}`);
  }
  const eviction = options.eviction ?? 'sieve';
  if (!EVICTION_POLICIES.includes(eviction)) {
    throw new TypeError(
      `eviction must be one of ${EVICTION_POLICIES.join(', ')}, got ${JSON.stringify(eviction)}`,
    );
  }
  const disk = diskOptions(options, evicted);
  const custom = options.keyToFilename;
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
    // path.resolve('') is the working directory: a chest there is never what was meant.
    throw new TypeError(
      `path must be a non-empty string (leave it out for a temporary chest), got ${describeOption(options.path)}`,
    );
  }
  const readOnly = booleanOption(options.readOnly, 'readOnly', false);
  const immutable = booleanOption(options.immutable, 'immutable', false);
  const durable = booleanOption(options.durable, 'durable', false);
  if (readOnly && options.path === undefined && options.store === undefined) {
    throw new TypeError('readOnly needs the path of an existing chest');
  }
  return {
    budget,
    maxEntries,
    inlineThreshold,
    naming: custom === undefined ? defaultKeyToFilename : (key: K) => safeRelativePath(custom(key)),
    checkName: custom === undefined ? undefined : (key: K) => checkName(key, custom),
    sizeOf: checkedSizeOf(options.sizeOf),
    onMiss: options.onMiss,
    onOverflow: options.onOverflow,
    onEvict: options.onEvict,
    eviction,
    readOnly,
    // Nothing can be written back, so there is nothing to check.
    immutable: immutable || readOnly,
    durable,
    disk,
  };
}

/**
 * Refuses what is not an options object, and any option name the chest does not know: from plain
 * JavaScript a misspelt `path` would otherwise give a temporary chest, removed at exit with
 * everything put in it.
 */
function checkNames(options: unknown, names: Readonly<Record<string, true>>): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `the options must be an object, such as { path: './my-chest' }, got ${describeOption(options)}`,
    );
  }
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(names, name)) continue;
    const known = Object.keys(names);
    const near = known.find((k) => k.toLowerCase() === name.toLowerCase());
    throw new TypeError(
      `unknown option ${JSON.stringify(name)}${near === undefined ? '' : ` (did you mean ${near}?)`}; the options are ${known.join(', ')}`,
    );
  }
}

/**
 * A boolean option, `fallback` when absent. Anything but `true` or `false` is refused: a string
 * such as `'no'` is truthy, and would turn the option on.
 */
export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be true or false, got ${describeOption(value)}`);
  }
  return value;
}

function describeOption(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  return describeType(value);
}

function checkName<K>(key: K, custom: (key: K) => string): void {
  try {
    safeRelativePath(custom(key));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TypeError(`keyToFilename gives the key ${describeKey(key)} no usable file name: ${reason}`, {
      cause: error,
    });
  }
}

/**
 * A user's `sizeOf`, checked: a size that is not a finite number of bytes (NaN, a string) would
 * turn the memory budget off without a word, so it fails the call that asked for it.
 */
function checkedSizeOf<K, V>(
  sizeOf: ((value: V, key: K) => number) | undefined,
): (value: V, key: K) => number {
  if (sizeOf === undefined) return defaultSizeOf;
  if (typeof sizeOf !== 'function') throw new TypeError(`sizeOf must be a function, got ${typeof sizeOf}`);
  return (value, key) => {
    const size: unknown = sizeOf(value, key);
    if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
      throw new TypeError(
        `sizeOf gave ${typeof size === 'string' ? JSON.stringify(size) : String(size)} for the key ${describeKey(key)}; it must return a finite number of bytes, 0 or more`,
      );
    }
    return size;
  };
}
