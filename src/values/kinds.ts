/**
 * How a stored value's bytes are to be read back. Recorded per entry in the index as one byte, so the
 * numbers are part of the on-disk format: never renumber, only add.
 */
export const ValueKind = {
  /** Bytes produced by the chest's serializer. */
  SERIALIZED: 0,
  /** UTF-8 text produced by the chest's serializer (its `dump` returned a string). */
  TEXT: 1,
  BUFFER: 2,
  ARRAY_BUFFER: 3,
  DATA_VIEW: 4,
  INT8: 5,
  UINT8: 6,
  UINT8_CLAMPED: 7,
  INT16: 8,
  UINT16: 9,
  INT32: 10,
  UINT32: 11,
  FLOAT32: 12,
  FLOAT64: 13,
  BIGINT64: 14,
  BIGUINT64: 15,
  /**
   * msgpack from the `structured` serializer whose records refer to the structures in the store's
   * table (src/serializers/records.ts): readable only with that table. Written from format 4 on.
   */
  RECORDS: 16,
} as const;

export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

/**
 * Compression applied to a stored value's bytes, recorded per entry as one byte (on-disk format:
 * never renumber).
 */
export const Codec = {
  NONE: 0,
  GZIP: 1,
  BROTLI: 2,
  ZSTD: 3,
  /**
   * The three above, preceded by the decompressed length (unsigned LEB128), so that reading stops
   * there whatever the compressed bytes say. Written from format 3 on; 1 to 3 are still read.
   */
  GZIP_SIZED: 4,
  BROTLI_SIZED: 5,
  ZSTD_SIZED: 6,
} as const;

export type Codec = (typeof Codec)[keyof typeof Codec];
