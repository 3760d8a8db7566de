import { inspect } from 'node:util';
import { crc32 } from '../values/crc32.js';
import { ChestError, ErrorCode, isChestError } from '../errors.js';
import { encodeKey } from '../keys/codec.js';
import { ownKey } from '../keys/own.js';
import type { Key } from '../keys/types.js';
import { Flag, type MemoryTier } from '../memory/tier.js';
import type { StoredValue, WriteOp } from '../stores/types.js';
import { cannotChange } from '../values/unchangeable.js';
import type { ValueCodec } from '../values/codec.js';

/**
 * The parts of spilling and loading that `Chest` and `AsyncChest` share: which entries to write and
 * how, and what happens to them once the store has them. Only the call to the store differs.
 */

/**
 * A store's write batches are kept to about this many bytes and entries, to bound memory during a
 * flush. LMDB holds every page a transaction dirties in anonymous memory until it commits, and keeps
 * the freed pages for reuse until the index is closed, so the largest transaction sets the process's
 * resident memory for good: with keys spread over the index each entry can dirty a 4 KiB page of its
 * own. Measured flushing 280,000 small records (64 MiB budget) into a 1M-entry index: RssAnon after
 * the flush 383 MiB with one 64 MiB batch, 181 MiB with 4,096 entries per transaction.
 */
export const BATCH_BYTES = 16 * 2 ** 20;
export const BATCH_ENTRIES = 4096;

/** The counters both chests keep (see `ChestStats`). */
export interface Counters {
  hits: number;
  misses: number;
  spills: number;
  loads: number;
  bytesRead: number;
  bytesWritten: number;
}

/** One store write, and the slots to settle once it has committed. */
export interface SpillBatch {
  readonly ops: WriteOp[];
  readonly slots: number[];
  /** Checksum of each slot's stored bytes, for `settle`. */
  readonly sums: number[];
  /** Whether each slot's value was written by this batch (not a delete, not a clean value left as is). */
  readonly written: boolean[];
}

/** What a chest hands to the shared spill code. */
export interface SpillContext<K, V> {
  readonly tier: MemoryTier<K, V>;
  readonly codec: ValueCodec;
  readonly immutable: boolean;
  readonly counters: Counters;
  readonly onOverflow: ((key: K) => void) | undefined;
}

/**
 * The writes that bring the store up to date for the entries among `slots` (dirty ones, tombstones,
 * and clean ones changed in place since they were read), in batches of at most `BATCH_ENTRIES`
 * entries and about `BATCH_BYTES`. Each batch is encoded only when the previous one has been
 * consumed. Keys whose values cannot be serialized are pushed to `failed` and flagged so they are
 * not retried until they change.
 */
export function* spillBatches<K extends Key, V>(
  ctx: SpillContext<K, V>,
  slots: readonly number[],
  failed: K[],
): Generator<SpillBatch, void, undefined> {
  const { tier, codec, immutable, counters } = ctx;
  let batch = emptyBatch();
  let batchBytes = 0;
  for (const slot of slots) {
    const flags = tier.flags(slot);
    let sum = tier.checksum(slot);
    let written = false;
    if ((flags & Flag.DELETED) !== 0) {
      // A tombstone whose delete is stored already (see `Flag.DELETED`) only leaves memory.
      if ((flags & Flag.DIRTY) !== 0) batch.ops.push({ type: 'delete', key: encodeKey(tier.key(slot)) });
    } else if ((flags & Flag.DIRTY) !== 0 || (!immutable && !cannotChange(tier.value(slot)))) {
      const key = tier.key(slot);
      let stored: StoredValue;
      try {
        stored = codec.encode(tier.value(slot));
      } catch (error) {
        if (!isChestError(error, ErrorCode.UNSERIALIZABLE)) throw error;
        tier.setFlags(slot, flags | Flag.UNSPILLABLE);
        failed.push(key);
        continue;
      }
      const clean = (flags & Flag.DIRTY) === 0;
      // One checksum per value: it tells whether a clean value was changed in place, is kept for
      // the next such check, and is handed to the store, which would otherwise compute it again.
      sum = crc32(stored.data);
      // A clean value whose bytes still match the store's copy was not changed in place.
      if (!clean || sum !== tier.checksum(slot)) {
        written = true;
        const value: StoredValue = {
          kind: stored.kind,
          codec: stored.codec,
          data: stored.data,
          checksum: sum,
        };
        batch.ops.push({ type: 'put', key: encodeKey(key), value });
        batchBytes += stored.data.byteLength;
        counters.bytesWritten += stored.data.byteLength;
      }
    }
    batch.slots.push(slot);
    batch.sums.push(sum);
    batch.written.push(written);
    if (batchBytes >= BATCH_BYTES || batch.ops.length >= BATCH_ENTRIES) {
      yield batch;
      batch = emptyBatch();
      batchBytes = 0;
    }
  }
  yield batch;
}

