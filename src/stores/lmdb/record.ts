import { copyBytes } from '../../core/bytes.js';
import { crc32 } from '../../values/crc32.js';
import { sealChecksum } from '../../values/seal.js';
import { ChestError, ErrorCode } from '../../errors.js';

/**
 * One index entry, as bytes. Small values sit inline after the header; large ones are files and the
 * entry holds their length and name. Layout (little-endian):
 *
 *   0      flags   bit 0: the value is a file; bit 1: a version stamp follows the checksum;
 *                  bit 2: the checksum is sealed with the tags (see src/values/seal.ts)
 *   1      kind    the value codec's tag, opaque here
 *   2      codec   compression tag, opaque here
 *   3..6   crc32   of the value's bytes; sealed (bit 2), xor a mask of kind and codec
 *   7..10  stamp   (when flagged) id of the index transaction that wrote this version, uint32
 *   inline: then   the value's bytes
 *   file:   then   byte length (float64), then the file name relative to the chest, UTF-8
 *
 * The header is kept small on purpose: with many small pairs it is paid once per entry. The stamp
 * lets a process holding a copy of a value in memory tell, with one read of the entry, whether
 * another process has replaced it since (see src/coherence.ts). Entries written before stamps have
 * none and read as stamp 0, which no transaction has.
 */
export const HEADER = 11;
/** The header of entries written before stamps existed. */
const UNSTAMPED_HEADER = 7;
/** Where the stamp of an entry lies; `apply` writes it once the transaction's id is known. */
export const STAMP_OFFSET = 7;
const FILE = 1;
const STAMPED = 2;
const SEALED = 4;
const KNOWN_FLAGS = FILE | STAMPED | SEALED;
/** The flags byte of an inline entry as written now. */
const STAMPED_SEALED = STAMPED | SEALED;

export interface RecordHead {
  readonly kind: number;
  readonly codec: number;
  readonly checksum: number;
  /**
   * The stamp: id of the index transaction that wrote this version; 0 for entries older than
   * stamps. Named as `StoredValue` names it, so an inline entry is handed out as one, as it is.
   */
  readonly version: number;
}

export interface InlineRecord extends RecordHead {
  readonly file: undefined;
  readonly data: Uint8Array;
}

export interface FileRecord extends RecordHead {
  readonly file: string;
  readonly byteLength: number;
}

export type IndexRecord = InlineRecord | FileRecord;

/**
 * An inline entry. `checksum` is the crc32 of `data`, when the caller has it already; the stamp is 0
 * until `setStamp` gives it the writing transaction's id.
 */
export function encodeInline(
  kind: number,
  codec: number,
  data: Uint8Array,
  checksum: number = crc32(data),
  stamp = 0,
): Buffer {
  const out = Buffer.allocUnsafe(HEADER + data.byteLength);
  writeInline(out, 0, kind, codec, data, checksum, stamp);
  return out;
}

/** Writes an inline entry into `out` at `at` (`HEADER + data.byteLength` bytes). */
export function writeInline(
  out: Buffer,
  at: number,
  kind: number,
  codec: number,
  data: Uint8Array,
  checksum: number,
  stamp = 0,
): void {
  out[at] = STAMPED_SEALED;
  out[at + 1] = kind;
  out[at + 2] = codec;
  out.writeUInt32LE(sealChecksum(checksum, kind, codec), at + 3);
  out.writeUInt32LE(stamp >>> 0, at + STAMP_OFFSET);
  out.set(data, at + HEADER);
}

/** Stamps an encoded entry with the id of the transaction that writes it. */
export function setStamp(record: Buffer, stamp: number): void {
  record.writeUInt32LE(stamp >>> 0, STAMP_OFFSET);
}

