import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'lmdb';
import { isChestError, ErrorCode } from '../../errors.js';
import { LargeSet } from '../../core/large-set.js';
import type { StoreDamage } from '../types.js';
import { decodeRecord, fileFieldsAt } from './record.js';
import { isStaleTemporary, readValueFile, removeQuietly } from './files.js';

/**
 * Checks and repairs of an LMDB store's entries and files. Everything that changes something runs
 * inside one write transaction of the index: LMDB serializes those across processes, and a writer
 * renames its value files into place only inside its own transaction, so a file that no committed
 * entry refers to while the lock is held is truly an orphan, not a value about to be committed.
 */
export interface IndexAccess {
  /** The chest's folder. */
  readonly location: string;
  /** The index's folder inside it. */
  readonly indexDir: string;
  readonly entries: Database<Buffer, Buffer>;
  readonly files: Database<Buffer, string>;
  /** Runs `action` in one write transaction of the index, committed without a sync. */
  transact<T>(action: () => T): T;
}

/** Folder names inside the index folder that hold only leftovers when no operation runs. */
export const TMP_DIR = 'tmp';
export const COMPACT_DIR = 'compact';

/** The damage of one entry, read afresh; `undefined` when it is sound or gone. */
export function damageOf(access: IndexAccess, key: Buffer): StoreDamage | undefined {
  const bytes = access.entries.getBinaryFast(key);
  if (bytes === undefined) return undefined;
  let file: string | undefined;
  try {
    const record = decodeRecord(bytes, access.location);
    if (record.file === undefined) return undefined;
    file = record.file;
    const data = readValueFile(path.join(access.location, file), record.byteLength, record.checksum);
    if (data !== undefined) return undefined;
    return { key, code: ErrorCode.MISSING_FILE, file, message: `the value file ${file} is missing` };
  } catch (error) {
    const code = isChestError(error) ? error.code : ErrorCode.IO;
    const message = error instanceof Error ? error.message : String(error);
    return file === undefined ? { key, code, message } : { key, code, file, message };
  }
}

/** The value file an entry names, read from its bytes without checking the value. */
function fileNamed(bytes: Uint8Array): string | undefined {
  const at = fileFieldsAt(bytes);
  if (at === undefined) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8', at + 8);
}

/**
 * Files in the chest's folder that no entry refers to (relative, '/'-separated): value files of no
 * entry, anything that is not a regular file or folder (a symlink is never written by the store),
 * temporaries of writers that no longer run, and a compaction's leftovers.
 */
export function orphanFiles(access: IndexAccess): string[] {
  // Not a Set: a chest may hold more value files than V8 allows one Set to hold.
  const referenced = new LargeSet();
  for (const name of access.files.getKeys({})) referenced.add(name);
  for (const { value } of access.entries.getRange({})) {
    const name = fileNamed(value);
    if (name !== undefined) referenced.add(name);
  }
  const out: string[] = [];
  const listed = new LargeSet();
  const indexName = path.relative(access.location, access.indexDir);
  const walk = (rel: string): void => {
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(path.join(access.location, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const dirent of dirents) {
      const name = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      if (name === indexName) continue;
      // Another chest's folder (made inside this one before chests refused that) is not ours to list.
      if (dirent.isDirectory()) {
        if (!fs.existsSync(path.join(access.location, name, indexName))) walk(name);
      } else {
        listed.add(name);
        if (!referenced.has(name)) out.push(name);
      }
    }
  };
  walk('');
  const orphans =
    out.length === 0 ? out : out.filter((name) => !sameFileAsReferenced(access, name, referenced, listed));
  const tmp = path.join(access.indexDir, TMP_DIR);
  for (const name of safeList(tmp)) {
    if (isStaleTemporary(name)) orphans.push(`${indexName}/${TMP_DIR}/${name}`);
  }
  for (const name of safeList(path.join(access.indexDir, COMPACT_DIR))) {
    orphans.push(`${indexName}/${COMPACT_DIR}/${name}`);
  }
  return orphans.sort();
}

/**
 * Whether a listed name no entry refers to is, on a file system that ignores case, the very file of
 * a name an entry refers to. Two names differing only in case that share a folder there are listed
 * with the folder's case as it was first created (`kA/x` for an entry's `ka/x`). A referenced name
 * that is not listed yet exists was found under another case, so it is the listed name that folds
 * like it (inode numbers cannot tell: FUSE file systems give each spelling its own). On a file system
 * that respects case, a referenced name that exists is always listed itself.
 */
function sameFileAsReferenced(
  access: IndexAccess,
  name: string,
  referenced: LargeSet,
  listed: LargeSet,
): boolean {
  const folded = foldCase(name);
  for (const candidate of referenced) {
    if (listed.has(candidate) || foldCase(candidate) !== folded) continue;
    if (existsQuietly(path.join(access.location, candidate))) return true;
  }
  return false;
}

const foldCase = (name: string): string => name.normalize('NFC').toLowerCase();

function existsQuietly(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/** Removes orphan files; call inside a write transaction (see the module comment). */
export function removeOrphans(access: IndexAccess): string[] {
  const names = orphanFiles(access);
  for (const name of names) removeQuietly(path.join(access.location, name));
  return names;
}

/**
 * In one write transaction: drops the entries of `recheck` that are still damaged, and those of
 * `drop` whatever they hold, with their file names and files; then removes orphan files.
 */
export function repairIndex(
  access: IndexAccess,
  recheck: readonly Uint8Array[],
  drop: readonly Uint8Array[],
): { dropped: StoreDamage[]; removedFiles: string[] } {
  const gone: string[] = [];
  const result = access.transact(() => {
    const dropped: StoreDamage[] = [];
    const remove = (key: Buffer): void => {
      const bytes = access.entries.getBinaryFast(key);
      if (bytes === undefined) return;
      const name = fileNamed(bytes);
      access.entries.removeSync(key);
      if (name !== undefined && access.files.get(name)?.equals(key) === true) {
        access.files.removeSync(name);
        gone.push(name);
      }
    };
    for (const k of recheck) {
      const key = Buffer.from(k);
      const damage = damageOf(access, key);
      if (damage === undefined) continue;
      remove(key);
      dropped.push(damage);
    }
    for (const k of drop) {
      const key = Buffer.from(k);
      if (access.entries.getBinaryFast(key) === undefined) continue;
      remove(key);
      dropped.push({ key, code: ErrorCode.CORRUPT, message: 'the entry key cannot be decoded' });
    }
    return { dropped, removedFiles: removeOrphans(access) };
  });
  // The files of dropped entries go once their entries are gone for good.
  const removed = new Set(result.removedFiles);
  for (const name of gone) {
    try {
      fs.unlinkSync(path.join(access.location, name));
      removed.add(name);
    } catch {
      // Missing already: that was the damage.
    }
  }
  return { dropped: result.dropped, removedFiles: [...removed].sort() };
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
