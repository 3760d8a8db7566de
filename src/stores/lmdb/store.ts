import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Database, RootDatabase } from 'lmdb';
import { closeIndex, openIndex } from './env.js';
import { ChestError, ErrorCode, ioError } from '../../errors.js';
import type {
  ChestMeta,
  EntryInfo,
  KeyRange,
  StoreFeatures,
  StoredValue,
  SyncStore,
  WriteOp,
} from '../types.js';
import { decodeRecord, encodeFile, encodeInline, type IndexRecord } from './record.js';
import {
  readValueFile,
  readValueFileAsync,
  removeQuietly,
  removeStaleTemporaries,
  syncDir,
  syncFile,
  syncPathAsync,
  writeNewFile,
  writeNewFileAsync,
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

  private readonly root: RootDatabase;
  private readonly entries: Database<Buffer, Buffer>;
  private readonly files: Database<Buffer, string>;
  private readonly meta: Database<string, string>;
  private readonly tmpDir: string;
  private readonly inlineThreshold: number;
  private readonly fileName: (key: Uint8Array) => string;
  private readonly knownDirs = new Set<string>();
  private readonly readOnly: boolean;
  /** Files and folders written since the last flush, to be made durable by it. */
  private unsyncedFiles: string[] = [];
  private readonly unsyncedDirs = new Set<string>();
  private tmpCounter = 0;
  private writtenSinceFlush = false;
  private closed = false;

  constructor(options: LmdbStoreOptions) {
    this.location = path.resolve(options.path);
    this.inlineThreshold = options.inlineThreshold;
    this.fileName = options.fileName;
    this.readOnly = options.readOnly ?? false;
    const indexDir = path.join(this.location, INDEX_DIR);
    this.tmpDir = path.join(indexDir, 'tmp');
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
  }

  get(key: Uint8Array): StoredValue | undefined {
    this.assertOpen();
    // A file can be replaced by another process between reading the entry and opening the file;
    // the entry is then read again. Twice more is plenty: every retry means a commit happened.
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = this.readRecord(key);
      if (record === undefined) return undefined;
      const { kind, codec, checksum } = record;
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

  /**
   * `get` for the asynchronous chest: a value file is read through `fs/promises`; an index entry is
   * read from the memory map as `get` does (about a microsecond, so it stays synchronous).
   */
  async getAsync(key: Uint8Array): Promise<StoredValue | undefined> {
    this.assertOpen();
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = this.readRecord(key);
      if (record === undefined) return undefined;
      const { kind, codec, checksum } = record;
      if (record.file === undefined) return { kind, codec, data: record.data, checksum };
      const file = path.join(this.location, record.file);
      const data = await readValueFileAsync(file, record.byteLength, checksum);
      if (data !== undefined) return { kind, codec, data, checksum };
      this.assertOpen();
      this.root.resetReadTxn();
    }
    // Replaced three times while being read: settle it the synchronous way (it reports a missing file).
    return this.get(key);
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

  /** `write` with large values written to their temporary files through `fs/promises`; the commit is as in `write`. */
  async writeAsync(ops: readonly WriteOp[]): Promise<void> {
    this.assertWritable();
    if (ops.length === 0) return;
    for (const op of ops) checkKeyLength(op.key);
    const placements: Placement[] = [];
    try {
      for (const op of ops) {
        const value = op.type === 'put' ? op.value : undefined;
        const placement = this.plan(asBuffer(op.key), value);
        placements.push(placement);
        if (placement.file !== undefined) await writeNewFileAsync(placement.file.tmp, value!.data);
      }
      this.assertWritable();
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
    const placement = this.plan(key, value);
    if (placement.file !== undefined) writeNewFile(placement.file.tmp, value!.data, false);
    return placement;
  }

  /** What `stage` does, but the file under its temporary name is left for the caller to write. */
  private plan(key: Buffer, value: StoredValue | undefined): Placement {
    if (value === undefined) return { key, record: undefined, file: undefined };
    const { kind, codec, data } = value;
    if (data.byteLength <= this.inlineThreshold) {
      return { key, record: encodeInline(kind, codec, data), file: undefined };
    }
    const tmp = this.tempName();
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
    const placed: string[] = [];
    const replaced: string[] = [];
    try {
      this.transact(() => {
        if (within !== undefined) placements = within();
        for (const p of placements) {
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
        }
      }, COMMIT_NO_FLUSH);
    } catch (error) {
      // Nothing was committed: the files renamed into place are referenced by no entry.
      for (const name of placed) removeQuietly(path.join(this.location, name));
      discard(placements);
      throw ioError(`cannot write to the index of ${this.location}`, error);
    }
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
      throw ioError(`cannot delete from the index of ${this.location}`, error);
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
      throw ioError(`cannot clear ${this.location}`, error);
    }
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
      throw ioError(`cannot write the manifest of ${this.location}`, error);
    }
  }

  flush(): void {
    this.assertOpen();
    if (this.readOnly || !this.writtenSinceFlush) return;
    // Order matters: file data, then the folder entries naming the files, then the index that
    // points at them. An index that became durable before its files would point at nothing.
    for (const file of this.unsyncedFiles) syncFile(file);
    this.unsyncedFiles = [];
    for (const dir of this.unsyncedDirs) syncDir(dir);
    this.unsyncedDirs.clear();
    this.commitFlush();
  }

  /**
   * `flush` with files and folders synced through `fs/promises`. The final synchronous commit of the
   * index stays synchronous (lmdb-js's asynchronous commits are not used by this store).
   */
  async flushAsync(): Promise<void> {
    this.assertOpen();
    if (this.readOnly || !this.writtenSinceFlush) return;
    // Writes made while syncing add files of their own: loop until none is left unsynced.
    while (this.unsyncedFiles.length > 0 || this.unsyncedDirs.size > 0) {
      const files = this.unsyncedFiles;
      const dirs = [...this.unsyncedDirs];
      this.unsyncedFiles = [];
      this.unsyncedDirs.clear();
      for (const file of files) await syncPathAsync(file);
      for (const dir of dirs) await syncPathAsync(dir);
      this.assertOpen();
    }
    this.commitFlush();
  }

  private commitFlush(): void {
    try {
      // An empty transaction commits nothing and so syncs nothing: record the flush itself.
      this.transact(() => this.meta.putSync('flushed', String(Date.now())), COMMIT_AND_FLUSH);
      this.writtenSinceFlush = false;
    } catch (error) {
      throw ioError(`cannot flush the index of ${this.location}`, error);
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
    while (this.files.doesExist(name)) {
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
