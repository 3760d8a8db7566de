import { Worker } from 'node:worker_threads';
import { ChestError, ErrorCode } from '../../errors.js';
import { encodeKeyInto } from '../../keys/codec.js';
import type { Key } from '../../keys/types.js';
import { HEADER, writeInline } from './record.js';
import {
  ALIVE,
  cell,
  COUNT,
  DELETE,
  DONE,
  DONE_COUNT,
  ENTRY_HEAD,
  CANCELLED,
  FAILED,
  FAILED_DISK_FULL,
  FAILED_HAS_FILES,
  FAILURE,
  FREE,
  FULL,
  MESSAGE_BYTES,
  PUT,
  SLOT_BYTES,
  SLOTS,
  slotOffset,
  sharedBytes,
  STATE,
  STOP,
  TXN,
  USED,
  WAKE,
  type WriterData,
} from './write-behind-shared.js';

/**
 * The spill thread: a worker that commits a chest's spill batches while the chest goes on.
 *
 * Why: a spill's index transaction (the puts and the commit) is the largest part of an insert
 * that spills, and a second core can take it (measured in bench/README.md, tenth pass). The chest
 * encodes each batch straight into one of `SLOTS` slots of a shared buffer and hands it over; it
 * waits only when every slot is in flight, and before anything else reads or writes the store
 * (`drain`), so that nothing ever sees the index without the batches handed over before. The one
 * exception is a read of a key the chest knows is in none of them (`LmdbStore.getBeside`).
 *
 * What a batch's failure does: nothing of it is committed (one transaction), and the chest gets
 * its entries back (`Outcome.ok` false) to hold in memory as unwritten, so nothing is lost; it
 * stops handing batches to this thread and writes them itself, and that write reports the error.
 */
export class WriteBehind {
  private readonly buffer = new SharedArrayBuffer(sharedBytes());
  private readonly control = new Int32Array(this.buffer);
  private readonly bytes = Buffer.from(this.buffer);
  private readonly worker: Worker;
  /** Slots handed over, oldest first, with the ticket of each. */
  private readonly queue: { slot: number; ticket: number }[] = [];
  private nextSlot = 0;
  private nextTicket = 1;
  private filling = -1;
  private at = 0;
  private count = 0;
  private stopped = false;
  private ended = false;
  private reaping = false;
  private readonly born = performance.now();

  /** `settled` is told of each batch as it is collected, oldest first. */
  constructor(
    indexDir: string,
    private readonly settled: (outcome: Outcome) => void,
  ) {
    const data: WriterData = { indexDir, buffer: this.buffer };
    this.worker = startWorker(data);
    // It must not keep the process alive: a chest left open is flushed at exit by its own hook,
    // which waits for the batches in flight (worker threads still run during 'exit' listeners).
    this.worker.unref();
    // A failure to start is found by the chest's thread (see `finished`), not as an event.
    this.worker.on('error', () => undefined);
  }

  /** Batches handed over and not yet collected by `drain` or `collect`. */
  get inFlight(): number {
    return this.queue.length;
  }

  /** Whether the thread is (or may yet be) serving. */
  get usable(): boolean {
    return !this.stopped && Atomics.load(this.control, ALIVE) !== 2;
  }

  /**
   * Adds a put of an inline value to the batch being filled; false when it does not fit in the
   * slot (hand the batch over with `submit`, then add it again). A slot is taken on the first add,
   * waiting for the oldest batch in flight when all are.
   */
  put(key: Key, kind: number, codec: number, data: Uint8Array, checksum: number): boolean {
    if (this.filling < 0 && !this.take()) return false;
    const head = this.at;
    const keyAt = head + ENTRY_HEAD;
    const end = slotOffset(this.filling) + SLOT_BYTES;
    const keyLength = encodeKeyInto(key, this.bytes, keyAt, end);
    if (keyLength < 0) return false;
    const entryAt = keyAt + keyLength;
    const entryLength = HEADER + data.byteLength;
    if (entryAt + entryLength > end) return false;
    const b = this.bytes;
    b[head] = PUT;
    b.writeUInt16LE(keyLength, head + 1);
    b.writeUInt32LE(entryLength, head + 3);
    writeInline(b, entryAt, kind, codec, data, checksum);
    this.at = entryAt + entryLength;
    this.count++;
    return true;
  }

  /** Adds a delete to the batch being filled; false when it does not fit, as `put`. */
  delete(key: Key): boolean {
    if (this.filling < 0 && !this.take()) return false;
    const head = this.at;
    const keyAt = head + ENTRY_HEAD;
    const keyLength = encodeKeyInto(key, this.bytes, keyAt, slotOffset(this.filling) + SLOT_BYTES);
    if (keyLength < 0) return false;
    this.bytes[head] = DELETE;
    this.bytes.writeUInt16LE(keyLength, head + 1);
    this.bytes.writeUInt32LE(0, head + 3);
    this.at = keyAt + keyLength;
    this.count++;
    return true;
  }

  /** Entries in the batch being filled. */
  get pending(): number {
    return this.count;
  }

  /** Hands the batch being filled to the thread; its ticket, which its `Outcome` carries. */
  submit(): number {
    const slot = this.filling;
    const ticket = this.nextTicket++;
    Atomics.store(this.control, cell(slot, COUNT), this.count);
    Atomics.store(this.control, cell(slot, USED), this.at - slotOffset(slot));
    Atomics.store(this.control, cell(slot, STATE), FULL);
    Atomics.add(this.control, WAKE, 1);
    Atomics.notify(this.control, WAKE);
    this.queue.push({ slot, ticket });
    this.filling = -1;
    this.count = 0;
    return ticket;
  }

