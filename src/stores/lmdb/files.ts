import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from '../../values/crc32.js';
import { ChestError, ErrorCode, ioError } from '../../errors.js';

/**
 * Value files: written whole to a temporary name, then renamed into place by the index's write
 * transaction. Nothing here trusts a single `write` call to write everything.
 */

/** Writes every byte of `data` to a new file at `file` (which must not exist). */
export function writeNewFile(file: string, data: Uint8Array, sync: boolean): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (error) {
    throw ioError(`cannot create ${file}`, error, file);
  }
  try {
    let offset = 0;
    while (offset < data.byteLength) {
      offset += fs.writeSync(fd, data, offset, data.byteLength - offset);
    }
    if (sync) fs.fsyncSync(fd);
  } catch (error) {
    closeQuietly(fd);
    removeQuietly(file);
    throw ioError(`cannot write ${file}`, error, file);
  }
  fs.closeSync(fd);
}

/**
 * How a value file is opened. Not through a symlink: the store never makes one, and a hostile chest
 * could point it anywhere. Non-blocking, so that a FIFO put in a file's place is opened (and then
 * refused as not a regular file) instead of hanging the read; it changes nothing for a regular file.
 */
const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** What stands where a value file should be, when it is not a regular file. */
function notRegular(file: string, stats: fs.Stats): ChestError {
  const what = stats.isDirectory()
    ? 'a folder'
    : stats.isFIFO()
      ? 'a FIFO'
      : stats.isSocket()
        ? 'a socket'
        : 'a device';
  return new ChestError(ErrorCode.CORRUPT, `the value file ${file} is not a regular file but ${what}`, {
    file,
  });
}

/**
 * Reads a whole value file into a buffer of its own (offset 0, so any typed array can view it) and
 * checks its length and checksum against the index. `undefined` when the file does not exist.
 */
export function readValueFile(file: string, byteLength: number, checksum: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new ChestError(ErrorCode.CORRUPT, `${file} is a symlink; value files never are`, { file });
    throw ioError(`cannot open ${file}`, error, file);
  }
  try {
    // A folder opens too, and its size would be reported as a wrong length.
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw notRegular(file, stats);
    const size = stats.size;
    if (size !== byteLength) {
      throw new ChestError(ErrorCode.CORRUPT, `${file} holds ${size} bytes, the index says ${byteLength}`, {
        file,
      });
    }
    const out = Buffer.allocUnsafeSlow(byteLength);
    let offset = 0;
    while (offset < byteLength) {
      const n = fs.readSync(fd, out, offset, byteLength - offset, offset);
      if (n === 0) throw new ChestError(ErrorCode.CORRUPT, `${file} ended early`, { file });
      offset += n;
    }
    if (crc32(out) !== checksum) {
      throw new ChestError(ErrorCode.CORRUPT, `${file} fails its checksum`, { file });
    }
    return out;
  } catch (error) {
    throw ioError(`cannot read ${file}`, error, file);
  } finally {
    closeQuietly(fd);
  }
}

/** `writeNewFile` through `fs/promises`: the event loop keeps running while the bytes go out. */
export async function writeNewFileAsync(file: string, data: Uint8Array): Promise<void> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'wx', 0o644);
  } catch (error) {
    throw ioError(`cannot create ${file}`, error, file);
  }
  try {
    let offset = 0;
    while (offset < data.byteLength) {
      const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
      offset += bytesWritten;
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    removeQuietly(file);
    throw ioError(`cannot write ${file}`, error, file);
  }
  await handle.close();
}

/** `readValueFile` through `fs/promises`, with the same checks. `undefined` when the file does not exist. */
export async function readValueFileAsync(
  file: string,
  byteLength: number,
  checksum: number,
): Promise<Buffer | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new ChestError(ErrorCode.CORRUPT, `${file} is a symlink; value files never are`, { file });
    throw ioError(`cannot open ${file}`, error, file);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notRegular(file, stats);
    const size = stats.size;
    if (size !== byteLength) {
      throw new ChestError(ErrorCode.CORRUPT, `${file} holds ${size} bytes, the index says ${byteLength}`, {
        file,
      });
    }
    const out = Buffer.allocUnsafeSlow(byteLength);
    let offset = 0;
    while (offset < byteLength) {
      const { bytesRead } = await handle.read(out, offset, byteLength - offset, offset);
      if (bytesRead === 0) throw new ChestError(ErrorCode.CORRUPT, `${file} ended early`, { file });
      offset += bytesRead;
    }
    if (crc32(out) !== checksum) {
      throw new ChestError(ErrorCode.CORRUPT, `${file} fails its checksum`, { file });
    }
    return out;
  } catch (error) {
    throw ioError(`cannot read ${file}`, error, file);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** `syncFile` (or `syncDir`: both open the path and fsync it) through `fs/promises`. */
export async function syncPathAsync(file: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(file, 'r');
    await handle.sync();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot sync ${file}`, error, file);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Makes a rename or an unlink in `dir` durable. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot sync ${dir}`, error, dir);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

/** Makes a file's data durable; a file that is gone since needs nothing. */
export function syncFile(file: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    fs.fsyncSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot sync ${file}`, error, file);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
}

export function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // Already gone, or will be found as an orphan by `verify`.
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Closing a descriptor we own only fails if it is already closed.
  }
}

/**
 * Removes temporary files left by processes that no longer run. Names start with the writer's pid,
 * so a live writer's files in another process are left alone.
 */
export function removeStaleTemporaries(tmpDir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(tmpDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number.parseInt(name, 10);
    if (pid === process.pid || !isStaleTemporary(name)) continue;
    removeQuietly(path.join(tmpDir, name));
  }
}

/**
 * True for a temporary file no running writer owns. This process's own are stale too: every write
 * here is synchronous, so none is in flight when anyone asks.
 */
export function isStaleTemporary(name: string): boolean {
  const pid = Number.parseInt(name, 10);
  return pid === process.pid || !Number.isInteger(pid) || !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
