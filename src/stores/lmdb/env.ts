import fs from 'node:fs';
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
}

interface Shared {
  readonly tables: IndexTables;
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
    throw new TypeError(
      `${indexDir} is open read-only in this process; close it before opening it for writing`,
    );
  }
  checkIndexFile(indexDir, readOnly);
  const root = open({ ...indexOptions(indexDir), readOnly });
  // Reader slots of processes that died (a crash, SIGKILL) stay taken until someone clears them.
  root.readerCheck();
  const tables: IndexTables = {
    root,
    entries: root.openDB<Buffer, Buffer>({ name: 'entries', keyEncoding: 'binary', encoding: 'binary' }),
    files: root.openDB<Buffer, string>({ name: 'files', encoding: 'binary' }),
    meta: root.openDB<string, string>({ name: 'meta', encoding: 'string' }),
  };
  shared.set(id, { tables, readOnly, users: 1 });
  return tables;
}

export function closeIndex(root: RootDatabase): void {
  for (const [id, entry] of shared) {
    if (entry.tables.root !== root) continue;
    if (--entry.users > 0) return;
    shared.delete(id);
    // Without pending asynchronous writes (this library makes none) lmdb-js closes synchronously.
    // A failure to close is not the caller's to handle, and must not surface as an unhandled rejection.
    root.close().catch(() => undefined);
    return;
  }
}
