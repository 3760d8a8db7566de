/**
 * The layout both sides of the spill thread share (see write-behind.ts): a `SharedArrayBuffer` of a
 * control area of int32 cells and `SLOTS` data slots of `SLOT_BYTES` each.
 *
 * A slot holds one batch of index entries, each as: op (1 byte: `PUT` or `DELETE`), key length
 * (uint16), entry length (uint32), the encoded key, then (for a put) the entry, with its stamp left
 * for the writer to fill in once its transaction's id is known. All little-endian.
 */

/** Batches in flight at once: the chest waits only when all of them are. */
export const SLOTS = 4;
/** Room for one batch; a batch that would not fit is cut there and the rest goes on in the next. */
export const SLOT_BYTES = 2 ** 21;

/** Control cells before the slots' own. */
export const ALIVE = 0;
export const STOP = 1;
/** Bumped (and waited on) by the chest's thread when it hands over a slot or asks the writer to stop. */
export const WAKE = 2;
/** Bumped (and waited on) by the writer each time it finishes a slot. */
export const DONE_COUNT = 3;
const GLOBALS = 4;
const PER_SLOT = 8;

/** A slot's cells, from `cell(slot, …)`. */
export const STATE = 0;
export const COUNT = 1;
export const TXN = 2;
export const FAILURE = 3;
export const MESSAGE_BYTES = 4;
/** Bytes of the slot the batch fills. */
export const USED = 5;

/** Slot states. */
export const FREE = 0;
export const FULL = 1;
export const RUNNING = 2;
export const DONE = 3;
export const FAILED = 4;
/** Taken back from a thread that never started. */
export const CANCELLED = 5;

/** Why a slot failed. */
export const FAILED_DISK_FULL = 1;
export const FAILED_IO = 2;
/** The index holds value files: an entry being replaced may own one, which only the chest's thread handles. */
export const FAILED_HAS_FILES = 3;

export const PUT = 1;
export const DELETE = 2;
/** Bytes of an entry's head in a slot: op, key length, entry length. */
export const ENTRY_HEAD = 7;

export const CONTROL_BYTES = (GLOBALS + SLOTS * PER_SLOT) * 4;

export function cell(slot: number, field: number): number {
  return GLOBALS + slot * PER_SLOT + field;
}

/** Where slot `slot`'s data starts in the shared buffer. */
export function slotOffset(slot: number): number {
  return CONTROL_BYTES + slot * SLOT_BYTES;
}

export function sharedBytes(): number {
  return CONTROL_BYTES + SLOTS * SLOT_BYTES;
}

export interface WriterData {
  readonly indexDir: string;
  readonly buffer: SharedArrayBuffer;
}
