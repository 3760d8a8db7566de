import type { Database } from 'lmdb';
import { fileFieldsAt } from './record.js';

/**
 * The disk a chest may use (`availableDisk`), counted as the bytes it stores: every entry's key and
 * record (an inline value in full) plus every value file. The index file itself can be larger than
 * its share of that: LMDB reuses the pages deletes free but never shrinks its file (`compact()`
 * gives them back), and it has a few pages of its own.
 *
 * It also keeps this process's order of use of the most recently used stored keys (at most
 * `MAX_RECENT`), oldest first, so that a chest used as a cache can drop the least recently used
 * entries from disk. Keys it does not hold count as older than any it does: those this process
 * never touched, and those it touched longest ago once more than `MAX_RECENT` were touched since.
 */
export class DiskQuota {
  private bytes: number | undefined;
  /** Hex of encoded keys, least recently used first (a Map keeps insertion order). */
  private readonly recent = new Map<string, true>();

  constructor(
    readonly limit: number,
    private readonly entries: () => Database<Buffer, Buffer>,
  ) {}

  /** Bytes in use now. */
  used(): number {
    this.bytes ??= this.scan();
    return this.bytes;
  }

  /** Bytes added (negative: removed) by a commit. */
  adjust(delta: number): void {
    if (this.bytes !== undefined) this.bytes += delta;
  }

  /** Counted again on next use (after a clear or a repair). */
  recount(): void {
    this.bytes = undefined;
  }

  touch(key: Uint8Array): void {
    const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
    this.recent.delete(id);
    this.recent.set(id, true);
    // Unbounded, this Map would hold every key the process ever read or wrote: memory outside
    // `availableMemory`, and a RangeError past V8's 2^24 entries per Map.
    if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.keys().next().value!);
  }

  /** How many keys the order of use holds now. */
  get tracked(): number {
    return this.recent.size;
  }

  forget(key: Uint8Array): void {
    this.recent.delete(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex'));
  }

  /** Stored keys, least recently used first, leaving out `keep`. */
  *oldest(keep: ReadonlySet<string>): Generator<Buffer> {
    for (const key of this.entries().getKeys({})) {
      const id = key.toString('hex');
      if (!this.recent.has(id) && !keep.has(id)) yield Buffer.from(key);
    }
    for (const id of [...this.recent.keys()]) if (!keep.has(id)) yield Buffer.from(id, 'hex');
  }

  private scan(): number {
    let total = 0;
    for (const { key, value } of this.entries().getRange({})) total += entryBytes(key, value);
    return total;
  }
}

/**
 * Keys whose order of use a quota keeps. Full, that is about 24 MiB of heap with 9-byte encoded keys
 * and 30 MiB with 21-byte ones (measured). Past it the longest unused go, and count as untouched:
 * the first to leave the disk, in key order.
 */
export const MAX_RECENT = 2 ** 18;

/** Bytes an entry holds: its key and record, and its value file's length. */
export function entryBytes(key: Uint8Array, record: Uint8Array): number {
  let total = key.byteLength + record.length;
  const at = fileFieldsAt(record);
  if (at !== undefined)
    total += Buffer.from(record.buffer, record.byteOffset, record.length).readDoubleLE(at);
  return total;
}
