import fs from 'node:fs';
import { ChestError, ErrorCode, ioError } from '../../errors.js';

/**
 * Errors of the index, told apart. LMDB (through lmdb-js 3.5) reports a write that found the disk
 * full as EIO (`code` 5, "Input/output error"), not ENOSPC: measured on a full 2 MB tmpfs. So an EIO
 * of the index counts as a full disk when the file system's free space is low at that moment.
 */
const LOW_SPACE = 4 * 2 ** 20;
const EIO = 5;
const ENOSPC = 28;

export function indexError(message: string, cause: unknown, dir: string): ChestError {
  const code = (cause as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === ENOSPC) {
    return new ChestError(ErrorCode.DISK_FULL, `${message}: the disk is full`, { cause });
  }
  if ((code === EIO || code === 'EIO') && lowOnSpace(dir)) {
    return new ChestError(ErrorCode.DISK_FULL, `${message}: the disk is full`, { cause });
  }
  return ioError(message, cause);
}

/** True when the file system holding `dir` has little space left for this user. */
export function lowOnSpace(dir: string): boolean {
  try {
    const stats = fs.statfsSync(dir);
    return stats.bavail * stats.bsize < LOW_SPACE;
  } catch {
    return false;
  }
}

/** Free space above which a reading stays good for a while (see `SpaceGuard`). */
const PLENTY = 256 * 2 ** 20;
/** Pages a commit may add beyond its records: branch pages, the file-name table, the free list. */
const COMMIT_SLACK = 256 * 2 ** 10;

/**
 * Refuses an index commit, with `CHEST_DISK_FULL`, when the file system may lack the space it
 * needs, before LMDB writes a page. LMDB must never meet a full disk itself: lmdb-js 3.5.6's LMDB
 * formats the message of a failed page write into a 100-byte buffer that its own text overruns,
 * which corrupts the heap and aborts the process later ("free(): invalid next size", seen in the
 * full-disk tests). A commit can grow the index by about twice its records (pages split half
 * full) plus `COMMIT_SLACK`; three times is asked for.
 */
export class SpaceGuard {
  private free = 0;
  private readAt = -Infinity;
  private since = 0;

  /** `file`: the index's data file (statfs tells the file system that holds it). */
  constructor(private readonly file: string) {}

  /** Throws `CHEST_DISK_FULL` unless about `bytes` of records can be committed. */
  ensure(bytes: number, what: string): void {
    const need = 3 * bytes + COMMIT_SLACK;
    const now = performance.now();
    // statfs costs a few microseconds: with plenty free, one reading serves a second, or until a
    // quarter of that space may have been used.
    if (this.free < PLENTY || now - this.readAt > 1000 || this.since > PLENTY / 4) {
      this.free = freeSpace(this.file);
      this.readAt = now;
      this.since = 0;
    }
    if (this.free - this.since < need) {
      throw new ChestError(
        ErrorCode.DISK_FULL,
        `${what}: the disk is full (${this.free} bytes free, a commit may need ${need})`,
      );
    }
    this.since += need;
  }
}

function freeSpace(file: string): number {
  try {
    const stats = fs.statfsSync(file);
    // Some file systems (FUSE ones among them) report no size at all: nothing to go by.
    return stats.blocks === 0 ? Infinity : stats.bavail * stats.bsize;
  } catch {
    return Infinity;
  }
}
