import { crc32 } from '../values/crc32.js';
import { ErrorCode, isChestError } from '../errors.js';
import { keyIdentity } from '../keys/codec.js';
import type { Key } from '../keys/types.js';
import { Flag, type MemoryTier } from '../memory/tier.js';
import type { WriteBehind } from '../stores/lmdb/write-behind.js';
import { cannotChange } from '../values/unchangeable.js';
import { BATCH_ENTRIES, settle, type SpillContext } from './spill.js';

/**
 * A spill through the spill thread (src/stores/lmdb/write-behind.ts): the entries a chest evicts
 * are encoded straight into the thread's shared slots and leave memory when their batch is handed
 * over. Until the batch has committed, its entries are kept here, to go back into memory if it
 * fails: nothing handed over is lost, whatever becomes of the commit.
 */

/** What one batch handed to the spill thread held. */
export interface BehindBatch<K, V> {
  readonly keys: K[];
  readonly values: (V | undefined)[];
  /** `sizeOf` of each value (or key, for a tombstone). */
  readonly sizes: number[];
  readonly deleted: boolean[];
  /** The CRC-32 of each value as written (0 for a tombstone), for when it is known to be stored. */
  readonly sums: number[];
}

/**
 * Spills `slots` (least recent first) through `writer`. Batches handed over are passed to
 * `handed` with their ticket. Returns the slots the thread cannot take (values too large to
 * inline, or the thread gone), still in memory, for the chest to write itself. Values that cannot
 * be serialized are flagged and stay in memory.
 */
export function spillBehind<K extends Key, V>(
  ctx: SpillContext<K, V>,
  writer: WriteBehind,
  slots: readonly number[],
  inlineThreshold: number,
  handed: (ticket: number, batch: BehindBatch<K, V>) => void,
): number[] {
  const { tier, codec, immutable, counters } = ctx;
  const leftover: number[] = [];
  let batch = emptyBatch<K, V>();
  /** The tier's slots of the batch being filled: they leave memory when it is handed over. */
  let taken: number[] = [];
  const handOver = (): void => {
    if (writer.pending === 0) return;
    handed(writer.submit(), batch);
    for (const slot of taken) settle(ctx, slot, true, 0);
    batch = emptyBatch();
    taken = [];
  };
  try {
    for (const slot of slots) {
      const flags = tier.flags(slot);
      const key = tier.key(slot);
      if ((flags & Flag.DELETED) !== 0) {
        if ((flags & Flag.DIRTY) === 0) {
          // Its delete is stored already (see `Flag.DELETED`): it only leaves memory.
          settle(ctx, slot, true, 0);
          continue;
        }
        if (!writer.delete(key)) {
          handOver();
          if (!writer.delete(key)) {
            leftover.push(slot);
            continue;
          }
        }
        keep(batch, tier, slot, true, 0);
      } else if ((flags & Flag.DIRTY) !== 0 || (!immutable && !cannotChange(tier.value(slot)))) {
        let stored;
        try {
          stored = codec.encode(tier.value(slot));
        } catch (error) {
          if (!isChestError(error, ErrorCode.UNSERIALIZABLE)) throw error;
          tier.setFlags(slot, flags | Flag.UNSPILLABLE);
          continue;
        }
        const sum = crc32(stored.data);
        // A clean value whose bytes still match the store's copy was not changed in place.
        if ((flags & Flag.DIRTY) === 0 && sum === tier.checksum(slot)) {
          settle(ctx, slot, true, sum);
          continue;
        }
        const { kind, codec: compression, data } = stored;
        if (data.byteLength > inlineThreshold) {
          leftover.push(slot);
          continue;
        }
        if (!writer.put(key, kind, compression, data, sum)) {
          handOver();
          if (!writer.put(key, kind, compression, data, sum)) {
            leftover.push(slot);
            continue;
          }
        }
        counters.bytesWritten += data.byteLength;
        keep(batch, tier, slot, false, sum);
      } else {
        // Clean and unchangeable: the store holds it as it is.
        settle(ctx, slot, true, tier.checksum(slot));
        continue;
      }
      taken.push(slot);
      if (writer.pending >= BATCH_ENTRIES) handOver();
    }
    handOver();
  } catch (error) {
    // Nothing of the batch being filled was handed over: its entries are still in memory.
    writer.abandon();
    throw error;
  }
  return leftover;
}

function keep<K, V>(
  batch: BehindBatch<K, V>,
  tier: MemoryTier<K, V>,
  slot: number,
  deleted: boolean,
  sum: number,
): void {
  batch.keys.push(tier.key(slot));
  batch.values.push(deleted ? undefined : tier.value(slot));
  batch.sizes.push(tier.sizeOf(slot));
  batch.deleted.push(deleted);
  batch.sums.push(sum);
}

/**
 * Puts the entries of failed batches back into memory as unwritten (newest batch first, so that a
 * key in two of them keeps its newer value), except keys set again since: the newer value stands.
 * Whether the store holds each key is found out again when it matters.
 */
export function takeBack<K extends Key, V>(
  tier: MemoryTier<K, V>,
  batches: readonly BehindBatch<K, V>[],
  confirm: (slot: number) => void,
): void {
  for (let b = batches.length - 1; b >= 0; b--) {
    const { keys, values, sizes, deleted } = batches[b]!;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const id = keyIdentity(key);
      if (tier.find(id) !== 0) continue;
      const flags = Flag.DIRTY | Flag.DISK_UNKNOWN | (deleted[i] ? Flag.DELETED : 0);
      confirm(tier.add(id, key, values[i] as V, sizes[i]!, flags));
    }
  }
}

function emptyBatch<K, V>(): BehindBatch<K, V> {
  return { keys: [], values: [], sizes: [], deleted: [], sums: [] };
}
