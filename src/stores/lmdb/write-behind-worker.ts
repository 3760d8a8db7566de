/**
 * The spill thread (see write-behind.ts): commits the batches a chest hands it, one transaction
 * each, in the order they were handed over, through its own handles on the chest's index (lmdb-js
 * shares one LMDB environment between the threads of a process).
 */
import { workerData } from 'node:worker_threads';
import type { Database, RootDatabase } from 'lmdb';
import { attachIndex, closeIndex } from './env.js';
import { SpaceGuard } from './disk.js';
import { STAMP_OFFSET } from './record.js';
import { COMMIT_NO_FLUSH } from './txn-flags.js';
import { ErrorCode, isChestError } from '../../errors.js';
import {
  ALIVE,
  cell,
  COUNT,
  DELETE,
  DONE,
  DONE_COUNT,
  ENTRY_HEAD,
  FAILED,
  FAILED_DISK_FULL,
  FAILED_HAS_FILES,
  FAILED_IO,
  FAILURE,
  FULL,
  MESSAGE_BYTES,
  RUNNING,
  SLOT_BYTES,
  SLOTS,
  slotOffset,
  STATE,
  STOP,
  TXN,
  USED,
  WAKE,
  type WriterData,
} from './write-behind-shared.js';

type SyncTransaction = <T>(action: () => T, flags: number) => T;

class HasFiles extends Error {}

const { indexDir, buffer } = workerData as WriterData;
/**
 * Set by the first failure: every later batch fails too, uncommitted. The chest takes back the
 * entries of every failed batch, newest first, so that a key in two of them keeps its newer value;
 * a later batch committed after an earlier one failed would let the older value come back over it.
 */
let broken: { why: number; message: string } | undefined;
const control = new Int32Array(buffer);
const bytes = Buffer.from(buffer);
/**
 * A slot's batch is copied here before it is put: lmdb-js hands a value to LMDB by the address of
 * its ArrayBuffer, which it does not take from a SharedArrayBuffer (the entries came out as other
 * bytes of memory), and one copy of the batch costs less than one per entry.
 */
const local = Buffer.allocUnsafeSlow(SLOT_BYTES);

function serve(): void {
  const tables = attachIndex(indexDir);
  try {
    Atomics.store(control, ALIVE, 1);
    Atomics.notify(control, ALIVE);
    const space = new SpaceGuard(`${indexDir}/data.mdb`);
    let next = 0;
    for (;;) {
      const wake = Atomics.load(control, WAKE);
      // Asked to stop, every batch has been collected, or taken back from a start too slow.
      if (Atomics.load(control, STOP) !== 0) return;
      if (Atomics.compareExchange(control, cell(next, STATE), FULL, RUNNING) === FULL) {
        commit(tables.root, tables.entries, tables.files, tables.gated, space, next);
        next = (next + 1) % SLOTS;
        continue;
      }
      Atomics.wait(control, WAKE, wake);
    }
  } finally {
    closeIndex(tables.root);
  }
}

function commit(
  root: RootDatabase,
  entries: Database<Buffer, Buffer>,
  files: Database<Buffer, string>,
  gated: <T>(action: () => T) => T,
  space: SpaceGuard,
  slot: number,
): void {
  const start = slotOffset(slot);
  const count = Atomics.load(control, cell(slot, COUNT));
  const env = (root as unknown as { env: { getWriteTxnId(): number } }).env;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- widens the flags to a number
  const transactionSync = root.transactionSync.bind(root) as SyncTransaction;
  let id = 0;
  bytes.copy(local, 0, start, start + Atomics.load(control, cell(slot, USED)));
  if (broken !== undefined) {
    fail(slot, broken.why, `not written after an earlier batch failed: ${broken.message}`);
    return;
  }
  try {
    gated(() =>
      transactionSync(() => {
        // An entry being replaced may own a value file, which must be given up with it: the
        // chest's own thread does that, so this thread takes only indexes without value files.
        for (const name of files.getKeys({ limit: 1 })) if (name !== undefined) throw new HasFiles();
        id = env.getWriteTxnId();
        let at = 0;
        let written = 0;
        for (let i = 0; i < count; i++) {
          const op = local[at]!;
          const keyLength = local.readUInt16LE(at + 1);
          const entryLength = local.readUInt32LE(at + 3);
          const keyAt = at + ENTRY_HEAD;
          const key = local.subarray(keyAt, keyAt + keyLength);
          if (op === DELETE) entries.removeSync(key);
          else {
            const entry = local.subarray(keyAt + keyLength, keyAt + keyLength + entryLength);
            entry.writeUInt32LE(id >>> 0, STAMP_OFFSET);
            entries.putSync(key, entry);
          }
          written += keyLength + entryLength;
          at = keyAt + keyLength + entryLength;
        }
        // Before LMDB writes a page, as every commit of the store (see SpaceGuard).
        space.ensure(written, `cannot commit to the index of ${indexDir}`);
      }, COMMIT_NO_FLUSH),
    );
    Atomics.store(control, cell(slot, TXN), id);
    finish(slot, DONE);
  } catch (error) {
    const why =
      error instanceof HasFiles
        ? FAILED_HAS_FILES
        : isChestError(error, ErrorCode.DISK_FULL)
          ? FAILED_DISK_FULL
          : FAILED_IO;
    const message = error instanceof Error ? error.message : String(error);
    broken = { why, message };
    fail(slot, why, message);
  }
}

function fail(slot: number, why: number, text: string): void {
  const message = Buffer.from(text).subarray(0, SLOT_BYTES);
  message.copy(bytes, slotOffset(slot));
  Atomics.store(control, cell(slot, FAILURE), why);
  Atomics.store(control, cell(slot, MESSAGE_BYTES), message.byteLength);
  finish(slot, FAILED);
}

function finish(slot: number, state: number): void {
  Atomics.store(control, cell(slot, STATE), state);
  Atomics.add(control, DONE_COUNT, 1);
  Atomics.notify(control, DONE_COUNT);
}

try {
  serve();
} finally {
  // Whatever ended the loop, the chest's thread must not wait for this one any longer.
  Atomics.store(control, ALIVE, 2);
  Atomics.add(control, DONE_COUNT, 1);
  Atomics.notify(control, DONE_COUNT);
  Atomics.notify(control, ALIVE);
}
