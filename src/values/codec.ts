import { ChestError, describeType, ErrorCode, isChestError } from '../errors.js';
import type { SharedRecords } from '../serializers/records.js';
import type { Serializer } from '../serializers/types.js';
import type { StoredValue } from '../stores/types.js';
import { compressionName, compressSized, decompressStored } from './compression.js';
import { Codec, ValueKind } from './kinds.js';

/**
 * Values under this many bytes are stored uncompressed: gzip's framing alone makes them larger, and
 * one zlib call costs microseconds, more than serializing a small record.
 */
const MIN_COMPRESSED_LENGTH = 64;

interface ViewConstructor {
  readonly prototype: object;
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
}

/** How one raw kind is read back from its bytes. */
interface RawType {
  /** Views of this type must start at a multiple of this within their buffer. */
  readonly elementSize: number;
  /** The value over exactly `bytes`, which are suitably aligned. */
  readonly view: (bytes: Uint8Array) => unknown;
}

const RAW_KIND_OF = new Map<object, ValueKind>();
const RAW_TYPE_OF: (RawType | undefined)[] = [];

function addRaw(kind: ValueKind, prototype: object, type: RawType): void {
  RAW_KIND_OF.set(prototype, kind);
  RAW_TYPE_OF[kind] = type;
}

function addView(kind: ValueKind, Ctor: ViewConstructor): void {
  const size = Ctor.BYTES_PER_ELEMENT;
  addRaw(kind, Ctor.prototype, {
    elementSize: size,
    view: (b) => new Ctor(b.buffer, b.byteOffset, b.byteLength / size),
  });
}

addView(ValueKind.INT8, Int8Array);
addView(ValueKind.UINT8, Uint8Array);
addView(ValueKind.UINT8_CLAMPED, Uint8ClampedArray);
addView(ValueKind.INT16, Int16Array);
addView(ValueKind.UINT16, Uint16Array);
addView(ValueKind.INT32, Int32Array);
addView(ValueKind.UINT32, Uint32Array);
addView(ValueKind.FLOAT32, Float32Array);
addView(ValueKind.FLOAT64, Float64Array);
addView(ValueKind.BIGINT64, BigInt64Array);
addView(ValueKind.BIGUINT64, BigUint64Array);
addRaw(ValueKind.BUFFER, Buffer.prototype as object, {
  elementSize: 1,
  view: (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
});
addRaw(ValueKind.DATA_VIEW, DataView.prototype, {
  elementSize: 1,
  view: (b) => new DataView(b.buffer, b.byteOffset, b.byteLength),
});
addRaw(ValueKind.ARRAY_BUFFER, ArrayBuffer.prototype, {
  elementSize: 1,
  // Hand out the buffer itself when the bytes are all of it; otherwise an exact-size copy.
  view: (b) =>
    b.buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
      ? b.buffer
      : copy(b).buffer,
});

/** An exact-size copy. Not `bytes.slice()`: on a Buffer (stores and zlib hand out Buffers) that is a view. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/**
 * The raw kind of a binary value, or undefined for anything the serializer handles. Only the
 * built-in types themselves count: a subclass may carry state beyond its bytes.
 */
function rawKindOf(value: unknown): ValueKind | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return RAW_KIND_OF.get(Object.getPrototypeOf(value) as object);
}

/** True for values stored raw: built-in typed arrays, Buffer, DataView, ArrayBuffer. */
export function isBinary(value: unknown): boolean {
  return rawKindOf(value) !== undefined;
}

