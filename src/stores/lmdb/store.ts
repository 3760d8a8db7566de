import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Database, RootDatabase } from 'lmdb';
import { closeIndex, indexUsers, openIndex } from './env.js';
import { compactIndex } from './compact.js';
import { indexError } from './disk.js';
import { DiskQuota, entryBytes } from './quota.js';
import { orphanFiles, removeOrphans, repairIndex, TMP_DIR, type IndexAccess } from './verify.js';
import { ChestError, ErrorCode, ioError } from '../../errors.js';
import type {
  ChestMeta,
  EntryInfo,
  KeyRange,
  StoreFeatures,
  StoreDamage,
  StoredValue,
  SyncStore,
  WriteOp,
} from '../types.js';
import { decodeRecord, encodeFile, encodeInline, HEADER, type IndexRecord } from './record.js';
import {
  readValueFile,
  removeQuietly,
  removeStaleTemporaries,
  syncDir,
  syncFile,
  writeNewFile,
} from './files.js';

/** Name of the folder inside a chest that holds the index; no value file is ever given this name. */
export const INDEX_DIR = '.chest';

export interface LmdbStoreOptions {
  /** The chest's directory. Created if missing. */
  readonly path: string;
  /** Values of at most this many bytes live inside the index; larger ones get a file each. */
  readonly inlineThreshold: number;
  /** Relative file name for a key's value file (validated by the caller). */
  readonly fileName: (key: Uint8Array) => string;
  readonly readOnly?: boolean;
  /** Bytes the chest may store (see quota.ts). Default: no limit. */
  readonly availableDisk?: number;
  /** Past `availableDisk`: fail the write with `CHEST_DISK_FULL` (default), or evict the least recently used entries. */
  readonly onDiskFull?: 'fail' | 'evict';
  /** Told the encoded keys of entries evicted to make room. */
  readonly onEvict?: (keys: Uint8Array[]) => void;
}

/**
 * lmdb-js transaction flags: abortable (1), committed before returning (2), and 0x10000, passed on to
 * LMDB as MDB_NOSYNC for that transaction: visible at once, made durable by the next synced commit.
 * Its typings declare the enum without exporting its values.
 */
const COMMIT_NO_FLUSH = 0x10003;
const COMMIT_AND_FLUSH = 3;
type SyncTransaction = <T>(action: () => T, flags: number) => T;
/** LMDB's limit on key length with lmdb-js's default page size. */
export const MAX_KEY_BYTES = 1978;

/**
 * The default store: an LMDB index holding every key with its entry (small values inline), and a
 * file per large value.
 *
 * A large value is written to a temporary file first, then renamed to its final name inside the
 * index's write transaction, which LMDB serializes across processes; the file it replaces is removed
 * only after the commit. Each version of a value gets a name no other entry holds (the `files`
 * table maps names to keys), so a reader that looked up an entry never finds another value under
 * that name: at worst the file is gone, and the reader looks the entry up again.
 */
export class LmdbStore implements SyncStore {
  readonly features: StoreFeatures = {
    sync: true,
    persistent: true,
    processes: true,
    machines: false,
    ordered: true,
    files: true,
  };
  readonly location: string;

  // Replaced only by `compact`, which reopens the index.
  private root: RootDatabase;
  private entries: Database<Buffer, Buffer>;
  private files: Database<Buffer, string>;
  private meta: Database<string, string>;
  private readonly indexDir: string;
  private readonly tmpDir: string;
  private readonly inlineThreshold: number;
  private readonly fileName: (key: Uint8Array) => string;
  private readonly knownDirs = new Set<string>();
  private readonly readOnly: boolean;
  /** Files and folders written since the last flush, to be made durable by it. */
  private unsyncedFiles: string[] = [];
  /** Value files whose fsync failed: rewritten whole by the next flush, never synced again. */
  private readonly lostFiles = new Set<string>();
  private readonly unsyncedDirs = new Set<string>();
  private tmpCounter = 0;
  private readonly quota: DiskQuota | undefined;
  private readonly evict: boolean;
  private readonly onEvict: ((keys: Uint8Array[]) => void) | undefined;
  private writtenSinceFlush = false;
  private closed = false;

