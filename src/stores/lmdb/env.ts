import fs from 'node:fs';
import path from 'node:path';
import { ChestError, ErrorCode } from '../../errors.js';
import { checkIndexFile } from './index-check.js';
import { open, type Database, type RootDatabase, type RootDatabaseOptionsWithPath } from 'lmdb';

/** The tables of one chest's index. */
export interface IndexTables {
  readonly root: RootDatabase;
  /** Encoded key -> entry (see record.ts). */
  readonly entries: Database<Buffer, Buffer>;
  /** Value file name -> encoded key of the entry that owns it. */
  readonly files: Database<Buffer, string>;
  /** The chest's manifest and bookkeeping. */
  readonly meta: Database<string, string>;
  /** Runs `action` holding the index's gate: every write transaction must run inside it. */
  readonly gated: <T>(action: () => T) => T;
}

interface Shared {
  readonly tables: IndexTables;
  readonly gate: RootDatabase | undefined;
  readonly readOnly: boolean;
  users: number;
}

/**
 * LMDB allows one environment per file per process: two would each keep their own locks and read
 * snapshots. Every store on one index in this process shares one, found by the index's real path,
 * and the last to close it closes it. Sharing also means a commit through one store is seen by the
 * next read through another.
 */
const shared = new Map<string, Shared>();

/** How every index is opened (the compaction opens its copy the same way). */
export function indexOptions(indexDir: string): RootDatabaseOptionsWithPath {
  return {
    path: indexDir,
    maxDbs: 4,
    // The index grows on demand up to this; it is address space, not memory.
    mapSize: 2 ** 40,
    // Measured: with lmdb-js's default overlapping sync, 8 processes incrementing one counter lost
    // increments (479 of 480), and a synchronous commit among them crashed a process. Without it the
    // counts were exact. Spills commit without syncing (MDB_NOSYNC per transaction) and flush()
    // commits with a sync, which makes everything before it durable.
    overlappingSync: false,
  };
}

/** Number of stores in this process using the index at `indexDir`. */
export function indexUsers(indexDir: string): number {
  let id: string;
  try {
    id = fs.realpathSync(indexDir);
  } catch {
    return 0;
  }
  return shared.get(id)?.users ?? 0;
}

export function openIndex(indexDir: string, readOnly: boolean): IndexTables {
  const id = fs.realpathSync(indexDir);
  const found = shared.get(id);
  if (found !== undefined && (found.readOnly === readOnly || !found.readOnly)) {
    found.users++;
    return found.tables;
  }
  if (found !== undefined) {
    // One environment per index per process, and this one was opened read-only.
    throw new ChestError(
      ErrorCode.LOCKED,
      `${indexDir} is open read-only in this process; close it before opening it for writing`,
    );
  }
  if (!readOnly) checkTruncate(indexDir);
  // A gate found broken (see `BrokenGate`) heals once no process has it open: every opener that
  // finds it so closes it and tries again after a short random pause. One whose open of the gate
  // failed cannot close it, and stops at once.
  for (let attempt = 1; ; attempt++) {
    let gate: RootDatabase | undefined;
    try {
      gate = openGate(indexDir, readOnly);
      const opened = gate;
      const gated = opened === undefined ? run : <T>(action: () => T): T => holding(opened, indexDir, action);
      // The file check reads the file's length and its meta page: inside the gate, so that no commit
      // by another process grows the file between the two reads.
      const tables = gated(() => {
        checkIndexFile(indexDir, readOnly);
        return openTables(indexDir, readOnly, gated);
      });
      shared.set(id, { tables, gate, readOnly, users: 1 });
      return tables;
    } catch (error) {
      gate?.close().catch(() => undefined);
      if (!(error instanceof BrokenGate) || gate === undefined || attempt === GATE_ATTEMPTS) throw error;
      pause(1 + Math.random() * Math.min(50, 2 ** attempt));
    }
  }
}

/**
 * The tables of an index another thread of this process has open, for a worker thread (the spill
 * thread): lmdb-js hands it the environments already open, gate included. Nothing else is done
 * that `openIndex` does on a first open: the checks of the lock file there close a descriptor of
 * it, which would drop the POSIX locks this process holds on it through LMDB, so that another
 * process would take itself for the index's only user.
 */
