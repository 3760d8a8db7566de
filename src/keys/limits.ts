import { ChestError, ErrorCode } from '../errors.js';
import { encodeKey, type KeyIdentity } from './codec.js';

/**
 * A key too long for the store must be refused by the `set` that brings it, not by a later spill:
 * that spill would carry other keys' values too, and fail for all of them again and again.
 * A key whose identity is a string of n UTF-16 units encodes to at most 3n + 2 bytes (at most 3
 * UTF-8 bytes per unit, escapes included, and a tag; a tuple's identity is its encoding itself), so
 * only identities longer than that bound allows are encoded to be measured.
 */
export function assertKeyFits(key: unknown, id: KeyIdentity, limit: number | undefined): void {
  if (limit === undefined) return;
  if (typeof id === 'string' ? 3 * id.length + 2 <= limit : typeof id !== 'bigint') return;
  const length = encodeKey(key as Parameters<typeof encodeKey>[0]).byteLength;
  if (length > limit) {
    throw new ChestError(
      ErrorCode.KEY_TOO_LONG,
      `a key of ${length} encoded bytes is longer than the store's limit of ${limit}`,
      { keys: [key] },
    );
  }
}
