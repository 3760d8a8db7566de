import fs from 'node:fs';
import path from 'node:path';
import { ChestError, ErrorCode } from '../errors.js';
import { decodeKey } from '../keys/codec.js';
import { INDEX_DIR, LmdbStore } from '../stores/lmdb/store.js';
import type { DiskOptions } from '../options/disk.js';

/** Whether `dir` holds a chest of the default store already (whatever its state). */
export function holdsChest(dir: string): boolean {
  return fs.existsSync(path.join(dir, INDEX_DIR));
}

/**
 * Opens the default store of a chest at `dir`, refusing a directory that is not a chest: a file, a
 * non-empty folder without an index, (read-only) a folder without one, or a folder inside another
 * chest.
 */
export function openLmdbStore(
  dir: string,
  options: { inlineThreshold: number; naming: (key: never) => string; readOnly: boolean } & DiskOptions,
): LmdbStore {
  if (options.readOnly && !fs.existsSync(path.join(dir, INDEX_DIR))) {
    throw new ChestError(ErrorCode.NOT_A_CHEST, `${dir} holds no chest to open read-only`);
  }
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) {
      throw new ChestError(ErrorCode.NOT_A_CHEST, `${dir} is not a directory`);
    }
    const names = fs.readdirSync(dir);
    if (names.length > 0 && !names.includes(INDEX_DIR)) {
      throw new ChestError(
        ErrorCode.NOT_A_CHEST,
        `${dir} is not empty and holds no chest (no ${INDEX_DIR} folder)`,
      );
    }
  }
  const outer = enclosingChest(dir);
  if (outer !== undefined) {
    throw new ChestError(
      ErrorCode.NOT_A_CHEST,
      `${dir} is inside the chest at ${outer}, whose value files share that folder; open it elsewhere`,
    );
  }
  const { naming, inlineThreshold, readOnly, ...disk } = options;
  return new LmdbStore({
    path: dir,
    inlineThreshold,
    fileName: (key) => naming(decodeKey(key) as never),
    readOnly,
    ...disk,
  });
}

/**
 * The chest whose folder holds `dir`, if any. A chest inside another would have its files taken for
 * the outer one's orphans (and removed by its repair), and could collide with its value files.
 */
function enclosingChest(dir: string): string | undefined {
  let at = path.dirname(path.resolve(dir));
  for (;;) {
    if (fs.existsSync(path.join(at, INDEX_DIR, 'data.mdb'))) return at;
    const up = path.dirname(at);
    if (up === at) return undefined;
    at = up;
  }
}
