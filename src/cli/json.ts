/**
 * Keys and values as JSON, for arguments and for export/import.
 *
 * Keys: JSON strings, numbers, booleans, null and arrays are keys as they are. Keys JSON cannot
 * write are objects with one `$` field (no object is a key, so these are never ambiguous):
 * `{"$bigint":"12"}`, `{"$date":"2024-01-01T00:00:00.000Z"}`, `{"$undefined":true}`,
 * `{"$number":"NaN"}` (also `"Infinity"`, `"-Infinity"`, `"-0"`).
 *
 * Values (one NDJSON line each in an export): `{"key":…,"value":…}` when the value survives
 * `JSON.stringify` and `JSON.parse` unchanged; otherwise the bytes in base64 with a `type` marker:
 * a typed array, `Buffer`, `DataView` or `ArrayBuffer` by its type name (its raw bytes, little-endian
 * as in memory), anything else as `"v8"` (Node's structured serialization).
 */
import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import v8 from 'node:v8';
import type { Key } from '../keys/types.js';
import { CliError, ExitCode } from './context.js';

type Json = string | number | boolean | null | Json[] | { [name: string]: Json };

export function keyToJson(key: Key): Json {
  switch (typeof key) {
    case 'string':
    case 'boolean':
      return key;
    case 'number':
      if (Number.isFinite(key) && !Object.is(key, -0)) return key;
      return { $number: Object.is(key, -0) ? '-0' : String(key) };
    case 'bigint':
      return { $bigint: key.toString() };
    case 'undefined':
      return { $undefined: true };
    default:
      if (key === null) return null;
      if (key instanceof Date) {
        const time = key.getTime();
        return { $date: Number.isNaN(time) ? null : key.toISOString() };
      }
      return key.map(keyToJson);
  }
}

/** Parses a key given as JSON text; a usage error names what is wrong. */
export function parseKey(text: string): Key {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(
      `key is not valid JSON: ${text} (a string key needs quotes: '"name"')`,
      ExitCode.USAGE,
    );
  }
  return keyFromJson(parsed);
}

export function keyFromJson(json: unknown): Key {
  if (json === null || typeof json === 'string' || typeof json === 'boolean' || typeof json === 'number')
    return json;
  if (Array.isArray(json)) return json.map(keyFromJson);
  if (typeof json === 'object') {
    const fields = Object.entries(json as Record<string, unknown>);
    const [name, value] = fields[0] ?? [];
    if (fields.length === 1) {
      if (name === '$bigint' && typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
      if (name === '$undefined' && value === true) return undefined;
      if (name === '$date' && (value === null || typeof value === 'string')) {
        const date = new Date(value ?? NaN);
        if (value === null || !Number.isNaN(date.getTime())) return date;
      }
      if (name === '$number' && typeof value === 'string' && SPECIAL_NUMBERS.has(value)) return Number(value);
    }
  }
  throw new CliError(`not a key: ${JSON.stringify(json)}`, ExitCode.USAGE);
}

const SPECIAL_NUMBERS = new Set(['NaN', 'Infinity', '-Infinity', '-0']);

/** One exported entry. */
export type Line = { key: Json; value: Json } | { key: Json; type: string; base64: string };

const TYPED = {
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
} as const;

function isTypedName(name: string): name is keyof typeof TYPED {
  return Object.hasOwn(TYPED, name);
}

/** The value as JSON when that round-trips, else undefined. */
export function asJson(value: unknown): Json | undefined {
  if (value === undefined || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as Json;
  return isDeepStrictEqual(parsed, value) ? parsed : undefined;
}

export function toLine(key: Key, value: unknown): Line {
  const json = asJson(value);
  if (json !== undefined) return { key: keyToJson(key), value: json };
  const { type, bytes } = binaryOf(value) ?? { type: 'v8', bytes: v8.serialize(value) };
  return { key: keyToJson(key), type, base64: Buffer.from(bytes).toString('base64') };
}

/** The raw bytes and type name of a binary value, else undefined. */
export function binaryOf(value: unknown): { type: string; bytes: Uint8Array } | undefined {
  if (value instanceof ArrayBuffer) return { type: 'ArrayBuffer', bytes: new Uint8Array(value) };
  if (!ArrayBuffer.isView(value)) return undefined;
  const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (Buffer.isBuffer(value)) return { type: 'Buffer', bytes };
  if (value instanceof DataView) return { type: 'DataView', bytes };
  return { type: value.constructor.name, bytes };
}

/**
 * The bytes of a base64 field, in the padded standard alphabet `toLine` writes. Strict, unlike
 * `Buffer.from(text, 'base64')`, which skips what it cannot read and so turns a damaged field into
 * a value of the wrong length, or into another value.
 */
export function decodeBase64(text: string): Buffer {
  const bad = /[^A-Za-z0-9+/=]/.exec(text);
  if (bad !== null)
    throw new Error(`invalid base64: ${JSON.stringify(bad[0])} at character ${bad.index + 1}`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error('invalid base64: misplaced "=" padding');
  if (text.length % 4 !== 0)
    throw new Error(`invalid base64: ${text.length} characters, not a whole number of groups of 4`);
  return Buffer.from(text, 'base64');
}

const OTHER_TYPES = new Set(['v8', 'Buffer', 'ArrayBuffer', 'DataView']);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Parses one NDJSON line of an export; the error says what is wrong with it. */
export function fromLine(text: string): { key: Key; value: unknown } {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${messageOf(error)})`, { cause: error });
  }
  if (typeof line !== 'object' || line === null || Array.isArray(line) || !('key' in line))
    throw new Error('expected an object with a "key"');
  const fields = line as Partial<Record<'key' | 'value' | 'type' | 'base64', unknown>>;
  const key = keyFromJson(fields.key);
  if ('value' in fields) return { key, value: fields.value };
  if (typeof fields.type !== 'string' || typeof fields.base64 !== 'string')
    throw new Error('expected "value", or "type" and "base64"');
  const { type } = fields;
  // Checked before the base64 is decoded: a line of an unknown type is wrong whatever its bytes.
  if (!OTHER_TYPES.has(type) && !isTypedName(type)) throw new Error(`unknown type ${JSON.stringify(type)}`);
  const bytes = decodeBase64(fields.base64);
  if (type === 'v8') {
    try {
      return { key, value: v8.deserialize(bytes) as unknown };
    } catch (error) {
      throw new Error(`the bytes are not a v8 serialization (${messageOf(error)})`, { cause: error });
    }
  }
  if (type === 'Buffer') return { key, value: bytes };
  if (isTypedName(type) && bytes.byteLength % TYPED[type].BYTES_PER_ELEMENT !== 0) {
    const size = TYPED[type].BYTES_PER_ELEMENT;
    throw new Error(
      `${bytes.byteLength} bytes are not a whole number of ${type} elements (${size} bytes each)`,
    );
  }
  // A fresh, aligned buffer: the decoded one may start at any offset.
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  if (type === 'ArrayBuffer') return { key, value: buffer };
  if (type === 'DataView') return { key, value: new DataView(buffer) };
  return { key, value: new TYPED[type as keyof typeof TYPED](buffer) };
}
