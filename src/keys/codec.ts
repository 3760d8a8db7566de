/**
 * Key codec: turns a key into bytes whose unsigned byte order is the key order, and back.
 *
 * Key order: first by type, undefined < null < false < true < number < bigint < Date < string < tuple;
 * then numbers numerically (-Infinity < ... < +Infinity < NaN, -0 equals 0), bigints numerically, Dates
 * by time (invalid Dates last), strings by code point (a lone surrogate ranks as its code unit value),
 * tuples element by element with a tuple before any longer tuple it prefixes.
 *
 * Every encoding is a one-byte tag followed by a body:
 *
 *   0x10 undefined, 0x11 null, 0x12 false, 0x13 true   no body
 *   0x20 number   8 bytes: IEEE-754 big-endian; negative numbers have all bits flipped, others the
 *                 sign bit. -0 is written as 0, every NaN as 0x7ff8000000000000 (so NaN sorts last).
 *   0x28 bigint   one header byte H, then the magnitude big-endian without leading zero bytes:
 *                   0x80            zero, no magnitude
 *                   0x81..0xfe      positive, H - 0x80 magnitude bytes (1..126)
 *                   0x01..0x7e      negative, 0x7f - H magnitude bytes, every byte inverted
 *                   0xff            positive with more than 126 bytes: a byte k (1..6), the byte count
 *                                   in k bytes big-endian, then the magnitude
 *                   0x00            negative with more than 126 bytes: as 0xff, but k, the count and the
 *                                   magnitude all inverted
 *                 Longer magnitudes get larger headers (smaller ones when negative), so the form is
 *                 order-preserving and self-delimiting at any size.
 *   0x30 Date     the number body of getTime().
 *   0x40 string   As the whole key: the UTF-8 bytes up to the end of the key, no terminator.
 *                 Inside a tuple: the UTF-8 bytes with 0x00 written 0x01 0x01 and 0x01 written
 *                 0x01 0x02, then a 0x00 terminator. Escaping both bytes (not just 0x00) keeps the
 *                 terminator the only 0x00, so no element's encoding is a prefix of another's and
 *                 a tuple prefix selects exactly the tuples that start with it.
 *                 Strings that are not well-formed UTF-16 are written as WTF-8 (a lone surrogate
 *                 as its 3-byte sequence, pairs as one 4-byte code point), so they round-trip.
 *   0x50 tuple    the element encodings, then 0x00. Tags are never 0x00, so the terminator ranks
 *                 below any further element.
 *
 * Decoding is strict: bytes that no key encodes to (a non-canonical NaN, -0, an overlong bigint, a
 * surrogate pair written as two 3-byte sequences, trailing bytes...) throw CORRUPT, so a decoded key
 * always re-encodes to the same bytes.
 */
import { Buffer } from 'node:buffer';
import { copyBytes } from '../core/bytes.js';
import { ChestError, ErrorCode, describeType } from '../errors.js';
import type { Key } from './types.js';

const T_UNDEFINED = 0x10;
const T_NULL = 0x11;
const T_FALSE = 0x12;
const T_TRUE = 0x13;
const T_NUMBER = 0x20;
const T_BIGINT = 0x28;
const T_DATE = 0x30;
const T_STRING = 0x40;
const T_TUPLE = 0x50;
const END = 0x00;

/** Longest magnitude (in bytes) a bigint header can state by itself. */
const BIGINT_SMALL_MAX = 126;
const BIGINT_ZERO = 0x80;
/** Tuples nested deeper than this are refused; it also stops cyclic arrays and hostile input. */
export const MAX_KEY_DEPTH = 256;
/** Largest time value a Date can hold, in milliseconds either side of the epoch. */
const MAX_TIME = 8.64e15;

/** A primitive that stands for a key in a JS `Map`: equal keys give SameValueZero-equal identities. */
export type KeyIdentity = string | number | bigint | boolean | null | undefined;

// String.prototype.isWellFormed exists on Node 20 but not in the ES2023 lib typings.
interface WellFormedCheck {
  isWellFormed(): boolean;
}
const isWellFormed = (s: string): boolean => (s as unknown as WellFormedCheck).isWellFormed();
const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value);

// ---------------------------------------------------------------------------------------------------
// Encoding. One scratch buffer is written and the result copied out, so an encoding costs one
// allocation of its exact size. Not re-entrant: keys are plain data, nothing here calls user code.

const SCRATCH_SIZE = 1024;
/** A scratch grown beyond this for one long key is dropped afterwards rather than kept. */
const SCRATCH_RETAIN = 64 * 1024;
/** Up to this many chars, a plain JS loop is faster than a native Buffer call. */
const SHORT = 32;
let scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
let pos = 0;