  constructor(options: LmdbStoreOptions) {
    this.location = path.resolve(options.path);
    this.inlineThreshold = options.inlineThreshold;
    this.fileName = options.fileName;
    this.readOnly = options.readOnly ?? false;
    const indexDir = path.join(this.location, INDEX_DIR);
    this.indexDir = indexDir;
    this.tmpDir = path.join(indexDir, TMP_DIR);
    try {
      if (!this.readOnly) fs.mkdirSync(this.tmpDir, { recursive: true, mode: 0o755 });
      const tables = openIndex(indexDir, this.readOnly);
      this.root = tables.root;
      this.entries = tables.entries;
      this.files = tables.files;
      this.meta = tables.meta;
    } catch (error) {
      throw ioError(`cannot open the index of ${this.location}`, error, indexDir);
    }
    if (!this.readOnly) removeStaleTemporaries(this.tmpDir);
    this.quota =
      options.availableDisk === undefined
        ? undefined
        : new DiskQuota(options.availableDisk, () => this.entries);
    this.evict = options.onDiskFull === 'evict';
    this.onEvict = options.onEvict;
  }

  get(key: Uint8Array): StoredValue | undefined {
    this.assertOpen();
    // A file can be replaced by another process between reading the entry and opening the file;
    // the entry is then read again. Twice more is plenty: every retry means a commit happened.
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = this.readRecord(key);
      if (record === undefined) return undefined;
      const { kind, codec, checksum } = record;
      this.quota?.touch(key);
      if (record.file === undefined) return { kind, codec, data: record.data, checksum };
      const file = path.join(this.location, record.file);
      const data = readValueFile(file, record.byteLength, checksum);
      if (data !== undefined) return { kind, codec, data, checksum };
      this.root.resetReadTxn();
    }
    const record = this.readRecord(key);
    const file = record?.file === undefined ? undefined : path.join(this.location, record.file);
    throw new ChestError(ErrorCode.MISSING_FILE, `the value file ${file ?? '?'} is missing`, {
      ...(file === undefined ? {} : { file }),
    });
  }

  has(key: Uint8Array): boolean {
    this.assertOpen();
    return key.byteLength <= MAX_KEY_BYTES && this.entries.doesExist(asBuffer(key));
  }

  info(key: Uint8Array): EntryInfo | undefined {
    this.assertOpen();
    const record = this.readRecord(key);
    if (record === undefined) return undefined;
    return record.file === undefined
      ? { kind: record.kind, codec: record.codec, byteLength: record.data.byteLength, file: undefined }
      : {
          kind: record.kind,
          codec: record.codec,
          byteLength: record.byteLength,
          file: path.join(this.location, record.file),
        };
  }

  write(ops: readonly WriteOp[]): void {
    this.assertWritable();
    if (ops.length === 0) return;
    for (const op of ops) checkKeyLength(op.key);
    if (this.quota !== undefined) this.makeRoom(this.quota, ops);
    // Large values go to temporary files before the transaction, so that the index's write lock is
    // held only for renames and small writes.
    const placements: Placement[] = [];
    try {
      for (const op of ops)
        placements.push(this.stage(asBuffer(op.key), op.type === 'put' ? op.value : undefined));
    } catch (error) {
      discard(placements);
      throw error;
    }
    this.apply(placements);
  }

  /**
   * Replaces a key's value with `fn(current)` in one write transaction, which LMDB serializes across
   * processes: no other writer commits between the read and the write. `undefined` from `fn` deletes.
   */
  modify(key: Uint8Array, fn: (current: StoredValue | undefined) => StoredValue | undefined): void {
    this.assertWritable();
    checkKeyLength(key);
    const k = asBuffer(key);
    // An error thrown by `fn` aborts the transaction and reaches the caller as it is.
    let thrown: { error: unknown } | undefined;
    try {
      this.apply([], () => {
        let next: StoredValue | undefined;
        try {
          next = fn(this.get(k));
        } catch (error) {
          thrown = { error };
          throw error;
        }
        return [this.stage(k, next)];
      });
    } catch (error) {
      throw thrown === undefined ? error : thrown.error;
    }
  }

  /** Prepares one change: an inline entry, a value file under a temporary name, or (neither) a delete. */
  private stage(key: Buffer, value: StoredValue | undefined): Placement {
    if (value === undefined) return { key, record: undefined, file: undefined };
    const { kind, codec, data } = value;
    if (data.byteLength <= this.inlineThreshold) {
      return { key, record: encodeInline(kind, codec, data), file: undefined };
    }
    const tmp = this.tempName();
    writeNewFile(tmp, data, false);
    return {
      key,
      record: undefined,
      file: { tmp, kind, codec, checksum: crc32(data), byteLength: data.byteLength },
    };
  }

  /**
   * Copies entries of another store of this kind, as they are: inline entries byte for byte, value
   * files by hard link where the file system allows (else by copy). Keys absent from `source` are
   * skipped. Checksums travel with the entries, so nothing is decoded.
   */
  importFrom(source: LmdbStore, keys: Iterable<Uint8Array>): void {
    this.assertWritable();
    source.assertOpen();
    let placements: Placement[] = [];
    try {
      for (const k of keys) {
        const key = Buffer.from(k);
        const record = source.readRecord(key);
        if (record === undefined) continue;
        if (record.file === undefined) {
          placements.push({
            key,
            record: encodeInline(record.kind, record.codec, record.data),
            file: undefined,
          });
        } else {
          const tmp = this.tempName();
          linkOrCopy(path.join(source.location, record.file), tmp);
          placements.push({ key, record: undefined, file: { ...record, tmp } });
        }
        if (placements.length >= 1024) {
          this.apply(placements);
          placements = [];
        }
      }
    } catch (error) {
      discard(placements);
      throw ioError(`cannot import from ${source.location}`, error);
    }
    this.apply(placements);
  }

  /** Commits staged changes in one transaction; on failure nothing is committed and staged files are removed. */
  private apply(staged: Placement[], within?: () => Placement[]): void {
    if (staged.length === 0 && within === undefined) return;
    this.writtenSinceFlush = true;
    let placements = staged;
    let delta = 0;
    const placed: string[] = [];
    const replaced: string[] = [];
    try {
      this.transact(() => {
        if (within !== undefined) placements = within();
        for (const p of placements) {
          if (this.quota !== undefined) {
            const before = this.entries.getBinaryFast(p.key);
            if (before !== undefined) delta -= entryBytes(p.key, before);
          }
          const old = this.rawRecord(p.key);
          // The new name is chosen while the old file is still registered, so the two differ and
          // a reader of the old entry never finds the new value under the old name.
          const name = p.file === undefined ? undefined : this.freeName(this.fileName(p.key));
          if (old?.file !== undefined) {
            this.files.removeSync(old.file);
            replaced.push(old.file);
          }
          if (p.record !== undefined) this.entries.putSync(p.key, p.record);
          else if (p.file === undefined || name === undefined) {
            if (old !== undefined) this.entries.removeSync(p.key);
          } else {
            const { tmp, kind, codec, checksum, byteLength } = p.file;
            const target = path.join(this.location, name);
            this.ensureDir(path.dirname(target));
            fs.renameSync(tmp, target);
            placed.push(name);
            this.files.putSync(name, p.key);
            this.entries.putSync(p.key, encodeFile(kind, codec, checksum, byteLength, name));
          }
          if (this.quota !== undefined) {
            const after = this.entries.getBinaryFast(p.key);
            if (after !== undefined) delta += entryBytes(p.key, after);
          }
        }
      }, COMMIT_NO_FLUSH);
    } catch (error) {
      // Nothing was committed: the files renamed into place are referenced by no entry.
      for (const name of placed) removeQuietly(path.join(this.location, name));
      discard(placements);
      throw indexError(`cannot write to the index of ${this.location}`, error, this.location);
    }
    this.quota?.adjust(delta);
    if (this.quota !== undefined) for (const p of placements) this.quota.touch(p.key);
    for (const name of placed) this.noteUnsynced(path.join(this.location, name));
    // A name given up early in the batch may have been taken again by a later entry of it.
    const taken = new Set(placed);
    this.removeFiles(replaced.filter((name) => !taken.has(name)));
  }

  delete(key: Uint8Array): boolean {
    this.assertWritable();
    if (key.byteLength > MAX_KEY_BYTES) return false;
    this.writtenSinceFlush = true;
    const k = asBuffer(key);
    let existed = false;
    let file: string | undefined;
    try {
      this.transact(() => {
        const raw = this.entries.getBinaryFast(k);
        if (raw !== undefined) this.quota?.adjust(-entryBytes(k, raw));
        const old = this.rawRecord(k);
        if (old === undefined) return;
        existed = true;
        this.entries.removeSync(k);
        if (old.file !== undefined) {
          file = old.file;
          this.files.removeSync(old.file);
        }
      }, COMMIT_NO_FLUSH);
    } catch (error) {
      throw indexError(`cannot delete from the index of ${this.location}`, error, this.location);
    }
    if (file !== undefined) this.removeFiles([file]);
    return existed;
  }

  count(): number {
    this.assertOpen();
    return (this.entries.getStats() as { entryCount: number }).entryCount;
  }

  *keys(range: KeyRange = {}): Generator<Uint8Array> {
    this.assertOpen();
    const options: { start?: Buffer; end?: Buffer; limit?: number } = {};
    if (range.start !== undefined) options.start = asBuffer(range.start);
    if (range.end !== undefined) options.end = asBuffer(range.end);
    if (range.limit !== undefined) options.limit = range.limit;
    for (const key of this.entries.getKeys(options)) yield key;
  }

  clear(): void {
    this.assertWritable();
    this.writtenSinceFlush = true;
    const names: string[] = [];
    try {
      this.transact(() => {
        for (const name of this.files.getKeys({})) names.push(name);
        this.entries.clearSync();
        this.files.clearSync();
      }, COMMIT_NO_FLUSH);
    } catch (error) {
      throw indexError(`cannot clear ${this.location}`, error, this.location);
    }
    this.quota?.recount();
    this.removeFiles(names);
  }

  readMeta(): ChestMeta | undefined {
    this.assertOpen();
    const text = this.meta.get('chest');
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as ChestMeta;
    } catch (error) {
      throw new ChestError(ErrorCode.CORRUPT, `the manifest of ${this.location} is damaged`, {
        cause: error,
      });
    }
  }

  writeMeta(meta: ChestMeta): void {
    this.assertWritable();
    try {
      this.transact(() => this.meta.putSync('chest', JSON.stringify(meta)), COMMIT_AND_FLUSH);
    } catch (error) {
      throw indexError(`cannot write the manifest of ${this.location}`, error, this.location);
    }
  }

  flush(): void {
    this.assertOpen();
    if (this.readOnly || !this.writtenSinceFlush) return;
    if (this.lostFiles.size > 0) this.rewriteLost();
    // Order matters: file data, then the folder entries naming the files, then the index that
    // points at them. An index that became durable before its files would point at nothing.
    const files = this.unsyncedFiles;
    this.unsyncedFiles = [];
    for (let i = 0; i < files.length; i++) {
      try {
        syncFile(files[i]!);
      } catch (error) {
        // After a failed fsync the kernel may have dropped the data while the file reads back
        // fine from its cache: syncing again would "succeed" over lost data. The file is rewritten
        // by the next flush instead (a new file, synced on its own), and this one counts as lost.
        this.unsyncedFiles.push(...files.slice(i));
        this.lostFiles.add(files[i]!);
        throw error;
      }
    }
    for (const dir of this.unsyncedDirs) syncDir(dir);
    this.unsyncedDirs.clear();
    try {
      // An empty transaction commits nothing and so syncs nothing: record the flush itself.
      this.transact(() => this.meta.putSync('flushed', String(Date.now())), COMMIT_AND_FLUSH);
      this.writtenSinceFlush = false;
    } catch (error) {
      throw indexError(`cannot flush the index of ${this.location}`, error, this.location);
    }
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      closeIndex(this.root);
    }
  }

  /**
   * Makes room for `ops` under the quota: fails with `CHEST_DISK_FULL`, or (evicting) deletes the
   * least recently used other entries in one transaction and names them to `onEvict`.
   */
  private makeRoom(quota: DiskQuota, ops: readonly WriteOp[]): void {
    let incoming = 0;
    const keep = new Set<string>();
    for (const op of ops) {
      const key = asBuffer(op.key);
      keep.add(key.toString('hex'));
      const old = this.entries.getBinaryFast(key);
      if (old !== undefined) incoming -= entryBytes(key, old);
      // A record's header, and a file entry's length and name: a fair upper bound.
      if (op.type === 'put') incoming += key.byteLength + op.value.data.byteLength + HEADER + 8 + 256;
    }
    const used = quota.used();
    let need = used + incoming - quota.limit;
    if (need <= 0) return;
    const full = (): ChestError =>
      new ChestError(
        ErrorCode.DISK_FULL,
        `${this.location} would exceed its disk quota of ${quota.limit} bytes (${used} in use, ${incoming} more needed)`,
      );
    if (!this.evict) throw full();
    const victims: Buffer[] = [];
    for (const key of quota.oldest(keep)) {
      const record = this.entries.getBinaryFast(key);
      if (record === undefined) continue;
      need -= entryBytes(key, record);
      victims.push(key);
      if (need <= 0) break;
    }
    if (need > 0) throw full();
    const names: string[] = [];
    try {
      this.transact(() => {
        for (const key of victims) {
          const old = this.rawRecord(key);
          if (old === undefined) continue;
          this.entries.removeSync(key);
          if (old.file !== undefined) {
            this.files.removeSync(old.file);
            names.push(old.file);
          }
        }
      }, COMMIT_NO_FLUSH);
    } catch (error) {
      throw indexError(`cannot evict from ${this.location}`, error, this.location);
    }
    this.writtenSinceFlush = true;
    quota.recount();
    for (const key of victims) quota.forget(key);
    this.removeFiles(names);
    this.onEvict?.(victims);
  }

  /**
   * Writes each lost file again from its entry's bytes as the page cache still holds them (checked
   * against the entry's checksum), to a new file synced before it replaces the old name.
   */
  private rewriteLost(): void {
    for (const file of this.lostFiles) {
      const name = path.relative(this.location, file).split(path.sep).join('/');
      const key = this.files.get(name);
      const record = key === undefined ? undefined : this.readRecord(key);
      if (record?.file !== name) {
        // Replaced or deleted since: nothing refers to the lost file any more.
        this.lostFiles.delete(file);
        this.unsyncedFiles = this.unsyncedFiles.filter((f) => f !== file);
        continue;
      }
      const data = readValueFile(file, record.byteLength, record.checksum);
      if (data === undefined) throw new ChestError(ErrorCode.MISSING_FILE, `${file} is missing`, { file });
      const tmp = this.tempName();
      writeNewFile(tmp, data, true);
      try {
        this.transact(() => fs.renameSync(tmp, file), COMMIT_NO_FLUSH);
      } catch (error) {
        removeQuietly(tmp);
        throw ioError(`cannot replace ${file}`, error, file);
      }
      this.lostFiles.delete(file);
      this.unsyncedFiles = this.unsyncedFiles.filter((f) => f !== file);
      this.unsyncedDirs.add(path.dirname(file));
    }
  }

  orphanFiles(): string[] {
    this.assertOpen();
    return orphanFiles(this.access());
  }

  repair(
    recheck: readonly Uint8Array[],
    drop: readonly Uint8Array[],
  ): { dropped: StoreDamage[]; removedFiles: string[] } {
    this.assertWritable();
    this.writtenSinceFlush = true;
    this.quota?.recount();
    try {
      return repairIndex(this.access(), recheck, drop);
    } catch (error) {
      throw indexError(`cannot repair ${this.location}`, error, this.location);
    }
  }

  /**
   * Removes orphan files, then rewrites the index compactly (see compact.ts): only when no other
   * store in this process and no other process has the index open, else `CHEST_LOCKED`.
   */
  compact(): { bytesBefore: number; bytesAfter: number; removedFiles: string[] } {
    this.assertWritable();
    if (indexUsers(this.indexDir) > 1) {
      throw new ChestError(
        ErrorCode.LOCKED,
        `cannot compact ${this.location}: another chest in this process has it open`,
      );
    }
    const access = this.access();
    let removedFiles: string[];
    try {
      removedFiles = access.transact(() => removeOrphans(access));
    } catch (error) {
      throw indexError(`cannot remove orphan files of ${this.location}`, error, this.location);
    }
    this.writtenSinceFlush = true;
    this.flush();
    closeIndex(this.root);
    try {
      return { ...compactIndex(this.indexDir), removedFiles };
    } finally {
      const tables = openIndex(this.indexDir, false);
      this.root = tables.root;
      this.entries = tables.entries;
      this.files = tables.files;
      this.meta = tables.meta;
    }
  }

  private access(): IndexAccess {
    return {
      location: this.location,
      indexDir: this.indexDir,
      entries: this.entries,
      files: this.files,
      transact: (action) => this.transact(action, COMMIT_NO_FLUSH),
    };
  }

  /** Runs `action` in one write transaction of the index (all its tables). */
  private transact<T>(action: () => T, flags: number): T {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- widens the flags to a number
    const transactionSync = this.root.transactionSync.bind(this.root) as SyncTransaction;
    return transactionSync(action, flags);
  }

  /** The entry for a key, decoded; `undefined` when absent. */
  private readRecord(key: Uint8Array): IndexRecord | undefined {
    if (key.byteLength > MAX_KEY_BYTES) return undefined;
    const bytes = this.entries.getBinaryFast(asBuffer(key));
    return bytes === undefined ? undefined : decodeRecord(bytes, this.location);
  }

  /** Inside a write transaction: the entry about to be replaced, without checking its data. */
  private rawRecord(key: Buffer): IndexRecord | undefined {
    const bytes = this.entries.getBinaryFast(key);
    if (bytes === undefined) return undefined;
    if (bytes[0] === 0) return INLINE;
    try {
      return decodeRecord(bytes, this.location);
    } catch {
      // A damaged entry must not stop the write that replaces it.
      return INLINE;
    }
  }

  /** A name for a new value file that no entry holds: the preferred one if free, else a variant. */
  private freeName(preferred: string): string {
    let name = preferred;
    // Nor a name something is already at: an orphan (a crash can leave one, renamed into place by a
    // transaction that never committed), or on a file system that ignores case, the file of a key
    // whose name differs only in case. Never replace it.
    while (this.files.doesExist(name) || exists(path.join(this.location, name))) {
      name = `${preferred}~${randomBytes(4).toString('hex')}`;
    }
    return name;
  }

  private tempName(): string {
    return path.join(this.tmpDir, `${process.pid}-${(this.tmpCounter++).toString(36)}.tmp`);
  }

  private ensureDir(dir: string): void {
    if (this.knownDirs.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    assertNoSymlink(this.location, dir);
    this.knownDirs.add(dir);
    this.unsyncedDirs.add(path.dirname(dir));
  }

  private noteUnsynced(file: string): void {
    this.unsyncedFiles.push(file);
    this.unsyncedDirs.add(path.dirname(file));
  }

  private removeFiles(names: readonly string[]): void {
    for (const name of names) {
      const file = path.join(this.location, name);
      removeQuietly(file);
      this.unsyncedDirs.add(path.dirname(file));
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ChestError(ErrorCode.CLOSED, `the store at ${this.location} is closed`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) throw new ChestError(ErrorCode.READ_ONLY, `${this.location} is open read-only`);
  }
}

/** A change staged for `apply`: a ready inline entry, a file waiting under a temporary name, or (neither) a delete. */
interface Placement {
  readonly key: Buffer;
  readonly record: Buffer | undefined;
  readonly file:
    { tmp: string; kind: number; codec: number; checksum: number; byteLength: number } | undefined;
}

function discard(placements: readonly Placement[]): void {
  for (const p of placements) if (p.file !== undefined) removeQuietly(p.file.tmp);
}

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    // Another file system, or one without hard links.
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
  }
}

/** True when anything (a file, a folder, a dangling symlink) is at `file`. */
function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * A hostile chest could hold a symlink where a folder of value files goes, and make a writer put
 * files outside the chest: every folder between the chest and `dir` must be a real one.
 */
function assertNoSymlink(root: string, dir: string): void {
  let current = dir;
  while (current.length > root.length && current.startsWith(root)) {
    if (fs.lstatSync(current).isSymbolicLink()) {
      throw new ChestError(ErrorCode.CORRUPT, `${current} is a symlink; a chest's folders never are`, {
        file: current,
      });
    }
    current = path.dirname(current);
  }
}

function checkKeyLength(key: Uint8Array): void {
  if (key.byteLength > MAX_KEY_BYTES) {
    throw new ChestError(
      ErrorCode.KEY_TOO_LONG,
      `a key of ${key.byteLength} encoded bytes is longer than the index's limit of ${MAX_KEY_BYTES}`,
    );
  }
}

const INLINE: IndexRecord = { kind: 0, codec: 0, checksum: 0, file: undefined, data: new Uint8Array(0) };

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
