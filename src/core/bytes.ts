/**
 * Bytes `start` to `end` of `bytes` in a Buffer of their own: from Node's pool when small, which keeps
 * 8-byte alignment, so typed arrays can view the copy. Up to 32 bytes a JS loop is faster than the
 * native copy and needs no view to copy from (measured, allocation included: 93 against 128 ns at
 * 16 bytes, even at 32, 166 against 118 ns at 64).
 */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Buffer {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n <= SHORT_COPY) for (let i = 0; i < n; i++) out[i] = bytes[start + i]!;
  else out.set(bytes.subarray(start, end));
  return out;
}

const SHORT_COPY = 32;