function ensure(extra: number): void {
  const need = pos + extra;
  if (need <= scratch.length) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(need, scratch.length * 2));
  scratch.copy(grown, 0, 0, pos);
  scratch = grown;
}

function writeByte(b: number): void {
  ensure(1);
  scratch[pos++] = b;
}

function invert(start: number, end: number): void {
  for (let i = start; i < end; i++) scratch[i] = ~scratch[i]! & 0xff;
}

/** A key part that cannot be encoded; tuples add their index to `path` as it propagates. */
class UnsupportedPart extends Error {
  readonly path: number[] = [];
  constructor(readonly value: unknown) {
    super('unsupported key part');
  }
}

function writeNumber(n: number): void {
  ensure(8);
  if (n !== n) {
    scratch.writeUInt32BE(0xfff80000, pos);
    scratch.writeUInt32BE(0, pos + 4);
  } else {
    scratch.writeDoubleBE(n === 0 ? 0 : n, pos);
    if (scratch[pos]! & 0x80) invert(pos, pos + 8);
    else scratch[pos] = scratch[pos]! ^ 0x80;
  }
  pos += 8;
}

function writeBigInt(b: bigint): void {
  if (b === 0n) {
    writeByte(BIGINT_ZERO);
    return;
  }
  const negative = b < 0n;
  let hex = (negative ? -b : b).toString(16);
  if (hex.length & 1) hex = '0' + hex;
  const size = hex.length >>> 1;
  ensure(size + 8);
  if (size <= BIGINT_SMALL_MAX) {
    scratch[pos++] = negative ? 0x7f - size : 0x80 + size;
  } else {
    scratch[pos++] = negative ? 0x00 : 0xff;
    let k = 1;
    while (size >= 256 ** k) k++;
    const countStart = pos;
    scratch[pos++] = k;
    scratch.writeUIntBE(size, pos, k);
    pos += k;
    if (negative) invert(countStart, pos);
  }
  const start = pos;
  pos += scratch.write(hex, pos, 'hex');
  if (negative) invert(start, pos);
}

/** Writes a string's UTF-8 (WTF-8 if ill-formed) bytes at `pos`; returns the byte count. */
function writeStringBytes(s: string): number {
  // Lone surrogates take 3 bytes in WTF-8 just as their replacement character does in UTF-8, so
  // byteLength is exact for both; short strings skip that pass and reserve the worst case.
  ensure(s.length > 256 ? Buffer.byteLength(s) : s.length * 3);
  if (s.length <= SHORT) {
    // Copying short ASCII in JS beats the native call's fixed cost (about 50 ns) several times over.
    let i = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      scratch[pos + i++] = c;
    }
    if (i === s.length) return i;
  }
  if (isWellFormed(s)) return scratch.write(s, pos);
  const start = pos;
  let p = pos;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      scratch[p++] = c;
    } else if (c < 0x800) {
      scratch[p++] = 0xc0 | (c >> 6);
      scratch[p++] = 0x80 | (c & 0x3f);
    } else {
      const next = c >= 0xd800 && c <= 0xdbff ? s.charCodeAt(i + 1) : NaN;
      if (next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        scratch[p++] = 0xf0 | (cp >> 18);
        scratch[p++] = 0x80 | ((cp >> 12) & 0x3f);
        scratch[p++] = 0x80 | ((cp >> 6) & 0x3f);
        scratch[p++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        scratch[p++] = 0xe0 | (c >> 12);
        scratch[p++] = 0x80 | ((c >> 6) & 0x3f);
        scratch[p++] = 0x80 | (c & 0x3f);
      }
    }
  }
  return p - start;
}

function writeNestedString(s: string): void {
  const start = pos;
  const end = start + writeStringBytes(s);
  let escapes = 0;
  for (let i = start; i < end; i++) if (scratch[i]! <= 0x01) escapes++;
  pos = end;
  ensure(escapes + 1);
  if (escapes > 0) {
    // Spread the bytes out from the back so each 0x00 / 0x01 becomes 0x01 0x01 / 0x01 0x02.
    let w = end + escapes - 1;
    for (let r = end - 1; r >= start; r--) {
      const b = scratch[r]!;
      if (b > 0x01) {
        scratch[w--] = b;
      } else {
        scratch[w--] = b + 1;
        scratch[w--] = 0x01;
      }
    }
    pos = end + escapes;
  }
  scratch[pos++] = END;
}