export function encodeFile(
  kind: number,
  codec: number,
  checksum: number,
  byteLength: number,
  file: string,
  stamp = 0,
): Buffer {
  const name = Buffer.from(file, 'utf8');
  const out = Buffer.allocUnsafe(HEADER + 8 + name.byteLength);
  out[0] = FILE | STAMPED | SEALED;
  out[1] = kind;
  out[2] = codec;
  out.writeUInt32LE(sealChecksum(checksum, kind, codec), 3);
  out.writeUInt32LE(stamp >>> 0, STAMP_OFFSET);
  out.writeDoubleLE(byteLength, HEADER);
  out.set(name, HEADER + 8);
  return out;
}

/**
 * Reads an entry. `bytes` may be a buffer the index reuses: inline data is copied out (into Node's
 * pool, which keeps 8-byte alignment, so typed arrays can view it directly).
 */
export function decodeRecord(bytes: Uint8Array, where: string): IndexRecord {
  // `length`, not `byteLength`: lmdb-js's reused read buffer reports its whole capacity as byteLength.
  const length = bytes.length;
  if (length < UNSTAMPED_HEADER) throw corrupt(where, 'index entry is shorter than its header');
  // Read straight from `bytes`, with no Buffer view over it: every read that misses memory decodes
  // an entry, and each object it allocates is garbage for V8 to collect.
  const flags = bytes[0]!;
  const kind = bytes[1]!;
  const codec = bytes[2]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw corrupt(where, `index entry has unknown flags ${flags}`);
  const sealed = (flags & SEALED) !== 0;
  const stored = uint32At(bytes, 3);
  const checksum = sealed ? sealChecksum(stored, kind, codec) : stored;
  const stamped = (flags & STAMPED) !== 0;
  if (stamped && length < HEADER) throw corrupt(where, 'index entry is shorter than its header');
  const stamp = stamped ? uint32At(bytes, STAMP_OFFSET) : 0;
  const start = stamped ? HEADER : UNSTAMPED_HEADER;
  if ((flags & FILE) === 0) {
    const data = copyBytes(bytes, start, length);
    if (crc32(data) !== checksum) throw corrupt(where, 'inline value fails its checksum');
    return { kind, codec, checksum, version: stamp, file: undefined, data };
  }
  if (length < start + 9) throw corrupt(where, 'file entry is too short');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, length);
  const byteLength = buf.readDoubleLE(start);
  if (!Number.isSafeInteger(byteLength) || byteLength < 0)
    throw corrupt(where, 'file entry has a bad length');
  const file = buf.toString('utf8', start + 8);
  if (!isSafeName(file))
    throw corrupt(where, `file entry names an unsafe path ${JSON.stringify(file.slice(0, 200))}`);
  return { kind, codec, checksum, version: stamp, file, byteLength };
}

function uint32At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * Where a file entry's length (a float64) starts, read from its flags without decoding the rest;
 * undefined for an inline entry or one too short to be a file entry.
 */
export function fileFieldsAt(bytes: Uint8Array): number | undefined {
  const flags = bytes[0];
  if (flags === undefined || (flags & FILE) === 0 || (flags & ~KNOWN_FLAGS) !== 0) return undefined;
  const start = (flags & STAMPED) !== 0 ? HEADER : UNSTAMPED_HEADER;
  return bytes.length > start + 8 ? start : undefined;
}

/** The stamp of an encoded entry, without checking the rest of it: the cheap test of `version`. */
export function readStamp(bytes: Uint8Array): number {
  if (bytes.length < HEADER || (bytes[0]! & STAMPED) === 0) return 0;
  return uint32At(bytes, STAMP_OFFSET);
}

/** A name read from the index must stay inside the chest, whatever wrote it. */
function isSafeName(name: string): boolean {
  if (name.length === 0 || name.includes('\0') || name.includes('\\') || name.startsWith('/')) return false;
  for (const part of name.split('/')) {
    if (part === '' || part === '.' || part === '..') return false;
  }
  return !name.startsWith('.chest/') && name !== '.chest';
}

function corrupt(where: string, what: string): ChestError {
  return new ChestError(ErrorCode.CORRUPT, `${what} (${where})`);
}