function emptyBatch(): SpillBatch {
  return { ops: [], slots: [], sums: [], written: [] };
}

/**
 * Settles every entry of a batch the store has committed. `kept` is told first about each entry,
 * while its key is still in memory: whether its value was written, and whether it stays in memory.
 */
export function settleBatch<K, V>(
  ctx: SpillContext<K, V>,
  batch: SpillBatch,
  evict: boolean,
  kept?: (slot: number, written: boolean, stays: boolean) => void,
): void {
  const { tier } = ctx;
  batch.slots.forEach((slot, i) => {
    if (kept !== undefined) kept(slot, batch.written[i]!, !evict && (tier.flags(slot) & Flag.DELETED) === 0);
    settle(ctx, slot, evict, batch.sums[i]!);
  });
}

/**
 * After the store committed a batch: an entry becomes clean, or leaves memory when `evict` (or when
 * it is a tombstone, whose delete is now done).
 */
export function settle<K, V>(ctx: SpillContext<K, V>, slot: number, evict: boolean, checksum: number): void {
  const { tier } = ctx;
  const deleted = (tier.flags(slot) & Flag.DELETED) !== 0;
  if (!evict && !deleted) {
    tier.setFlags(slot, Flag.ON_DISK);
    tier.setChecksum(slot, checksum);
    return;
  }
  const key = tier.key(slot);
  tier.remove(slot);
  if (deleted) return;
  ctx.counters.spills++;
  ctx.onOverflow?.(ownKey(key));
}

/** Decodes a stored value, naming the key in a decoding error. */
export function decodeStored(codec: ValueCodec, key: unknown, stored: StoredValue): unknown {
  try {
    return codec.decode(stored);
  } catch (error) {
    if (isChestError(error))
      throw new ChestError(error.code, `${error.message} (key ${describeKey(key)})`, {
        cause: error,
        keys: [key],
      });
    throw error;
  }
}

/**
 * Whether a spill caused by a read failed for want of disk space or by an I/O error: the read still
 * returns its value, memory stays over budget until the next write, and that write reports it.
 */
export function isSpillFailure(error: unknown): boolean {
  return isChestError(error, ErrorCode.DISK_FULL) || isChestError(error, ErrorCode.IO);
}

/**
 * The store no longer holds `key` (evicted for the disk quota, or dropped by a repair): a copy in
 * memory becomes the only one, to be written again; a tombstone has nothing left to delete. Only
 * flags change, so that this is safe in the middle of a spill.
 */
export function forgetStored<K, V>(tier: MemoryTier<K, V>, id: unknown): void {
  const slot = tier.find(id);
  if (slot === 0) return;
  const flags = tier.flags(slot);
  // A tombstone stays, with nothing left to write (see `Flag.DELETED`): removing its slot here
  // could free it under a spill that holds it, which would then free it again.
  if ((flags & Flag.DELETED) !== 0) tier.setFlags(slot, Flag.DELETED);
  else tier.setFlags(slot, (flags & ~(Flag.ON_DISK | Flag.DISK_UNKNOWN)) | Flag.DIRTY);
}

export function unserializable(
  keys: readonly unknown[],
  fate = 'they stay in memory',
  cause?: unknown,
): ChestError {
  const shown = keys.slice(0, 10).map(describeKey).join(', ');
  const more = keys.length > 10 ? ` and ${keys.length - 10} more` : '';
  const message = `could not serialize the values of ${shown}${more}; ${fate}`;
  return new ChestError(ErrorCode.UNSERIALIZABLE, message, cause === undefined ? { keys } : { keys, cause });
}

/**
 * The error a close reports for a flush that failed (a full disk, an I/O error, values that cannot
 * be serialized). The chest closes anyway (a `using` block leaves no way to retry), so what the
 * flush could not write is gone, and the message says so, under the flush's own code.
 */
export function closeFailure(error: unknown): Error {
  if (isChestError(error, ErrorCode.UNSERIALIZABLE) && error.keys !== undefined)
    return unserializable(error.keys, 'the chest closed without them', error);
  if (error instanceof ChestError) {
    const message = `${error.message}; the chest closed without what it could not write`;
    return new ChestError(error.code, message, {
      cause: error,
      ...(error.keys === undefined ? {} : { keys: error.keys }),
      ...(error.file === undefined ? {} : { file: error.file }),
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

export function describeKey(key: unknown): string {
  try {
    return inspect(key, { depth: 3, breakLength: Infinity });
  } catch {
    return String(key);
  }
}
