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
