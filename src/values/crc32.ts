import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (the zlib one: same polynomial and result as `zlib.crc32`), computed in JavaScript for
 * short inputs. A call into native code costs 100–140 ns whatever the length, which for a small
 * record was more than the checksum itself: slicing-by-4 here takes about 45 ns for 50 bytes. From
 * 128 bytes on, native code wins: `@node-rs/crc32` (carry-less multiply, about 12 GiB/s here, where
 * zlib's loop does 5) where its binary exists for the platform, else zlib.
 */
export function crc32(data: Uint8Array): number {
  const n = data.length;
  if (n > SHORT) return long(data);
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

type Crc32 = (data: Uint8Array) => number;

/** The check value of CRC-32: the checksum of the nine bytes "123456789". */
const CHECK = new TextEncoder().encode('123456789');
const CHECK_CRC = 0xcbf43926;

const native = loadNative();
const long: Crc32 = native ?? zlibCrc32;

/** Which implementation checksums inputs over 128 bytes: for tests and diagnostics. */
export const longCrc32: 'native' | 'zlib' = native === undefined ? 'zlib' : 'native';

function loadNative(): Crc32 | undefined {
  try {
    // A prebuilt binary per platform, installed as an optional dependency: absent on platforms
    // it does not ship for, and then zlib gives the same result more slowly.
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32: (data: Uint8Array) => number };
    const fn = (data: Uint8Array): number => mod.crc32(data) >>> 0;
    return fn(CHECK) === CHECK_CRC ? fn : undefined;
  } catch {
    return undefined;
  }
}

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