function writeElements(items: readonly unknown[], depth: number): void {
  for (let i = 0; i < items.length; i++) {
    try {
      writeValue(items[i], true, depth);
    } catch (error) {
      if (error instanceof UnsupportedPart) error.path.unshift(i);
      throw error;
    }
  }
}

/** `depth` counts the tuples around `value`. */
function writeValue(value: unknown, nested: boolean, depth: number): void {
  switch (typeof value) {
    case 'string':
      writeByte(T_STRING);
      if (nested) writeNestedString(value);
      else pos += writeStringBytes(value);
      return;
    case 'number':
      writeByte(T_NUMBER);
      writeNumber(value);
      return;
    case 'bigint':
      writeByte(T_BIGINT);
      writeBigInt(value);
      return;
    case 'boolean':
      writeByte(value ? T_TRUE : T_FALSE);
      return;
    case 'undefined':
      writeByte(T_UNDEFINED);
      return;
    case 'object':
      if (value === null) {
        writeByte(T_NULL);
        return;
      }
      if (value instanceof Date) {
        writeByte(T_DATE);
        // The intrinsic reads the real time value even if a subclass overrides getTime.
        writeNumber(Date.prototype.getTime.call(value));
        return;
      }
      if (isArray(value)) {
        if (depth >= MAX_KEY_DEPTH) {
          throw new TypeError(`key nests tuples deeper than ${MAX_KEY_DEPTH} levels (is an array cyclic?)`);
        }
        writeByte(T_TUPLE);
        writeElements(value, depth + 1);
        writeByte(END);
        return;
      }
      break;
    default:
      break;
  }
  throw new UnsupportedPart(value);
}

/**
 * Runs `write(arg)` on the scratch from `start`, leaving the bytes before `pos`; bad key parts become
 * a TypeError. `write` is a module-level function given its argument, not a closure over it: every
 * read that misses memory encodes a key, and a closure per call was an allocation per read.
 */
function encodeToScratch<T>(write: (arg: T) => void, arg: T, start: number): void {
  pos = start;
  try {
    write(arg);
  } catch (error) {
    if (error instanceof UnsupportedPart) {
      const at = error.path.length === 0 ? '' : ` at ${error.path.map((i) => `[${i}]`).join('')}`;
      throw new TypeError(`unsupported key type: ${describeType(error.value)}${at}`, { cause: error });
    }
    throw error;
  }
}

const writeKey = (key: unknown): void => {
  writeValue(key, false, 0);
};

const writeTuplePrefix = (prefix: readonly Key[]): void => {
  writeByte(T_TUPLE);
  writeElements(prefix, 1);
};

function releaseScratch(): void {
  if (scratch.length > SCRATCH_RETAIN) scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
}

function copyScratch(): Buffer {
  const out = copyBytes(scratch, 0, pos);
  releaseScratch();
  return out;
}

function encodeUnknown(key: unknown): Buffer {
  encodeToScratch(writeKey, key, 0);
  return copyScratch();
}

/** Encodes a key as order-preserving bytes (a `Buffer`). Throws a TypeError for an unsupported key. */
export function encodeKey(key: Key): Uint8Array {
  return encodeUnknown(key);
}

/**
 * Encodes a key into `target` from `at`, before `end`: its length, or -1 when it does not fit there
 * (nothing written). For a caller that places many keys in one buffer without a Buffer for each.
 */
export function encodeKeyInto(key: Key, target: Uint8Array, at: number, end: number): number {
  encodeToScratch(writeKey, key, 0);
  const n = pos;
  if (at + n <= end) {
    if (n <= 32) for (let i = 0; i < n; i++) target[at + i] = scratch[i]!;
    else target.set(scratch.subarray(0, n), at);
  }
  releaseScratch();
  return at + n <= end ? n : -1;
}

/**
 * The bytes every encoded tuple that starts with `prefix`'s elements begins with (the tuple tag and
 * the element encodings, no terminator). Pair with `prefixEnd` for a range scan.
 */
export function encodeTuplePrefix(prefix: readonly Key[]): Uint8Array {
  if (!isArray(prefix)) throw new TypeError(`tuple prefix must be an array, got ${describeType(prefix)}`);
  encodeToScratch(writeTuplePrefix, prefix, 0);
  return copyScratch();
}

/** The smallest byte string greater than every byte string starting with `bytes`; undefined if none. */
export function prefixEnd(bytes: Uint8Array): Uint8Array | undefined {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const out = Buffer.from(bytes.subarray(0, end));
  out[end - 1] = out[end - 1]! + 1;
  return out;
}

