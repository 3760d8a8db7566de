import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { crc32 } from '../../values/crc32.js';
import type { Database, RootDatabase } from 'lmdb';
import { closeIndex, indexUsers, openIndex } from './env.js';
import { compactIndex, otherReaders } from './compact.js';
import { indexError, SpaceGuard } from './disk.js';
import { DiskQuota, entryBytes } from './quota.js';
import { orphanFiles, removeOrphans, repairIndex, TMP_DIR, type IndexAccess } from './verify.js';
import { ChestError, ErrorCode, ioError, isChestError } from '../../errors.js';
import type {
  ChangeFeed,
  ChestMeta,
  EntryInfo,
  KeyRange,
  StoreFeatures,
  StoreDamage,
  StoredValue,
  StructureTable,
  SyncStore,
  WriteOp,
} from '../types.js';
import { decodeStructures, encodeStructures, STRUCTURES_KEY } from './structures.js';
import { WriteBehind, type Outcome } from './write-behind.js';
import { COMMIT_AND_FLUSH, COMMIT_NO_FLUSH } from './txn-flags.js';
import {
  decodeRecord,
  encodeFile,
  encodeInline,
  HEADER,
  readStamp,
  setStamp,
  type IndexRecord,
} from './record.js';
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

/**
 * @example
 * ```ts
 * import { Chest, LmdbStore, type LmdbStoreOptions } from 'spillchest';
 *
 * new Chest({ path: './counted' }).set('a', 1).close();
 * const options: LmdbStoreOptions = { path: './counted', inlineThreshold: 0, readOnly: true, fileName: () => 'unused' };
 * const store = new LmdbStore(options);
 * console.log(store.count()); // 1
 * store.close();
 * ```
 */
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

type SyncTransaction = <T>(action: () => T, flags: number) => T;
/** The parts of lmdb-js's native environment used here; its typings do not declare them. */
interface NativeEnv {
  getWriteTxnId(): number;
  info(): { lastTxnId: number };
}
/**
 * What the `files` table maps a value file's name to once its entry no longer uses it: the name is
 * kept from reuse until the file is removed (an encoded key is never empty, so this is no key).
 */
const GIVEN_UP = Buffer.alloc(0);
/** Numbers the temporary files of every store in this thread. */
let tempSerial = 0;
/** LMDB's limit on key length with lmdb-js's default page size. */
export const MAX_KEY_BYTES = 1978;

/**
 * The default store: an LMDB index holding every key with its entry (small values inline), and a
 * file per large value.
 *
 * A large value is written to a temporary file first, then renamed to its final name inside the
 * index's write transaction, which LMDB serializes across processes; the file it replaces is removed
 * only after the commit. Each version of a value gets a name no other entry holds (the `files`
 * table maps names to keys, and keeps a replaced file's name taken until the file is removed). A
 * reader whose entry is outdated may find the file gone, or a newer version under its name: it
 * then looks the entry up again.
 *
 * @example
 * ```ts
 * import { LmdbStore } from 'spillchest';
 *
 * const store = new LmdbStore({ path: './raw', inlineThreshold: 1024, fileName: () => 'value' });
 * store.write([{ type: 'put', key: Buffer.from('k'), value: { kind: 0, codec: 0, data: Buffer.from('hi') } }]);
 * console.log(store.get(Buffer.from('k'))?.data.toString()); // hi
 * store.close();
 * ```
 */
export class LmdbStore implements SyncStore {
  readonly features: StoreFeatures = {
    sync: true,
    persistent: true,
    processes: true,
    machines: false,
    ordered: true,
    files: true,
    maxKeyBytes: MAX_KEY_BYTES,
  };
  readonly location: string;

  // Replaced only by `compact`, which reopens the index.
  private root: RootDatabase;
  private entries: Database<Buffer, Buffer>;
  private files: Database<Buffer, string>;
  private meta: Database<string, string>;
  private readonly indexDir: string;
  private gated: <T>(action: () => T) => T;
  private readonly space: SpaceGuard;
  /** Bytes of records the current write transaction puts (for `space`). */
  private txnBytes = 0;
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
  private readonly quota: DiskQuota | undefined;
  private readonly evict: boolean;
  private readonly onEvict: ((keys: Uint8Array[]) => void) | undefined;
  private writtenSinceFlush = false;
  private closed = false;
  /** Names of value files this store gave up, still registered as such in the `files` table. */
  private givenUp: string[] = [];
  /** Id of the write transaction running now, 0 outside one. */
  private txnId = 0;
  /** Open stores on this index in this process, all threads together (lmdb-js shares the memory). */
  private opens: Int32Array;
  // Both replaced only by `compact`, which reopens the index.
  private feed: LmdbChangeFeed;
  /** The spill thread (write-behind.ts), started by the first `spillWriter()`. */
  private behind: WriteBehind | undefined;
  /** No more batches for the spill thread: one failed, or it could not start. */
  private behindOff = false;
  /** What became of the batches handed to the spill thread, for the chest's next `settleBehind`. */
  private behindDone: Outcome[] = [];

