import path from 'node:path';
import { ErrorCode, isChestError } from './errors.js';
import { decodeKey } from './keys/codec.js';
import type { Key } from './keys/types.js';
import type { StoreDamage, SyncStore } from './stores/types.js';

/**
 * `verify`, `repair` and `compact` of a chest, on any store: the store's own checks where it offers
 * them (the LMDB store: orphan files, a recheck under the write lock, compaction), a walk of every
 * entry otherwise.
 */

/**
 * One damaged entry. `key` is undefined when the stored key bytes cannot be decoded, and for damage
 * to the chest's table of record structures, which belongs to no one key.
 *
 * @example
 * ```ts
 * import { Chest, type Damage } from 'spillchest';
 *
 * using chest = new Chest<string, string>({ inlineThreshold: 0 });
 * chest.set('a', 'alpha');
 * chest.flush();
 * const damaged: Damage<string>[] = chest.verify().damaged;
 * console.log(damaged); // [] on a sound chest
 * ```
 */
export interface Damage<K> {
  key: K | undefined;
  code: ErrorCode;
  /** The value's file, relative to the chest's folder, when the damage concerns one. */
  file?: string;
  message: string;
}

/**
 * What `verify()` found.
 *
 * @example
 * ```ts
 * import { Chest, type VerifyReport } from 'spillchest';
 *
 * using chest = new Chest<string, number>();
 * chest.set('a', 1);
 * chest.flush();
 * const report: VerifyReport<string> = chest.verify();
 * console.log(report.ok, report.checked); // true 1
 * ```
 */
export interface VerifyReport<K> {
  /** Entries in the store when the check began. */
  entries: number;
  /** Entries read and checked. */
  checked: number;
  damaged: Damage<K>[];
  /** Files in the chest's folder that no entry refers to, relative to it. */
  orphanFiles: string[];
  /** No damage and no orphan files. */
  ok: boolean;
}

/**
 * What `repair()` removed.
 *
 * @example
 * ```ts
 * import fs from 'node:fs';
 * import { Chest, type RepairReport } from 'spillchest';
 *
 * using chest = new Chest<string, string>({ inlineThreshold: 0 });
 * chest.set('a', 'alpha');
 * chest.flush();
 * fs.rmSync(chest.keyToFilename('a')); // the value file goes missing
 * const report: RepairReport<string> = chest.repair();
 * console.log(report.dropped.map((d) => d.key), chest.has('a')); // ['a'] false
 * ```
 */
export interface RepairReport<K> {
  /** Entries dropped because their data was gone or damaged. */
  dropped: Damage<K>[];
  /** Orphan files and files of dropped entries that were removed, relative to the chest's folder. */
  removedFiles: string[];
}

/**
 * What `compact()` reclaimed.
 *
 * @example
 * ```ts
 * import { Chest, type CompactReport } from 'spillchest';
 *
 * using chest = new Chest<number, string>();
 * for (let i = 0; i < 1000; i++) chest.set(i, 'x'.repeat(100));
 * chest.flush();
 * for (let i = 0; i < 1000; i++) chest.delete(i);
 * chest.flush();
 * const report: CompactReport = chest.compact();
 * console.log(report.bytesAfter <= report.bytesBefore); // true
 * ```
 */
export interface CompactReport {
  /** Size of the index file before and after. */
  bytesBefore: number;
  bytesAfter: number;
  removedFiles: string[];
}

/**
 * Options of `verify`, `repair` and `compact`.
 *
 * @example
 * ```ts
 * import { Chest, type MaintenanceOptions } from 'spillchest';
 *
 * using chest = new Chest<number, number>();
 * for (let i = 0; i < 10; i++) chest.set(i, i);
 * chest.flush();
 * const options: MaintenanceOptions = { onProgress: (done, total) => console.log(`${done}/${total}`) };
 * chest.verify(options);
 * ```
 */
export interface MaintenanceOptions {
  /** Called after each entry checked: entries done, entries in all. */
  onProgress?: (done: number, total: number) => void;
}