/** Compares two keys in key order: negative, zero or positive. */
export function compareKeys(a: Key, b: Key): number {
  return Buffer.compare(encodeUnknown(a), encodeUnknown(b));
}

/**
 * The `Map` key for a chest key, validating it. Hot path: strings and numbers cost a type check.
 *
 * Scheme, chosen so that identities are equal (SameValueZero) exactly when encodings are equal:
 *   number                    itself, -0 as 0 (a Map already treats every NaN as one key)
 *   bigint, boolean, null,    itself
 *   undefined
 *   string                    itself, or '\0' + itself when it starts with '\0'
 *   Date, tuple               '\0' + the encoding as latin1 text; its second char is a tag, never
 *                             '\0', so it differs from every escaped string
 * Different JS types never compare equal, so only strings needed escaping.
 */
export function keyIdentity(key: unknown): KeyIdentity {
  switch (typeof key) {
    case 'string':
      return key.charCodeAt(0) === 0 ? '\u0000' + key : key;
    case 'number':
      return key === 0 ? 0 : key;
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return key;
    case 'object':
      if (key === null) return null;
      break;
    default:
      break;
  }
  // Encode after a leading 0x00 so the identity comes out of one latin1 read, without a concat.
  encodeToScratch(writeKey, key, 1);
  scratch[0] = 0;
  const identity = scratch.toString('latin1', 0, pos);
  releaseScratch();
  return identity;
}

