import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (the zlib one: same polynomial and result as `zlib.crc32`), computed in JavaScript for
 * short inputs. A call into zlib costs about 140 ns whatever the length, which for a small record
 * was more than the checksum itself: slicing-by-4 here takes about 45 ns for 50 bytes. From 128
 * bytes on, zlib's vectorized loop wins and is used.
 */
export function crc32(data: Uint8Array): number {
  const n = data.length;
  if (n > SHORT) return zlibCrc32(data);
  let c = -1;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c =
      TABLE[768 + (c & 0xff)]! ^
      TABLE[512 + ((c >>> 8) & 0xff)]! ^
      TABLE[256 + ((c >>> 16) & 0xff)]! ^
      TABLE[c >>> 24]!;
  }
  for (; i < n; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const SHORT = 128;

/** Four 256-entry tables: byte k of a 32-bit word is folded in through table 3 - k. */
const TABLE = new Int32Array(1024);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
for (let t = 1; t < 4; t++)
  for (let n = 0; n < 256; n++) {
    const prev = TABLE[(t - 1) * 256 + n]!;
    TABLE[t * 256 + n] = (prev >>> 8) ^ TABLE[prev & 0xff]!;
  }
