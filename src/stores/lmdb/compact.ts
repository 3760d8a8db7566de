import fs from 'node:fs';
import path from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { ChestError, ErrorCode, ioError } from '../../errors.js';
import { indexOptions } from './env.js';
import { syncDir } from './files.js';
import { COMPACT_DIR } from './verify.js';

/**
 * Compaction of an index: LMDB reuses freed pages but never shrinks its file, so the only way to give
 * space back is a new file. The tables are copied in key order into a fresh environment beside the
 * old one (which makes fully packed pages), synced, and renamed over `data.mdb` in one step: a crash
 * leaves the old index or the new one, both complete, and at worst a leftover folder that `verify`
 * reports and `repair` removes.
 *
 * lmdb-js's own compacting copy (`backup(path, true)`) runs asynchronously, and a chest's methods are
 * synchronous; a copy by transactions gives the same result.
 *
 * The rename replaces the file under every process that has it open, and those would go on using the
 * old one: so this runs only when no other process holds a reader slot of the index (the reader table
 * is checked after stale slots are cleared), and the caller must have closed it in this process.
 */
const TABLES = ['entries', 'files', 'meta'] as const;
/** Pairs copied per transaction, to bound the memory of one copy transaction. */
const BATCH = 10_000;

export function compactIndex(indexDir: string): { bytesBefore: number; bytesAfter: number } {
  const dataFile = path.join(indexDir, 'data.mdb');
  const work = path.join(indexDir, COMPACT_DIR);
  const bytesBefore = fs.statSync(dataFile).size;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { mode: 0o700 });
  const source = open(indexOptions(indexDir));
  let target: RootDatabase | undefined;
  try {
    const others = otherReaders(source);
    if (others.length > 0) {
      throw new ChestError(
        ErrorCode.LOCKED,
        `cannot compact ${indexDir}: ${others.length === 1 ? 'process' : 'processes'} ${others.join(', ')} ${others.length === 1 ? 'has' : 'have'} it open`,
      );
    }
    target = open(indexOptions(work));
    for (const name of TABLES) copyTable(source, target, name);
  } catch (error) {
    close(target);
    close(source);
    fs.rmSync(work, { recursive: true, force: true });
    throw ioError(`cannot compact ${indexDir}`, error);
  }
  close(target);
  close(source);
  try {
    fs.renameSync(path.join(work, 'data.mdb'), dataFile);
    syncDir(indexDir);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { bytesBefore, bytesAfter: fs.statSync(dataFile).size };
}

function copyTable(source: RootDatabase, target: RootDatabase, name: string): void {
  const options = { name, keyEncoding: 'binary', encoding: 'binary' } as const;
  const from = source.openDB<Buffer, Buffer>(options);
  const to = target.openDB<Buffer, Buffer>(options);
  let batch: { key: Buffer; value: Buffer }[] = [];
  const commit = (): void => {
    // The default commit of this environment syncs (it is opened without noSync).
    target.transactionSync(() => {
      for (const { key, value } of batch) to.putSync(key, value);
    });
    batch = [];
  };
  for (const { key, value } of from.getRange({})) {
    // The range reuses its buffers: copy each pair out.
    batch.push({ key: Buffer.from(key), value: Buffer.from(value) });
    if (batch.length >= BATCH) commit();
  }
  commit();
}

/** Pids, other than this one, that hold a reader slot of the index's environment. */
/** Processes other than this one that have the index open (LMDB's reader table, dead ones cleared). */
export function otherReaders(root: RootDatabase): number[] {
  root.readerCheck();
  const pids = new Set<number>();
  for (const line of root.readerList().split('\n').slice(1)) {
    const pid = Number.parseInt(line.trim(), 10);
    if (Number.isInteger(pid) && pid !== process.pid) pids.add(pid);
  }
  return [...pids];
}

function close(root: RootDatabase | undefined): void {
  // Without pending asynchronous writes (none are made here) lmdb-js closes synchronously.
  if (root !== undefined) root.close().catch(() => undefined);
}