  /** Gives up the batch being filled (nothing of it was handed over). */
  abandon(): void {
    if (this.filling >= 0) Atomics.store(this.control, cell(this.filling, STATE), FREE);
    this.filling = -1;
    this.count = 0;
  }

  /** Collects the batches that have finished, oldest first, without waiting. */
  collect(): void {
    // Not from inside `settled` (it tells the chest's coherence, which looks for new commits,
    // which collects): outcomes must reach the store in the order the batches were handed over.
    if (this.reaping) return;
    while (this.queue.length > 0 && this.finished(this.queue[0]!.slot)) this.reap();
  }

  /** Waits for every batch in flight and collects them. */
  drain(): void {
    while (this.queue.length > 0) {
      this.wait(this.queue[0]!.slot);
      this.reap();
    }
  }

  /**
   * `drain`, except from inside a collection (a look for new commits while one batch is told to
   * the chest): the others are told next, in order.
   */
  drainOutsideCollect(): void {
    if (!this.reaping) this.drain();
  }

  /** Stops the thread once it has finished every batch, and waits for it to close its handles. */
  stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.abandon();
    this.drain();
    this.stopped = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, WAKE, 1);
    Atomics.notify(this.control, WAKE);
    // A running thread closes its handles on the index before it ends, and the chest's own close
    // must come after; one still starting finds STOP set and takes nothing.
    const until = performance.now() + STARTUP_MS;
    while (Atomics.load(this.control, ALIVE) === 1 && performance.now() < until)
      Atomics.wait(this.control, ALIVE, 1, 100);
    // A thread still starting may be waiting for the index's write lock, held by a transaction of
    // this very thread (a close from inside a `compute`): ended now, it could die holding that lock,
    // and every later write of the process would wait for it for good. Left alone, it finds STOP set
    // once it has started and ends by itself. Until then it keeps the process alive: ended by the
    // process's exit in the middle of opening the index, lmdb-js aborts the process.
    if (Atomics.load(this.control, ALIVE) === 0) this.worker.ref();
    else void this.worker.terminate();
  }

  private take(): boolean {
    const slot = this.nextSlot;
    const state = Atomics.load(this.control, cell(slot, STATE));
    if (state !== FREE) {
      // Every slot is in flight: the oldest is this one, since slots go round in order.
      this.wait(slot);
      this.reap();
    }
    if (!this.usable) return false;
    this.filling = slot;
    this.nextSlot = (slot + 1) % SLOTS;
    this.at = slotOffset(slot);
    this.count = 0;
    return true;
  }

  private finished(slot: number): boolean {
    const state = Atomics.load(this.control, cell(slot, STATE));
    if (state === DONE || state === FAILED || state === CANCELLED) return true;
    const alive = Atomics.load(this.control, ALIVE);
    // The thread is gone (it could not open the index, or the process is exiting): a batch it had
    // not finished never will be.
    if (alive === 2) return true;
    if (alive !== 0 || state !== FULL || performance.now() - this.born < STARTUP_MS) return false;
    // It never started. A batch is taken from it only if it has not taken it first, so that it
    // cannot commit, later, entries this thread takes back.
    this.stopped = true;
    Atomics.store(this.control, STOP, 1);
    return Atomics.compareExchange(this.control, cell(slot, STATE), FULL, CANCELLED) === FULL;
  }

  private wait(slot: number): void {
    for (;;) {
      const seen = Atomics.load(this.control, DONE_COUNT);
      if (this.finished(slot)) return;
      Atomics.wait(this.control, DONE_COUNT, seen, 1000);
    }
  }

  private reap(): void {
    const { slot, ticket } = this.queue.shift()!;
    const state = Atomics.load(this.control, cell(slot, STATE));
    let outcome: Outcome;
    if (state === DONE) {
      outcome = { ticket, ok: true, txn: Atomics.load(this.control, cell(slot, TXN)), error: undefined };
    } else {
      outcome = { ticket, ok: false, txn: 0, error: this.failure(slot, state) };
    }
    Atomics.store(this.control, cell(slot, STATE), FREE);
    this.reaping = true;
    try {
      this.settled(outcome);
    } finally {
      this.reaping = false;
    }
  }

  private failure(slot: number, state: number): ChestError {
    if (state === CANCELLED) return new ChestError(ErrorCode.IO, 'the spill thread did not start');
    if (state !== FAILED)
      return new ChestError(ErrorCode.IO, 'the spill thread stopped before committing a batch');
    const why = Atomics.load(this.control, cell(slot, FAILURE));
    const length = Atomics.load(this.control, cell(slot, MESSAGE_BYTES));
    const start = slotOffset(slot);
    const message = this.bytes.toString('utf8', start, start + length);
    if (why === FAILED_HAS_FILES) return new ChestError(ErrorCode.IO, 'the index holds value files');
    return new ChestError(why === FAILED_DISK_FULL ? ErrorCode.DISK_FULL : ErrorCode.IO, message);
  }
}

/** How long a spill thread may take to start before its batches are taken back. */
const STARTUP_MS = 10_000;

function startWorker(data: WriterData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts'))
    return new Worker(new URL('./write-behind-worker.js', here), { workerData: data });
  // From the TypeScript sources (the tests), through tsx's loader, registered in the thread.
  const script = JSON.stringify(new URL('./write-behind-worker.ts', here).href);
  const boot = `import('tsx/esm/api')
    .then((tsx) => { tsx.register(); return import(${script}); })
    .catch((error) => {
      const { workerData } = require('node:worker_threads');
      Atomics.store(new Int32Array(workerData.buffer), ${ALIVE}, 2);
      throw error;
    });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** What became of one batch handed to the spill thread. */
export interface Outcome {
  readonly ticket: number;
  readonly ok: boolean;
  /** Id of the transaction that committed it (when `ok`). */
  readonly txn: number;
  readonly error: ChestError | undefined;
}