/** Exact byte length of a binary value; undefined for anything else. */
export function binaryByteLength(value: unknown): number | undefined {
  return rawKindOf(value) === undefined ? undefined : (value as ArrayBufferView | ArrayBuffer).byteLength;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Turns values into `StoredValue`s and back: binary values as their raw bytes, everything else
 * through the serializer, then compression.
 *
 * Raw bytes are in the machine's byte order (little-endian on x64 and arm64): a chest moved to a
 * big-endian machine would read swapped elements.
 */
export class ValueCodec {
  readonly serializer: Serializer;
  readonly codec: Codec;
  /** With the `structured` serializer on a store that keeps a structure table: records packed against it. */
  readonly records: SharedRecords | undefined;

  constructor(serializer: Serializer, codec: Codec, records?: SharedRecords) {
    compressionName(codec); // throws for an unknown codec
    this.serializer = serializer;
    this.codec = codec;
    this.records = records;
  }

  encode(value: unknown): StoredValue {
    const raw = rawKindOf(value);
    if (raw !== undefined) return this.pack(raw, rawBytes(value as ArrayBufferView | ArrayBuffer, raw));
    const { records } = this;
    let out: Uint8Array | string;
    let shared = false;
    try {
      if (records === undefined) out = this.serializer.dump(value);
      else {
        out = records.dump(value);
        shared = records.shared;
      }
    } catch (cause) {
      // An error of the structure table (a full disk) is no fault of the value's.
      if (records !== undefined && isChestError(cause)) throw cause;
      throw new ChestError(
        ErrorCode.UNSERIALIZABLE,
        `the ${this.serializer.name} serializer cannot serialize a value of type ${describeType(value)}`,
        { cause },
      );
    }
    if (shared) return this.pack(ValueKind.RECORDS, out as Uint8Array);
    // Buffer.from, not TextEncoder: on Node 20 it is several times faster for short strings.
    if (typeof out === 'string') return this.pack(ValueKind.TEXT, Buffer.from(out, 'utf8'));
    if (out instanceof Uint8Array) return this.pack(ValueKind.SERIALIZED, out);
    throw new ChestError(
      ErrorCode.UNSERIALIZABLE,
      `the ${this.serializer.name} serializer returned ${describeType(out)}, not bytes or a string`,
    );
  }

  decode(stored: StoredValue): unknown {
    const bytes = stored.codec === Codec.NONE ? stored.data : decompressStored(stored.codec, stored.data);
    const { kind } = stored;
    if (kind === ValueKind.RECORDS) return this.loadRecords(bytes);
    if (kind === ValueKind.SERIALIZED || kind === ValueKind.TEXT) {
      try {
        return this.serializer.load(kind === ValueKind.TEXT ? utf8.decode(bytes) : bytes);
      } catch (cause) {
        throw new ChestError(
          ErrorCode.CORRUPT,
          `a stored value does not load with the ${this.serializer.name} serializer`,
          { cause },
        );
      }
    }
    const type = RAW_TYPE_OF[kind];
    if (type === undefined) {
      throw new ChestError(ErrorCode.CORRUPT, `a stored value has unknown kind ${kind}`);
    }
    const size = type.elementSize;
    if (bytes.byteLength % size !== 0) {
      throw new ChestError(
        ErrorCode.CORRUPT,
        `a stored value of kind ${kind} is ${bytes.byteLength} bytes, not a multiple of ${size}`,
      );
    }
    // A typed array cannot start at a misaligned offset: copy then, and only then.
    return type.view(bytes.byteOffset % size === 0 ? bytes : copy(bytes));
  }

  isBinary(value: unknown): boolean {
    return isBinary(value);
  }

  private loadRecords(bytes: Uint8Array): unknown {
    if (this.records === undefined) {
      throw new ChestError(
        ErrorCode.CORRUPT,
        `a stored value refers to shared record structures, which only a store that keeps them can read (serializer ${this.serializer.name})`,
      );
    }
    try {
      return this.records.load(bytes);
    } catch (cause) {
      if (isChestError(cause)) throw cause;
      throw new ChestError(
        ErrorCode.CORRUPT,
        'a stored value does not load with its shared record structures',
        {
          cause,
        },
      );
    }
  }

  binaryByteLength(value: unknown): number | undefined {
    return binaryByteLength(value);
  }

  private pack(kind: ValueKind, data: Uint8Array): StoredValue {
    if (this.codec === Codec.NONE || data.byteLength < MIN_COMPRESSED_LENGTH) {
      return { kind, codec: Codec.NONE, data };
    }
    const packed = compressSized(this.codec, data);
    // The codec is recorded per entry, so a value compression does not shrink is kept as it is.
    return packed.data.byteLength < data.byteLength
      ? { kind, codec: packed.codec, data: packed.data }
      : { kind, codec: Codec.NONE, data };
  }
}

/** A view of exactly the value's bytes: never a copy. */
function rawBytes(value: ArrayBufferView | ArrayBuffer, kind: ValueKind): Uint8Array {
  if (kind === ValueKind.ARRAY_BUFFER) return new Uint8Array(value as ArrayBuffer);
  const view = value as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