  /** How chests on this index see commits by other processes and chests. */
  get changes(): ChangeFeed {
    return this.feed;
  }

  constructor(options: LmdbStoreOptions) {
    this.location = path.resolve(options.path);
    this.inlineThreshold = options.inlineThreshold;
    this.fileName = options.fileName;
    this.readOnly = options.readOnly ?? false;
    const indexDir = path.join(this.location, INDEX_DIR);
    this.indexDir = indexDir;
    this.space = new SpaceGuard(path.join(indexDir, 'data.mdb'));
    this.tmpDir = path.join(indexDir, TMP_DIR);
    try {
      if (!this.readOnly) fs.mkdirSync(this.tmpDir, { recursive: true, mode: 0o755 });
      const tables = openIndex(indexDir, this.readOnly);
      this.root = tables.root;
      this.entries = tables.entries;
      this.files = tables.files;
      this.meta = tables.meta;
      this.gated = tables.gated;
    } catch (error) {
      throw ioError(`cannot open the index of ${this.location}`, error, indexDir);
    }
    [this.opens, this.feed] = this.watch();
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
    return this.getNow(key);
  }

  /**
   * `get` without waiting for the batches in flight to the spill thread, for a key the caller
   * knows is in none of them (their commits cannot change its entry). Those that have finished
   * are collected first, so that the read sees the newest commits it can.
   *
   * @internal For `Chest`.
   */
  getBeside(key: Uint8Array): StoredValue | undefined {
    this.checkOpen();
    if (this.behind !== undefined && this.behind.inFlight > 0) this.behind.collect();
    return this.getNow(key);
  }

