/**
 * File names for values: readable for simple keys, hashed for everything else.
 *
 * Why the default naming is injective, even on case-insensitive file systems (every path it makes is
 * lowercase ASCII, so comparing ignoring case changes nothing):
 *   - a simple name is one segment starting with a-z;
 *   - a hashed key is two segments, the first '@' + 2 hex chars;
 *   - a tuple is one segment per element, every one but the last starting with '_'.
 * The first characters (a-z, '@', '_') tell the three apart. Within simple names the name is the key.
 * Within tuples the segment count is the length and each segment names one element: a simple name
 * (starts with a-z) or '@' + a hash of the element's encoding (starts with '@'), again told apart by
 * their first character. Hashed keys and hashed elements differ only by hash collision (128 bits).
 * The same first characters keep a file from ever sharing its path with a folder of another key:
 * folders start with '_' or are '@' + 2 hex chars at the top, files never do.
 */
import { createHash } from 'node:crypto';
import { assertKey, encodeKey } from './codec.js';
import type { Key } from './types.js';

const SIMPLE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** Device names Windows resolves in any folder, whatever follows them. */
const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])$/;
/** The index lives here, so no value file may. */
const RESERVED_DIR = '.chest';

function simpleName(key: Key): string | undefined {
  return typeof key === 'string' && SIMPLE_NAME.test(key) && !WINDOWS_DEVICE.test(key) ? key : undefined;
}

/** First 128 bits of the SHA-256 of the key's encoding, as 32 lowercase hex chars. */
function keyHash(key: Key): string {
  return createHash('sha256').update(encodeKey(key)).digest('hex').slice(0, 32);
}

function elementToken(element: Key): string {
  return simpleName(element) ?? '@' + keyHash(element);
}

const isTuple = (key: Key): key is readonly Key[] => Array.isArray(key);

/**
 * The relative path ('/'-separated) a value is stored under: `'x'` -> `'x'`, `['one', 'two']` ->
 * `'_one/two'`, anything else -> `'@' + 2 hex + '/' + 30 hex`. Distinct keys give distinct paths.
 *
 * @example
 * ```ts
 * import { Chest, defaultKeyToFilename } from 'spillchest';
 *
 * console.log(defaultKeyToFilename('x'), defaultKeyToFilename(['one', 'two'])); // x _one/two
 * // A folder per month, then the default name of the day.
 * using chest = new Chest<[string, number], Float64Array>({
 *   keyToFilename: ([month, day]) => `${month}/${defaultKeyToFilename(day)}`,
 * });
 * ```
 */
export function defaultKeyToFilename(key: Key): string {
  const simple = simpleName(key);
  if (simple !== undefined) return simple;
  if (isTuple(key) && key.length >= 2) {
    assertKey(key); // reports a bad element with its position in the whole key
    const last = key.length - 1;
    return key.map((element, i) => (i < last ? '_' : '') + elementToken(element)).join('/');
  }
  const hash = keyHash(key);
  return `@${hash.slice(0, 2)}/${hash.slice(2)}`;
}

/**
 * Checks a relative file name from a user's key-to-filename function and returns it unchanged.
 * Anything that could leave the chest directory, reach the index or clash with temporary files is
 * refused with a TypeError rather than repaired, so two keys never silently share a file.
 */
export function safeRelativePath(name: string): string {
  const fail = (problem: string): never => {
    throw new TypeError(`invalid file name ${JSON.stringify(name)}: ${problem}`);
  };
  if (typeof name !== 'string') return fail(`expected a string, got ${typeof name}`);
  if (name === '') fail('empty');
  if (name.includes('\0')) fail('contains NUL');
  if (name.includes('\\')) fail("contains '\\' (use '/' to separate folders)");
  if (name.startsWith('/')) fail('absolute path');
  // A colon makes a drive-relative path or an alternate data stream on Windows.
  if (name.includes(':')) fail("contains ':'");
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment === '') fail('empty path segment');
    if (segment === '.' || segment === '..') fail(`'${segment}' path segment`);
    // Windows drops trailing dots and spaces, so judge each segment as Windows would open it.
    const seen = segment.replace(/[. ]+$/, '').toLowerCase();
    if (seen === '') fail(`path segment ${JSON.stringify(segment)} is only dots or spaces`);
    if (seen.endsWith('.tmp')) fail("path segment ends in '.tmp' (reserved for temporary files)");
    if (WINDOWS_DEVICE.test(seen.split('.', 1)[0]!))
      fail(`path segment ${JSON.stringify(segment)} is a device name`);
  }
  if (segments[0]!.replace(/[. ]+$/, '').toLowerCase() === RESERVED_DIR) {
    fail(`'${RESERVED_DIR}' is reserved for the index`);
  }
  return name;
}
