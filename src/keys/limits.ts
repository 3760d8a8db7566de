import { ChestError, ErrorCode } from '../errors.js';
import { MAX_KEY_BYTES } from '../stores/lmdb/store.js';
import { encodeKey, type KeyIdentity } from './codec.js';

/**
 * A key too long for the index must be refused by the `set` that brings it, not by a later spill:
 * that spill would carry other keys' values too, and fail for all of them again and again.
 * A string of up to this many UTF-16 units encodes to fewer bytes than the limit (at most 3 bytes
 * each, plus a tag and escapes), so only longer identities are encoded to measure them.
 */
const SURELY_SHORT = 600;

export function assertKeyFits(key: unknown, id: KeyIdentity): void {
  if (typeof id === 'string' ? id.length <= SURELY_SHORT : typeof id !== 'bigint') return;
  const length = encodeKey(key as Parameters<typeof encodeKey>[0]).byteLength;
  if (length > MAX_KEY_BYTES) {
    throw new ChestError(
      ErrorCode.KEY_TOO_LONG,
      `a key of ${length} encoded bytes is longer than the index's limit of ${MAX_KEY_BYTES}`,
      { keys: [key] },
    );
  }
}
