import zlib from 'node:zlib';
import { ChestError, ErrorCode } from '../errors.js';
import { Codec } from './kinds.js';

/**
 * Compression a chest applies to its stored values.
 *
 * @example
 * ```ts
 * import { Chest, type CompressionName } from 'spillchest';
 *
 * const compress: CompressionName = 'brotli';
 * using chest = new Chest<string, string>({ compress });
 * ```
 */
export type CompressionName = 'none' | 'gzip' | 'brotli' | 'zstd';

const CODEC_OF: Readonly<Record<CompressionName, Codec>> = {
  none: Codec.NONE,
  gzip: Codec.GZIP,
  brotli: Codec.BROTLI,
  zstd: Codec.ZSTD,
};

// Indexed by codec byte.
const NAME_OF: readonly CompressionName[] = ['none', 'gzip', 'brotli', 'zstd'];

/**
 * Brotli quality 5: on JSON, v8-serialized records and prose it gets within a few percent of the
 * ratio of qualities 6 to 11 at 120-160 MB/s, while quality 4 loses up to a third of the ratio on
 * serialized records and 7 and above fall to a few MB/s. The size hint lets brotli size its window.
 */
const BROTLI_QUALITY = 5;

interface ZstdOptions {
  maxOutputLength?: number;
}

/** zstd arrived in node:zlib after Node 20, so it is looked up at run time. */
interface ZstdApi {
  zstdCompressSync(data: Uint8Array, options?: ZstdOptions): Uint8Array;
  zstdDecompressSync(data: Uint8Array, options?: ZstdOptions): Uint8Array;
}

function zstdApi(): ZstdApi | undefined {
  const api = zlib as Partial<ZstdApi>;
  return typeof api.zstdCompressSync === 'function' && typeof api.zstdDecompressSync === 'function'
    ? (api as ZstdApi)
    : undefined;
}

const ZSTD = zstdApi();

function requireZstd(): ZstdApi {
  if (ZSTD === undefined) {
    throw new TypeError(
      `zstd compression needs a newer Node.js (22.15 or later) than this one (${process.version})`,
    );
  }
  return ZSTD;
}

/** The codec byte for a compression name (default 'none'). */
export function resolveCompression(name: CompressionName = 'none'): Codec {
  if (typeof name !== 'string' || !Object.hasOwn(CODEC_OF, name)) {
    throw new TypeError(`unknown compression ${JSON.stringify(name)}: expected one of ${NAME_OF.join(', ')}`);
  }
  if (name === 'zstd') requireZstd();
  return CODEC_OF[name];
}

/** The name of a codec byte, as recorded in a chest's meta. */
export function compressionName(codec: Codec): CompressionName {
  const name = NAME_OF[codec];
  if (name === undefined) throw new RangeError(`unknown compression codec ${String(codec)}`);
  return name;
}

/** Compresses `bytes`; `Codec.NONE` hands them back unchanged. */
export function compress(codec: Codec, bytes: Uint8Array): Uint8Array {
  switch (codec) {
    case Codec.NONE:
      return bytes;
    case Codec.GZIP:
      return zlib.gzipSync(bytes);
    case Codec.BROTLI:
      return zlib.brotliCompressSync(bytes, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
        },
      });
    case Codec.ZSTD:
      return requireZstd().zstdCompressSync(bytes);
    default:
      throw new RangeError(`unknown compression codec ${String(codec)}`);
  }
}

/**
 * Decompresses `bytes`. When the caller knows the decompressed length it passes `expectedLength`:
 * zlib then stops at that many bytes, so a damaged or hostile entry cannot inflate into gigabytes.
 * Anything that does not decompress to exactly that is `CORRUPT`.
 */
export function decompress(codec: number, bytes: Uint8Array, expectedLength?: number): Uint8Array {
  if (codec === Codec.NONE) return checkLength(codec, bytes, expectedLength);
  // zlib rejects a limit of 0; an expected empty output is still checked below.
  const options = expectedLength === undefined ? {} : { maxOutputLength: Math.max(1, expectedLength) };
  const zstd = codec === Codec.ZSTD ? requireZstd() : undefined;
  let out: Uint8Array;
  try {
    switch (codec) {
      case Codec.GZIP:
        out = zlib.gunzipSync(bytes, options);
        break;
      case Codec.BROTLI:
        out = zlib.brotliDecompressSync(bytes, options);
        break;
      case Codec.ZSTD:
        out = zstd!.zstdDecompressSync(bytes, options);
        break;
      default:
        throw new ChestError(
          ErrorCode.CORRUPT,
          `unknown compression codec ${String(codec)} on a stored value`,
        );
    }
  } catch (cause) {
    if (cause instanceof ChestError) throw cause;
    throw new ChestError(ErrorCode.CORRUPT, `a stored value does not decompress as ${NAME_OF[codec]!}`, {
      cause,
    });
  }
  return checkLength(codec, out, expectedLength);
}

/** Each compression codec and the codec byte recorded for its bytes framed by `compressSized`. */
const SIZED: readonly (readonly [Codec, Codec])[] = [
  [Codec.GZIP, Codec.GZIP_SIZED],
  [Codec.BROTLI, Codec.BROTLI_SIZED],
  [Codec.ZSTD, Codec.ZSTD_SIZED],
];
const SIZED_OF = new Map<number, Codec>(SIZED);
const UNSIZED_OF = new Map<number, Codec>(SIZED.map(([plain, sized]) => [sized, plain]));

/**
 * Compresses `bytes` for storing: the decompressed length, then the compressed bytes. Returns them
 * with the codec byte to record for them.
 */
export function compressSized(codec: Codec, bytes: Uint8Array): { codec: Codec; data: Uint8Array } {
  const sized = SIZED_OF.get(codec);
  if (sized === undefined) throw new RangeError(`compression codec ${String(codec)} has no sized form`);
  const packed = compress(codec, bytes);
  const prefix: number[] = [];
  let length = bytes.byteLength;
  do {
    const low = length % 0x80;
    length = Math.floor(length / 0x80);
    prefix.push(length > 0 ? low | 0x80 : low);
  } while (length > 0);
  const out = Buffer.allocUnsafe(prefix.length + packed.byteLength);
  out.set(prefix);
  out.set(packed, prefix.length);
  return { codec: sized, data: out };
}

/**
 * Decompresses stored bytes under any codec byte a store may hold. A sized one (format 3) stops at
 * the length it records; one written before sizes were recorded is inflated without a bound.
 */
export function decompressStored(codec: number, data: Uint8Array): Uint8Array {
  const unsized = UNSIZED_OF.get(codec);
  if (unsized === undefined) return decompress(codec, data);
  let length = 0;
  let scale = 1;
  let i = 0;
  for (;;) {
    const byte = data[i++];
    // Eight bytes of LEB128 hold 56 bits, more than any buffer's length.
    if (byte === undefined || i > 8)
      throw new ChestError(ErrorCode.CORRUPT, 'a stored compressed value has a damaged length');
    length += (byte & 0x7f) * scale;
    scale *= 0x80;
    if ((byte & 0x80) === 0) break;
  }
  return decompress(unsized, data.subarray(i), length);
}

function checkLength(codec: number, bytes: Uint8Array, expectedLength: number | undefined): Uint8Array {
  if (expectedLength !== undefined && bytes.byteLength !== expectedLength) {
    throw new ChestError(
      ErrorCode.CORRUPT,
      `a stored ${NAME_OF[codec]!} value is ${bytes.byteLength} bytes long, expected ${expectedLength}`,
    );
  }
  return bytes;
}
