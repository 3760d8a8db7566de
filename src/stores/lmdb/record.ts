import { crc32 } from 'node:zlib';
import { ChestError, ErrorCode } from '../../errors.js';

/**
 * One index entry, as bytes. Small values sit inline after the header; large ones are files and the
 * entry holds their length and name. Layout (little-endian):
 *
 *   0      flags   bit 0: the value is a file
 *   1      kind    the value codec's tag, opaque here
 *   2      codec   compression tag, opaque here
 *   3..6   crc32   of the value's bytes
 *   inline: 7..    the value's bytes
 *   file:   7..14  byte length (float64), 15.. file name relative to the chest, UTF-8
 *
 * The header is kept small on purpose: with many small pairs it is paid once per entry.
 */
export const HEADER = 7;
const FILE = 1;

export interface RecordHead {
  readonly kind: number;
  readonly codec: number;
  readonly checksum: number;
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

/** `checksum` is the crc32 of `data`, when the caller has it already. */
export function encodeInline(
  kind: number,
  codec: number,
  data: Uint8Array,
  checksum: number = crc32(data),
): Buffer {
  const out = Buffer.allocUnsafe(HEADER + data.byteLength);
  out[0] = 0;
  out[1] = kind;
  out[2] = codec;
  out.writeUInt32LE(checksum, 3);
  out.set(data, HEADER);
  return out;
}

export function encodeFile(
  kind: number,
  codec: number,
  checksum: number,
  byteLength: number,
  file: string,
): Buffer {
  const name = Buffer.from(file, 'utf8');
  const out = Buffer.allocUnsafe(HEADER + 8 + name.byteLength);
  out[0] = FILE;
  out[1] = kind;
  out[2] = codec;
  out.writeUInt32LE(checksum, 3);
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
  if (bytes.length < HEADER) throw corrupt(where, 'index entry is shorter than its header');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const flags = buf[0]!;
  const kind = buf[1]!;
  const codec = buf[2]!;
  const checksum = buf.readUInt32LE(3);
  if ((flags & ~FILE) !== 0) throw corrupt(where, `index entry has unknown flags ${flags}`);
  if ((flags & FILE) === 0) {
    const data = Buffer.from(buf.subarray(HEADER));
    if (crc32(data) !== checksum) throw corrupt(where, 'inline value fails its checksum');
    return { kind, codec, checksum, file: undefined, data };
  }
  if (buf.byteLength < HEADER + 9) throw corrupt(where, 'file entry is too short');
  const byteLength = buf.readDoubleLE(HEADER);
  if (!Number.isSafeInteger(byteLength) || byteLength < 0)
    throw corrupt(where, 'file entry has a bad length');
  const file = buf.toString('utf8', HEADER + 8);
  if (!isSafeName(file))
    throw corrupt(where, `file entry names an unsafe path ${JSON.stringify(file.slice(0, 200))}`);
  return { kind, codec, checksum, file, byteLength };
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