export function attachIndex(indexDir: string): IndexTables {
  const gate = openGate(indexDir, false);
  const gated = gate === undefined ? run : <T>(action: () => T): T => holding(gate, indexDir, action);
  const tables = openTables(indexDir, false, gated);
  shared.set(fs.realpathSync(indexDir), { tables, gate, readOnly: false, users: 1 });
  return tables;
}

function openTables(indexDir: string, readOnly: boolean, gated: <T>(action: () => T) => T): IndexTables {
  const root = open({ ...indexOptions(indexDir), readOnly });
  // Reader slots of processes that died (a crash, SIGKILL) stay taken until someone clears them.
  root.readerCheck();
  return {
    root,
    entries: root.openDB<Buffer, Buffer>({ name: 'entries', keyEncoding: 'binary', encoding: 'binary' }),
    files: root.openDB<Buffer, string>({ name: 'files', encoding: 'binary' }),
    meta: root.openDB<string, string>({ name: 'meta', encoding: 'string' }),
    gated,
  };
}

export function closeIndex(root: RootDatabase): void {
  for (const [id, entry] of shared) {
    if (entry.tables.root !== root) continue;
    if (--entry.users > 0) return;
    shared.delete(id);
    // Without pending asynchronous writes (this library makes none) lmdb-js closes synchronously.
    // A failure to close is not the caller's to handle, and must not surface as an unhandled rejection.
    const close = (): void => {
      root.close().catch(() => undefined);
    };
    // Closed inside the gate too: the last process to close an LMDB environment destroys the mutexes
    // in its lock file, and a process opening it at that moment would go on with destroyed ones.
    try {
      if (entry.gate === undefined) close();
      else holding(entry.gate, id, close);
    } catch {
      close();
    }
    entry.gate?.close().catch(() => undefined);
    return;
  }
}

/**
 * The gate: a second, empty LMDB environment in `.chest/gate/`, used only for its write lock (a
 * robust mutex shared by every process, released by the system if its holder dies). Opening the
 * index and every write transaction of the index hold it, so no process opens the index while
 * another commits to it.
 *
 * Why: lmdb-js's LMDB (as of lmdb 3.5.6) stores, in every process that opens an
 * environment, the transaction id it read from the data file at the start of opening into the
 * shared lock file, without holding the write lock. A commit by another process in between makes
 * that id go back; the next write transaction, in any process, then starts from it: it writes into
 * pages it takes for its own (SIGSEGV in the read-only map, or `MDB_BAD_TXN: mdb_page_touch no
 * parent`) or builds on an older snapshot and drops the commits after it (lost updates). Upstream
 * LMDB does this only when the opener holds the lock file exclusively.
 *
 * Nothing is ever written to the gate, so the id it resets in its own lock file never matters.
 */
function openGate(indexDir: string, readOnly: boolean): RootDatabase | undefined {
  const dir = path.join(indexDir, 'gate');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    // A read-only opener that cannot create this folder usually cannot write the index's lock file
    // either, and then LMDB resets nothing; if it can, this one open goes without the gate.
    if (readOnly) return undefined;
    throw error;
  }
  // Opening runs a write transaction of the gate (lmdb-js opens its main table in one).
  return lockFailure(indexDir, () =>
    open({ path: dir, mapSize: 2 ** 20, overlappingSync: false, noSync: true }),
  );
}

/** lmdb-js flags for the gate's transaction: committed before returning (it stays empty). */
const GATE_FLAGS = 2;
/** Opens of a broken gate before giving up (about 1.5 s of pauses in all). */
const GATE_ATTEMPTS = 40;

/**
 * The gate's write lock could not be taken: its mutex was destroyed. LMDB's last process to close
 * an environment destroys the mutexes in its lock file; a process opening it at that very moment
 * keeps the destroyed ones, and so does every process opening it after, until all have closed it.
 * lmdb-js then either fails to begin the transaction (EINVAL) or runs it without the lock (it does
 * not check whether LMDB began it), so the gate checks for itself.
 *
 * When lmdb-js's own open of the gate fails this way, it keeps the environment open in this process
 * (lmdb 3.5.6, measured: a later open in the same process failed even after every other process had
 * exited), so this process holds the broken gate until it exits. Retrying heals only the case where
 * the open succeeded and a later transaction found the lock destroyed.
 */