  private getNow(key: Uint8Array): StoredValue | undefined {
    // A file can be replaced by another process between reading the entry and opening the file,
    // and its name even given to a newer version: the entry is then read again, from the newest
    // commit. Every retry means other commits happened; a few are plenty.
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = this.readRecord(key);
      if (record === undefined) return undefined;
      this.quota?.touch(key);
      // An inline entry is a StoredValue already: no second object for every read.
      if (record.file === undefined) return record;
      const { kind, codec, checksum, version } = record;
      const file = path.join(this.location, record.file);
      let data: Buffer | undefined;
      try {
        data = readValueFile(file, record.byteLength, checksum);
      } catch (error) {
        if (!isChestError(error, ErrorCode.CORRUPT)) throw error;
        if (!this.sameVersion(key, record)) continue;
        throw error;
      }
      if (data !== undefined) return { kind, codec, data, checksum, version };
      this.root.resetReadTxn();
    }
    const record = this.readRecord(key);
    const file = record?.file === undefined ? undefined : path.join(this.location, record.file);
    throw new ChestError(ErrorCode.MISSING_FILE, `the value file ${file ?? '?'} is missing`, {
      ...(file === undefined ? {} : { file }),
    });
  }

  /**
   * After a value file failed its checksum: damage only if the entry, read again from the newest
   * commit, still names this file as this version; else another process replaced it meanwhile.
   */
  private sameVersion(key: Uint8Array, record: IndexRecord): boolean {
    this.root.resetReadTxn();
    const again = this.readRecord(key);
    return again !== undefined && again.file === record.file && again.version === record.version;
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
      this.quota?.touch(key);
      if (record.file === undefined) return record;
      const { kind, codec, checksum, version } = record;
      const file = path.join(this.location, record.file);
      let data: Buffer | undefined;
      try {
        data = await readValueFileAsync(file, record.byteLength, checksum);
      } catch (error) {
        if (!isChestError(error, ErrorCode.CORRUPT)) throw error;
        this.assertOpen();
        if (!this.sameVersion(key, record)) continue;
        throw error;
      }
      if (data !== undefined) return { kind, codec, data, checksum, version };
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

  /** `write` with large values written to their temporary files through `fs/promises`; the commit is as in `write`. */
  async writeAsync(ops: readonly WriteOp[]): Promise<void> {
    this.assertWritable();
    if (ops.length === 0) return;
    for (const op of ops) checkKeyLength(op.key);
    if (this.quota !== undefined) this.makeRoom(this.quota, ops);
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
    // A checksum the caller computed from these bytes is used as it is: one crc32 per value written.
    const checksum = value.checksum ?? crc32(data);
    if (data.byteLength <= this.inlineThreshold) {
      return { key, record: encodeInline(kind, codec, data, checksum), file: undefined };
    }
    const tmp = this.tempName();
    return {
      key,
      record: undefined,
      file: { tmp, kind, codec, checksum, byteLength: data.byteLength },
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
            record: encodeInline(record.kind, record.codec, record.data, record.checksum),
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
    let obsolete: string[] = [];
    try {
      this.transact(() => {
        if (within !== undefined) placements = within();
        // Only an entry that owns a value file must be read before it is replaced, and every value
        // file is registered in `files` from the commit that places it until it is removed: while
        // that table is empty (small values only) the read of each old entry is skipped.
        let filesExist = this.hasFiles();
        for (const p of placements) {
          if (this.quota !== undefined) {
            const before = this.entries.getBinaryFast(p.key);
            if (before !== undefined) delta -= entryBytes(p.key, before);
          }
          const old = filesExist ? this.rawRecord(p.key) : undefined;
          // The new name is chosen while the old file is still registered, so the two differ and
          // a reader of the old entry never finds the new value under the old name.
          const name = p.file === undefined ? undefined : this.freeName(this.fileName(p.key));
          if (old?.file !== undefined) {
            this.files.putSync(old.file, GIVEN_UP);
            replaced.push(old.file);
          }
          if (p.record !== undefined) {
            setStamp(p.record, this.txnId);
            this.entries.putSync(p.key, p.record);
          } else if (p.file === undefined || name === undefined) {
            if (old !== undefined || !filesExist) this.entries.removeSync(p.key);
          } else {
            filesExist = true;
            const { tmp, kind, codec, checksum, byteLength } = p.file;
            const target = path.join(this.location, name);
            this.ensureDir(path.dirname(target));
            fs.renameSync(tmp, target);
            placed.push(name);
            this.files.putSync(name, p.key);
            this.entries.putSync(p.key, encodeFile(kind, codec, checksum, byteLength, name, this.txnId));
          }
          if (this.quota !== undefined) {
            const after = this.entries.getBinaryFast(p.key);
            if (after !== undefined) delta += entryBytes(p.key, after);
          }
          this.txnBytes += p.key.byteLength + (p.record?.byteLength ?? 64);
        }
        // The names this batch gave up, but not one a later entry of it took again; a file placed
        // and replaced within the batch is among them.
        obsolete = [...new Set(replaced)].filter((name) => this.files.getBinaryFast(name)?.length === 0);
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
    this.removeFiles(obsolete);
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
          this.files.putSync(old.file, GIVEN_UP);
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
        for (const name of names) this.files.putSync(name, GIVEN_UP);
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
    if (text === undefined) {
      // A new chest has neither. Entries without a manifest are a chest that lost it: taken for a
      // new one, it would be given the default serializer and its values read with the wrong one.
      if (this.count() === 0 && !this.hasFiles()) return undefined;
      throw new ChestError(
        ErrorCode.CORRUPT,
        `the manifest of ${this.location} is missing, but it holds entries`,
      );
    }
    let meta: unknown;
    try {
      meta = JSON.parse(text);
    } catch (error) {
      throw new ChestError(ErrorCode.CORRUPT, `the manifest of ${this.location} is damaged`, {
        cause: error,
      });
    }
    if (!isChestMeta(meta)) {
      throw new ChestError(
        ErrorCode.CORRUPT,
        `the manifest of ${this.location} is damaged: ${text.slice(0, 200)}`,
      );
    }
    return meta;
  }

  writeMeta(meta: ChestMeta): void {
    this.assertWritable();
    try {
      this.transact(() => this.meta.putSync('chest', JSON.stringify(meta)), COMMIT_AND_FLUSH);
    } catch (error) {
      throw indexError(`cannot write the manifest of ${this.location}`, error, this.location);
    }
  }

  /** Kept in the manifest table (see structures.ts), beside the manifest. */
  readonly structures: StructureTable = {
    read: () => {
      this.assertOpen();
      return decodeStructures(this.meta.get(STRUCTURES_KEY), this.location);
    },
    update: (accept, next) => {
      this.assertWritable();
      const run = (): boolean => {
        if (!accept(decodeStructures(this.meta.get(STRUCTURES_KEY), this.location))) return false;
        const text = encodeStructures(next);
        this.txnBytes += text.length * 3;
        this.meta.putSync(STRUCTURES_KEY, text);
        return true;
      };
      // Asked while packing a value inside a write transaction of this store (`modify`): the table
      // then commits with the entry that uses it.
      if (this.txnId !== 0) return run();
      try {
        // Synced: a value referring to a structure must never outlive it, and this happens at most
        // a few dozen times in a chest's life.
        return this.transact(run, COMMIT_AND_FLUSH);
      } catch (error) {
        throw indexError(`cannot record new record structures in ${this.location}`, error, this.location);
      }
    },
  };

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
      throw indexError(`cannot flush the index of ${this.location}`, error, this.location);
    }
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      // Its handles on the index go first: the last to close the environment closes it.
      this.stopBehind();
      Atomics.sub(this.opens, 0, 1);
      closeIndex(this.root);
    }
  }

  /**
   * The spill thread, for a batch of inline puts and deletes that the chest hands over instead of
   * calling `write` (see write-behind.ts); undefined when this store cannot take one now: read-only,
   * under a disk quota (its accounting reads each old entry), with value files still to release,
   * beside another store on the index in this process, or after a batch failed. Everything else
   * this store does first waits for the batches in flight, but `getBeside`.
   *
   * @internal For `Chest`.
   */
  spillWriter(): WriteBehind | undefined {
    if (this.closed || this.readOnly || this.behindOff || this.quota !== undefined || this.givenUp.length > 0)
      return undefined;
    // Another store on this index in this process: its chest checks commits it did not make.
    if (Atomics.load(this.opens, 0) > 1) return undefined;
    // Value files in the index: the thread would give every batch back (see the worker), so the
    // chest's own thread writes from now on. Checked here too, so that this is no failure.
    if (this.hasFiles()) {
      this.behindOff = true;
      return undefined;
    }
    if (this.behind === undefined) {
      try {
        this.behind = new WriteBehind(this.indexDir, (outcome) => {
          this.settledBehind(outcome);
        });
      } catch {
        this.behindOff = true;
        return undefined;
      }
    }
    if (!this.behind.usable) {
      this.behindOff = true;
      return undefined;
    }
    this.writtenSinceFlush = true;
    return this.behind;
  }

  /**
   * What became of the batches handed to the spill thread since the last call, oldest first; with
   * `wait`, after every batch in flight has finished.
   *
   * @internal For `Chest`.
   */
  settleBehind(wait: boolean): Outcome[] {
    if (this.behind !== undefined && this.behind.inFlight > 0) {
      if (wait) this.behind.drain();
      else this.behind.collect();
    }
    const done = this.behindDone;
    if (done.length > 0) this.behindDone = [];
    return done;
  }

  private settledBehind(outcome: Outcome): void {
    this.behindDone.push(outcome);
    if (outcome.ok) {
      // As after a commit of its own: reads see it, and the chest's coherence knows it.
      this.root.resetReadTxn();
      this.feed.committed(outcome.txn);
    } else this.behindOff = true;
  }

  private stopBehind(): void {
    this.behind?.stop();
    this.behind = undefined;
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
            this.files.putSync(old.file, GIVEN_UP);
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
   * Throws `CHEST_LOCKED` unless this store is the only one with its index open, in this process
   * and in any other: for what pulls the folder from under the others (a move).
   */
  assertSoleUser(what: string): void {
    this.assertOpen();
    this.assertSoleInProcess(what);
    const others = otherReaders(this.root);
    if (others.length > 0) {
      throw new ChestError(
        ErrorCode.LOCKED,
        `cannot ${what} ${this.location}: ${others.length === 1 ? 'process' : 'processes'} ${others.join(', ')} ${others.length === 1 ? 'has' : 'have'} it open`,
      );
    }
  }

  /** `CHEST_LOCKED` while another store in this process has the index open. */
  private assertSoleInProcess(what: string): void {
    if (indexUsers(this.indexDir) > 1) {
      throw new ChestError(
        ErrorCode.LOCKED,
        `cannot ${what} ${this.location}: another chest in this process has it open`,
      );
    }
  }

  /**
   * Removes orphan files, then rewrites the index compactly (see compact.ts): only when no other
   * store in this process and no other process has the index open, else `CHEST_LOCKED`.
   */
  compact(): { bytesBefore: number; bytesAfter: number; removedFiles: string[] } {
    this.assertWritable();
    // Other processes are checked by compactIndex, with the index opened for the copy.
    this.assertSoleInProcess('compact');
    const access = this.access();
    let removedFiles: string[];
    try {
      removedFiles = access.transact(() => removeOrphans(access));
    } catch (error) {
      throw indexError(`cannot remove orphan files of ${this.location}`, error, this.location);
    }
    this.writtenSinceFlush = true;
    this.flush();
    this.stopBehind();
    Atomics.sub(this.opens, 0, 1);
    closeIndex(this.root);
    try {
      return { ...compactIndex(this.indexDir), removedFiles };
    } finally {
      const tables = openIndex(this.indexDir, false);
      this.root = tables.root;
      this.entries = tables.entries;
      this.files = tables.files;
      this.meta = tables.meta;
      this.gated = tables.gated;
      [this.opens, this.feed] = this.watch();
    }
  }

  /** Counts this store among the index's users in this process and makes its change feed. */
  private watch(): [Int32Array, LmdbChangeFeed] {
    // Memory lmdb-js shares between the threads of this process that open this index.
    const sharedMemory = this.root as unknown as {
      getUserSharedBuffer(id: string, initial: ArrayBuffer, options: { envKey: boolean }): ArrayBuffer;
    };
    const opens = new Int32Array(
      sharedMemory.getUserSharedBuffer('spillchest:opens', new ArrayBuffer(4), { envKey: true }),
    );
    Atomics.add(opens, 0, 1);
    const feed = new LmdbChangeFeed(this.root, this.entries, opens);
    // The spill thread's commits are this chest's own: told as such before the id is compared.
    // Waiting for every batch in flight, not only collecting those marked done: a batch commits
    // before the thread marks it, and its commit, seen first, would pass for another process's
    // (the chest would then check every memory hit until its next probe). A look comes once per
    // event-loop turn for a chest alone, so a get that misses (which reads without waiting for
    // the thread, see `getBeside`) waits at most then.
    feed.beforeLook = () => {
      if (this.behind !== undefined && this.behind.inFlight > 0) this.behind.drainOutsideCollect();
    };
    return [opens, feed];
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

  /**
   * Runs `action` in one write transaction of the index (all its tables), whose id stamps the
   * entries it writes; tells the change feed's listener once it has committed.
   */
  private transact<T>(action: () => T, flags: number): T {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- widens the flags to a number
    const transactionSync = this.root.transactionSync.bind(this.root) as SyncTransaction;
    const env = (this.root as unknown as { env: NativeEnv }).env;
    let id = 0;
    const settled = this.givenUp;
    try {
      // Every write transaction holds the index's gate (see env.ts).
      const result = this.gated(() =>
        transactionSync(() => {
          id = this.txnId = env.getWriteTxnId();
          this.releaseNames(settled);
          const result = action();
          // Before LMDB writes a page (see SpaceGuard).
          this.space.ensure(this.txnBytes, `cannot commit to the index of ${this.location}`);
          return result;
        }, flags),
      );
      if (id !== 0) this.feed.committed(id);
      if (settled.length > 0) this.givenUp = this.givenUp.filter((name) => !settled.includes(name));
      return result;
    } finally {
      this.txnId = 0;
      this.txnBytes = 0;
    }
  }

  /**
   * Inside a write transaction: frees, for reuse, the names of value files this store gave up and
   * has since removed. A name stays registered (as given up) from the commit that replaced its
   * file until then, so that no other process can give the name to a new file that this one's
   * removal, coming after the commit, would delete.
   */
  private releaseNames(names: readonly string[]): void {
    for (const name of names) {
      const owner = this.files.getBinaryFast(name);
      if (owner === undefined || owner.length !== 0) continue;
      // Removed after the commit already, unless that failed: no entry refers to it either way.
      removeQuietly(path.join(this.location, name));
      this.files.removeSync(name);
    }
  }

  /** The entry for a key, decoded; `undefined` when absent. */
  private readRecord(key: Uint8Array): IndexRecord | undefined {
    if (key.byteLength > MAX_KEY_BYTES) return undefined;
    const bytes = this.entries.getBinaryFast(asBuffer(key));
    return bytes === undefined ? undefined : decodeRecord(bytes, this.location);
  }

  /** Inside a write transaction: whether any name is registered in `files` (a value file, or one given up). */
  private hasFiles(): boolean {
    for (const name of this.files.getKeys({ limit: 1 })) return name !== undefined;
    return false;
  }

  /** Inside a write transaction: the entry about to be replaced, without checking its data. */
  private rawRecord(key: Buffer): IndexRecord | undefined {
    const bytes = this.entries.getBinaryFast(key);
    if (bytes === undefined) return undefined;
    // An inline entry (flag bit 0 clear) owns no file: nothing more is needed to replace it.
    if ((bytes[0]! & 1) === 0) return INLINE;
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

  /**
   * Unique among every store of every thread and process on this index: the pid first (stale files
   * of dead processes are found by it), then the thread, then a counter shared by this thread's stores.
   */
  private tempName(): string {
    const serial = (tempSerial++).toString(36);
    return path.join(this.tmpDir, `${process.pid}-${threadId}-${serial}.tmp`);
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

  /** Removes value files given up by a committed transaction; their names are freed by the next one. */
  private removeFiles(names: readonly string[]): void {
    for (const name of names) {
      const file = path.join(this.location, name);
      removeQuietly(file);
      this.unsyncedDirs.add(path.dirname(file));
      this.givenUp.push(name);
    }
  }

  private assertOpen(): void {
    this.checkOpen();
    // Nothing reads or writes the index before the batches handed to the spill thread are in it.
    if (this.behind !== undefined && this.behind.inFlight > 0) this.behind.drain();
  }

  private checkOpen(): void {
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

const INLINE: IndexRecord = {
  kind: 0,
  codec: 0,
  checksum: 0,
  version: 0,
  file: undefined,
  data: new Uint8Array(0),
};

/**
 * The LMDB index's change feed. LMDB numbers its write transactions, in every process, and keeps
 * the newest number in its shared meta page: reading it is one call, with no lock and no disk.
 * Whether others have the index open comes from LMDB's reader table (a slot per process that has
 * read it, with its pid) and from a counter of the stores open in this process.
 */
class LmdbChangeFeed implements ChangeFeed {
  lastCommit = 0;
  onCommit: ((id: number) => void) | undefined = undefined;
  private readonly env: NativeEnv;

  constructor(
    private readonly root: RootDatabase,
    private readonly entries: Database<Buffer, Buffer>,
    private readonly opens: Int32Array,
  ) {
    this.env = (root as unknown as { env: NativeEnv }).env;
  }

  /** Called before the newest id is read: the store collects the spill thread's finished commits. */
  beforeLook: (() => void) | undefined = undefined;

  latest(): number {
    this.beforeLook?.();
    return this.env.info().lastTxnId;
  }

  committed(id: number): void {
    this.lastCommit = id;
    this.onCommit?.(id);
  }

  refresh(): void {
    this.root.resetReadTxn();
  }

  version(key: Uint8Array): number | undefined {
    if (key.byteLength > MAX_KEY_BYTES) return undefined;
    const bytes = this.entries.getBinaryFast(asBuffer(key));
    return bytes === undefined ? undefined : readStamp(bytes);
  }

  othersOpen(): boolean {
    if (Atomics.load(this.opens, 0) > 1) return true;
    // Slots of processes that died are cleared first, so that they do not count.
    this.root.readerCheck();
    for (const line of this.root.readerList().split('\n')) {
      const pid = /^\s*(\d+)\s/.exec(line)?.[1];
      if (pid !== undefined && Number(pid) !== process.pid) return true;
    }
    return false;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A manifest as every format has written it: its version, serializer and compression. A missing
 * compression is let through: only `chest info` reads it, and it says 'unknown'.
 */
function isChestMeta(value: unknown): value is ChestMeta {
  if (typeof value !== 'object' || value === null) return false;
  const { format, serializer, compression } = value as Partial<Record<keyof ChestMeta, unknown>>;
  return (
    Number.isInteger(format) &&
    (format as number) >= 1 &&
    typeof serializer === 'string' &&
    (compression === undefined || typeof compression === 'string')
  );
}