/** Throws a TypeError naming the type (and tuple position) of whatever makes `key` unsupported. */
export function assertKey(key: unknown): asserts key is Key {
  const t = typeof key;
  if (t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean' || t === 'undefined') return;
  if (key === null) return;
  encodeUnknown(key);
}

// ---------------------------------------------------------------------------------------------------
// Decoding.

function corrupt(message: string): never {
  throw new ChestError(ErrorCode.CORRUPT, `malformed key bytes: ${message}`);
}

function isContinuation(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

/** Strict WTF-8 decoder for the rare strings the native UTF-8 decoder cannot take as they are. */
function decodeWtf8Slow(b: Buffer, start: number, end: number): string {
  const units: number[] = [];
  const parts: string[] = [];
  let prevHighSurrogate = false;
  let i = start;
  while (i < end) {
    const b0 = b[i]!;
    let cp: number;
    let size: number;
    if (b0 < 0x80) {
      cp = b0;
      size = 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      size = 2;
      if (i + 1 >= end || !isContinuation(b[i + 1])) corrupt('invalid UTF-8');
      cp = ((b0 & 0x1f) << 6) | (b[i + 1]! & 0x3f);
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      size = 3;
      const b1 = b[i + 1];
      if (i + 2 >= end || !isContinuation(b1) || !isContinuation(b[i + 2])) corrupt('invalid UTF-8');
      if (b0 === 0xe0 && b1! < 0xa0) corrupt('overlong UTF-8');
      cp = ((b0 & 0x0f) << 12) | ((b1! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      size = 4;
      const b1 = b[i + 1];
      if (i + 3 >= end || !isContinuation(b1) || !isContinuation(b[i + 2]) || !isContinuation(b[i + 3])) {
        corrupt('invalid UTF-8');
      }
      if ((b0 === 0xf0 && b1! < 0x90) || (b0 === 0xf4 && b1! > 0x8f)) corrupt('invalid UTF-8');
      cp = ((b0 & 0x07) << 18) | ((b1! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
    } else {
      corrupt('invalid UTF-8');
    }
    const isSurrogate = cp >= 0xd800 && cp <= 0xdfff;
    // A pair written as two 3-byte sequences is not what the encoder writes for it.
    if (prevHighSurrogate && cp >= 0xdc00 && cp <= 0xdfff) corrupt('surrogate pair in WTF-8');
    prevHighSurrogate = isSurrogate && cp <= 0xdbff;
    if (cp > 0xffff) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    if (units.length >= 4096) parts.push(String.fromCharCode(...units.splice(0)));
    i += size;
  }
  parts.push(String.fromCharCode(...units));
  return parts.join('');
}

function decodeWtf8(b: Buffer, start: number, end: number): string {
  if (start === end) return '';
  // The native decoder is exact on valid UTF-8 and puts U+FFFD wherever it is not; only then (or for
  // a genuine U+FFFD) does the strict decoder need to look.
  const s = b.toString('utf8', start, end);
  return s.includes('\uFFFD') ? decodeWtf8Slow(b, start, end) : s;
}

const numberBytes = Buffer.alloc(8);

class KeyReader {
  pos = 0;
  constructor(private readonly b: Buffer) {}

  private need(n: number): void {
    if (n > this.b.length - this.pos) corrupt(`truncated at byte ${this.pos}`);
  }

  private byte(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }

  value(depth: number): Key {
    const tag = this.byte();
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_NUMBER:
        return this.number();
      case T_BIGINT:
        return this.bigint();
      case T_DATE: {
        const t = this.number();
        if (t === t && !(Number.isInteger(t) && Math.abs(t) <= MAX_TIME)) corrupt('invalid Date time');
        return new Date(t);
      }
      case T_STRING:
        return this.nestedString();
      case T_TUPLE: {
        if (depth >= MAX_KEY_DEPTH) corrupt('tuples nested too deeply');
        const items: Key[] = [];
        for (;;) {
          this.need(1);
          if (this.b[this.pos] === END) {
            this.pos++;
            return items;
          }
          items.push(this.value(depth + 1));
        }
      }
      default:
        return corrupt(`unknown tag 0x${tag.toString(16)} at byte ${this.pos - 1}`);
    }
  }

  number(): number {
    this.need(8);
    const b = this.b;
    const p = this.pos;
    this.pos += 8;
    if (b[p] === 0xff && b[p + 1] === 0xf8 && b.readUInt32BE(p + 2) === 0 && b.readUInt16BE(p + 6) === 0) {
      return NaN;
    }
    b.copy(numberBytes, 0, p, p + 8);
    if (numberBytes[0]! & 0x80) {
      numberBytes[0] = numberBytes[0]! ^ 0x80;
    } else {
      for (let i = 0; i < 8; i++) numberBytes[i] = ~numberBytes[i]! & 0xff;
    }
    const n = numberBytes.readDoubleBE(0);
    if (n !== n) corrupt('non-canonical NaN');
    if (n === 0 && 1 / n < 0) corrupt('negative zero');
    return n;
  }

  bigint(): bigint {
    const header = this.byte();
    if (header === BIGINT_ZERO) return 0n;
    let negative: boolean;
    let size: number;
    if (header === 0xff || header === 0x00) {
      negative = header === 0x00;
      const flip = negative ? 0xff : 0;
      const k = this.byte() ^ flip;
      if (k < 1 || k > 6) corrupt('bad bigint length');
      this.need(k);
      if ((this.b[this.pos]! ^ flip) === 0) corrupt('non-minimal bigint length');
      size = 0;
      for (let i = 0; i < k; i++) size = size * 256 + (this.byte() ^ flip);
      if (size <= BIGINT_SMALL_MAX) corrupt('non-minimal bigint length');
    } else if (header === 0x7f) {
      return corrupt('bad bigint header');
    } else {
      negative = header < 0x80;
      size = negative ? 0x7f - header : header - 0x80;
    }
    // The size is checked against the bytes present before anything is allocated for it.
    this.need(size);
    const start = this.pos;
    this.pos += size;
    let magnitude = this.b.subarray(start, this.pos);
    if (negative) {
      magnitude = Buffer.from(magnitude);
      for (let i = 0; i < size; i++) magnitude[i] = ~magnitude[i]! & 0xff;
    }
    if (magnitude[0] === 0) corrupt('non-minimal bigint');
    const value = BigInt('0x' + magnitude.toString('hex'));
    return negative ? -value : value;
  }

  nestedString(): string {
    const b = this.b;
    const start = this.pos;
    const end = b.indexOf(END, start);
    if (end < 0) corrupt('unterminated string');
    this.pos = end + 1;
    let escaped = false;
    for (let i = start; i < end; i++) if (b[i] === 0x01) escaped = true;
    if (!escaped) return decodeWtf8(b, start, end);
    const raw = Buffer.allocUnsafe(end - start);
    let w = 0;
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c !== 0x01) {
        raw[w++] = c;
        continue;
      }
      const next = b[++i];
      if (next !== 0x01 && next !== 0x02) corrupt('bad string escape');
      raw[w++] = next - 1;
    }
    return decodeWtf8(raw, 0, w);
  }
}

/** Decodes bytes made by `encodeKey`. Anything else throws a `ChestError` with code CORRUPT. */
export function decodeKey(bytes: Uint8Array): Key {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length === 0) corrupt('empty');
  if (b[0] === T_STRING) return decodeWtf8(b, 1, b.length);
  const reader = new KeyReader(b);
  const key = reader.value(0);
  if (reader.pos !== b.length) corrupt(`trailing bytes at ${reader.pos}`);
  return key;
}