class BrokenGate extends ChestError {
  constructor(indexDir: string, cause?: unknown) {
    super(
      ErrorCode.LOCKED,
      `the lock of the index in ${indexDir} was destroyed while processes had it open (LMDB's last ` +
        'process to close an index destroys it): close every process using this chest, then open it again',
      cause === undefined ? {} : { cause },
    );
  }
}

/** The errno LMDB returns when the mutex it locks was destroyed. */
const EINVAL = 22;

function holding<T>(gate: RootDatabase, indexDir: string, action: () => T): T {
  const guarded = (): T => {
    // A transaction LMDB did not begin has id 0.
    if (gate.getWriteTxnId() === 0) throw new BrokenGate(indexDir);
    return action();
  };
  // Inside a gate transaction already (a nested write), lmdb-js just runs the action.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- its typings declare the enum without exporting its values
  return lockFailure(indexDir, () => gate.transactionSync(guarded, GATE_FLAGS));
}

/**
 * Runs `step`, which begins a write transaction of the gate, and reports a destroyed write mutex as
 * a `BrokenGate`: an EINVAL from beginning the transaction, or from ending one that ran unlocked
 * (which hides the `BrokenGate` thrown inside it).
 */
function lockFailure<T>(indexDir: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof BrokenGate) throw error;
    if ((error as { code?: unknown } | null)?.code === EINVAL) throw new BrokenGate(indexDir, error);
    throw error;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` milliseconds: opening a chest is synchronous. */
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function run<T>(action: () => T): T {
  return action();
}

/**
 * LMDB sizes its lock file with ftruncate when it opens an environment, and lmdb-js 3.5.6 crashes
 * the process (SIGSEGV in its clean-up) when that fails, as on FUSE's fusefat. A refusal is found
 * first and reported as an error: on the lock file itself, resized to the size it has, or on a
 * probe file of its own where there is no lock file yet.
 */
function checkTruncate(indexDir: string): void {
  const lock = path.join(indexDir, 'lock.mdb');
  const probe = path.join(indexDir, `truncate-${String(process.pid)}-${String(Date.now())}.probe`);
  const existing = fs.existsSync(lock);
  // Open in another thread of this process already (it passed this check then). Closing a
  // descriptor of the lock file would drop the POSIX locks the process holds on it through LMDB:
  // the next process to open the index would then take itself for its only user and reset the
  // lock file under the others (measured: an exclusive lock on it could then be taken).
  if (existing && lockedHere(lock)) return;
  let fd: number;
  try {
    fd = existing ? fs.openSync(lock, 'r+') : fs.openSync(probe, 'wx', 0o600);
  } catch {
    return; // LMDB's own open reports what is wrong with the folder.
  }
  try {
    fs.ftruncateSync(fd, existing ? fs.fstatSync(fd).size : 8192);
  } catch (error) {
    throw new ChestError(
      ErrorCode.IO,
      `cannot open the index in ${indexDir}: its file system does not let files be resized (ftruncate), which LMDB needs`,
      { cause: error },
    );
  } finally {
    fs.closeSync(fd);
    if (!existing) fs.rmSync(probe, { force: true });
  }
}

/**
 * Whether this process holds a POSIX lock on `file`, from /proc/locks (Linux); false where that
 * cannot be told.
 */
export function lockedHere(file: string): boolean {
  let inode: bigint;
  let locks: string;
  try {
    inode = fs.statSync(file, { bigint: true }).ino;
    locks = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return false;
  }
  const pid = String(process.pid);
  // "1: POSIX  ADVISORY  READ 1234 08:01:5678 0 EOF", or with "->" after the number for a waiter.
  for (const line of locks.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const at = fields[1] === '->' ? 2 : 1;
    if (fields[at] !== 'POSIX' || fields[at + 3] !== pid) continue;
    const id = fields[at + 4]?.split(':')[2];
    if (id !== undefined && BigInt(id) === inode) return true;
  }
  return false;
}