interface Found {
  report: VerifyReport<Key>;
  /** Encoded keys of entries whose data is damaged. */
  recheck: Uint8Array[];
  /** Encoded keys that cannot be decoded. */
  undecodable: Uint8Array[];
  /** The encoded key of each of `report.damaged`. */
  encoded: Uint8Array[];
}

/** Reads every entry of `store`; never throws for damage. */
export function verifyStore(store: SyncStore, options: MaintenanceOptions = {}): Found {
  const total = store.count();
  const damaged: Damage<Key>[] = [];
  const recheck: Uint8Array[] = [];
  const undecodable: Uint8Array[] = [];
  const encodedKeys: Uint8Array[] = [];
  let checked = 0;
  for (const encoded of store.keys()) {
    // The store may reuse the key's buffer while iterating.
    const bytes = Uint8Array.from(encoded);
    let key: Key | undefined;
    try {
      key = decodeKey(bytes);
    } catch (error) {
      undecodable.push(bytes);
      encodedKeys.push(bytes);
      damaged.push({ key: undefined, code: ErrorCode.CORRUPT, message: messageOf(error) });
      // Its data is dropped with it by a repair: one report is enough.
      options.onProgress?.(++checked, total);
      continue;
    }
    try {
      store.get(bytes);
    } catch (error) {
      if (!isChestError(error) || error.code === ErrorCode.CLOSED) throw error;
      recheck.push(bytes);
      encodedKeys.push(bytes);
      damaged.push(damageFrom(store, key, error.code, messageOf(error), error.file));
    }
    checked++;
    options.onProgress?.(checked, total);
  }
  // The record structures values refer to (format 4): damage there is no one entry's, and a repair
  // cannot mend it, but it is reported.
  try {
    store.structures?.read();
  } catch (error) {
    if (!isChestError(error) || error.code === ErrorCode.CLOSED) throw error;
    damaged.push({ key: undefined, code: error.code, message: messageOf(error) });
  }
  const orphanFiles = store.orphanFiles?.() ?? [];
  const ok = damaged.length === 0 && orphanFiles.length === 0;
  return {
    report: { entries: total, checked, damaged, orphanFiles, ok },
    recheck,
    undecodable,
    encoded: encodedKeys,
  };
}

/**
 * Verifies, then drops the damaged entries that are still damaged when the store looks again (a
 * writer may have replaced them meanwhile), and removes orphan files. `onDropped` is told each key
 * dropped, so the caller can forget what it knew of the store's copy.
 */
export function repairStore(
  store: SyncStore,
  options: MaintenanceOptions,
  onDropped: (key: Key) => void,
): RepairReport<Key> {
  const found = verifyStore(store, options);
  if (store.repair !== undefined) {
    const { dropped, removedFiles } = store.repair(found.recheck, found.undecodable);
    const out = dropped.map((d) => fromStore(store, d));
    for (const d of out) if (d.key !== undefined) onDropped(d.key);
    return { dropped: out, removedFiles };
  }
  // A store without its own repair: drop by key (it keeps no files to orphan).
  const dropped: Damage<Key>[] = [];
  found.encoded.forEach((bytes, i) => {
    const damage = found.report.damaged[i]!;
    if (!store.delete(bytes)) return;
    dropped.push(damage);
    if (damage.key !== undefined) onDropped(damage.key);
  });
  return { dropped, removedFiles: [] };
}

export function compactStore(store: SyncStore): CompactReport {
  if (store.compact !== undefined) return store.compact();
  return { bytesBefore: 0, bytesAfter: 0, removedFiles: [] };
}

function fromStore(store: SyncStore, damage: StoreDamage): Damage<Key> {
  let key: Key | undefined;
  try {
    key = decodeKey(damage.key);
  } catch {
    key = undefined;
  }
  return damageFrom(store, key, damage.code, damage.message, damage.file);
}

function damageFrom(
  store: SyncStore,
  key: Key | undefined,
  code: ErrorCode,
  message: string,
  file: string | undefined,
): Damage<Key> {
  if (file === undefined) return { key, code, message };
  const rel = path.isAbsolute(file) ? path.relative(store.location, file) : file;
  return { key, code, file: rel.split(path.sep).join('/'), message };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
