/**
 * Sealing folds a value's kind and codec tags into its stored checksum, so that damage to either
 * fails the check like damage to the value's bytes would, instead of handing the bytes to the wrong
 * decoder. The stored word is the CRC-32 xor a mask of the tags; xor is its own inverse, so the same
 * call seals and unseals. Multiplying by an odd constant is a bijection on 32-bit words and
 * ((kind << 8) | codec) + 1 is never 0, so distinct tags give distinct non-zero masks: any change of
 * the tags alone is always caught. Callers outside the stores only ever see the plain CRC-32.
 */
export function sealChecksum(checksum: number, kind: number, codec: number): number {
  return (checksum ^ Math.imul(((kind << 8) | codec) + 1, 0x9e3779b1)) >>> 0;
}
