/** Views a Buffer/Uint8Array of stored bytes as a Float64Array, copying only when misaligned. */
export function toFloat64(bytes: Uint8Array): Float64Array {
  if (bytes.byteOffset % 8 === 0)
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  return new Float64Array(bytes.slice().buffer);
}

/** The bytes of a Float64Array, as a Buffer over the same memory (no copy). */
export function bytesOf(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export const MEMORY_ONLY_W5 = 'in-process memory: nothing another process could open';
