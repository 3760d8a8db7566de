import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Chest, ErrorCode, isChestError, type ChestOptions } from '../../src/index.js';
import { indexError } from '../../src/stores/lmdb/disk.js';
import { expectCode } from '../helpers.js';

/**
 * A full disk on every write path, on a small tmpfs this test mounts itself (it needs root, or a
 * user allowed to mount; without that these tests are skipped and say so, except under CI=true,
 * where they fail). The call that hits the
 * full disk must throw CHEST_DISK_FULL; nothing else may be lost or become unreadable; no promise may
 * be rejected unhandled; `close()` must return; once space is freed the same chest works again.
 */
const MOUNT_SIZE = 2 * 2 ** 20;
let mountPoint = '';
let mounted = false;
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};

beforeAll(() => {
  // Not freshPath: its cleanup after each test would try to remove the mount point.
  mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-tmpfs-'));
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE}`, 'tmpfs', mountPoint]);
  mounted = result.status === 0;
  const why = `cannot mount a tmpfs (${result.stderr.toString().trim()})`;
  // CI runs as root: there the tests must run, not pass by skipping.
  if (!mounted && process.env.CI === 'true') throw new Error(`full-disk tests under CI=true: ${why}`);
  if (!mounted) console.warn(`full-disk tests skipped: ${why}`);
  process.on('unhandledRejection', onRejection);
});

afterEach(() => {
  if (mounted)
    for (const name of fs.readdirSync(mountPoint))
      fs.rmSync(path.join(mountPoint, name), { recursive: true });
});

afterAll(() => {
  process.off('unhandledRejection', onRejection);
  // Lazily: the index may still be mapped by this process until lmdb-js lets it go.
  if (mounted) spawnSync('umount', ['-l', mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

type Write = (chest: Chest<string>, i: number, model: Map<string, unknown>) => void;

/**
 * Fills the tmpfs with `write` (which records in `model` only what succeeded) until a call throws,
 * checks the error and the data, frees the ballast, writes again, closes, reopens and checks.
 */
async function exercise(
  options: ChestOptions<string, unknown>,
  ballast: number,
  write: Write,
  afterError?: (chest: Chest<string>) => void,
): Promise<string> {
  const dir = path.join(mountPoint, 'chest');
  fs.writeFileSync(path.join(mountPoint, 'ballast'), Buffer.alloc(ballast, 1));
  const model = new Map<string, unknown>([['keep', 'precious']]);
  const chest = new Chest<string, unknown>({ ...options, path: dir });
  chest.set('keep', 'precious');
  chest.flush();
  let error: unknown;
  let i = 0;
  for (; i < 20_000 && error === undefined; i++) {
    try {
      write(chest, i, model);
    } catch (e) {
      error = e;
    }
  }
  expect(isChestError(error, ErrorCode.DISK_FULL), `after ${i} writes: ${String(error)}`).toBe(true);
  afterError?.(chest);
  for (const [key, value] of model) expectSame(chest.get(key), value, key);

  fs.rmSync(path.join(mountPoint, 'ballast'));
  for (let j = 0; j < 3; j++) write(chest, 100_000 + j, model);
  chest.flush();
  chest.close();
  // Let any promise lmdb-js rejected surface before counting.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(rejections).toEqual([]);

  using again = new Chest<string, unknown>({ ...options, path: dir });
  for (const [key, value] of model) expectSame(again.get(key), value, key);
  const report = again.verify();
  expect(report.damaged).toEqual([]);
  return isChestError(error) ? error.message : '';
}

/** Byte arrays compared as bytes: a deep equality of 100 KB arrays element by element takes seconds. */
function expectSame(actual: unknown, expected: unknown, key: string): void {
  if (expected instanceof Uint8Array && actual instanceof Uint8Array) {
    expect(Buffer.from(actual).equals(Buffer.from(expected)), key).toBe(true);
  } else {
    expect(actual, key).toEqual(expected);
  }
}

const bytes = (i: number, n: number): Uint8Array => new Uint8Array(n).fill(i & 0xff);

describe('a full disk', () => {
  it('on a spill: DISK_FULL from a set that spills, nothing lost, works again after space is freed', async ({
    skip,
  }) => {
    if (!mounted) skip();
    await exercise({ availableMemory: 32 * 1024, inlineThreshold: 4096 }, 1024 * 1024, (chest, i, model) => {
      const key = `k${i % 7 === 6 ? i - 1 : i}`; // some overwrites
      const value = bytes(i, 3000 + (i % 3) * 4000);
      // A set whose spill fails has still put its value in memory: the error is about the others.
      model.set(key, value);
      chest.set(key, value);
    });
  });

  it('on a spill the spill thread commits: DISK_FULL from a later write, nothing lost, works again', async ({
    skip,
  }) => {
    if (!mounted) skip();
    const before = process.env.SPILLCHEST_SPILL_THREAD;
    process.env.SPILLCHEST_SPILL_THREAD = '1';
    try {
      // Small values only, so that the thread takes every spill and meets the full disk itself.
      await exercise(
        { availableMemory: 32 * 1024 },
        1200 * 1024,
        (chest, i, model) => {
          const key = `k${i % 7 === 6 ? i - 1 : i}`;
          const value = { i, pad: 'p'.repeat(200 + (i % 5) * 100) };
          model.set(key, value);
          chest.set(key, value);
        },
        (chest) => {
          // The thread met the full disk: it had batches, and the chest stopped handing it more.
          const store = (
            chest as unknown as { store: { behind?: { nextTicket: number }; behindOff: boolean } }
          ).store;
          expect(store.behind?.nextTicket ?? 0).toBeGreaterThan(1);
          expect(store.behindOff).toBe(true);
        },
      );
    } finally {
      if (before === undefined) delete process.env.SPILLCHEST_SPILL_THREAD;
      else process.env.SPILLCHEST_SPILL_THREAD = before;
    }
  });

  it('on a flush: DISK_FULL from flush(), everything still readable, the next flush writes it all', async ({
    skip,
  }) => {
    if (!mounted) skip();
    let flushed = false;
    await exercise(
      { availableMemory: 64 * 2 ** 20, inlineThreshold: 4096 },
      1200 * 1024,
      (chest, i, model) => {
        if (i < 60) {
          const value = bytes(i, 20_000);
          chest.set(`k${i}`, value);
          model.set(`k${i}`, value);
        } else if (!flushed) {
          flushed = true;
          chest.flush();
        }
      },
    );
  });

  it('on a large value written straight to its file: DISK_FULL, the previous value of the key intact', async ({
    skip,
  }) => {
    if (!mounted) skip();
    await exercise({ availableMemory: 16 * 1024, inlineThreshold: 4096 }, 512 * 1024, (chest, i, model) => {
      const key = i % 2 === 0 ? 'big' : `big${i}`;
      const value = bytes(i, 100_000);
      chest.set(key, value);
      model.set(key, value);
    });
  });

  it('on an index commit (values inline in the index): DISK_FULL, not EIO', async ({ skip }) => {
    if (!mounted) skip();
    const message = await exercise({ availableMemory: 64 * 2 ** 20 }, 768 * 1024, (chest, i, model) => {
      const value = 'x'.repeat(3000) + String(i);
      chest.set(`k${i}`, value);
      if (i % 20 === 19) chest.flush();
      model.set(`k${i}`, value);
      if (i % 20 === 19) for (let j = i - 19; j <= i; j++) model.set(`k${j}`, 'x'.repeat(3000) + String(j));
    });
    expect(message).toContain('index');
  });

  it('on close: DISK_FULL, the chest closes and says what it left unwritten; what was flushed stays', async ({
    skip,
  }) => {
    if (!mounted) skip();
    const dir = path.join(mountPoint, 'chest');
    fs.writeFileSync(path.join(mountPoint, 'ballast'), Buffer.alloc(1200 * 1024, 1));
    const chest = new Chest<string, unknown>({
      path: dir,
      availableMemory: 64 * 2 ** 20,
      inlineThreshold: 4096,
    });
    chest.set('keep', 'precious');
    chest.flush();
    // More than the disk has left, all of it only in memory until the close.
    for (let i = 0; i < 60; i++) chest.set(`k${i}`, bytes(i, 20_000));
    const error = expectCode(() => chest.close(), ErrorCode.DISK_FULL);
    expect(error.message).toContain('the chest closed without what it could not write');
    expect(isChestError(error.cause, ErrorCode.DISK_FULL)).toBe(true);
    expect(chest.isClosed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rejections).toEqual([]);
    fs.rmSync(path.join(mountPoint, 'ballast'));
    using again = new Chest<string, unknown>({ path: dir });
    expect(again.get('keep')).toBe('precious');
    expect(again.verify().damaged).toEqual([]);
  });

  it('an EIO from LMDB counts as a full disk only when the disk is low on space, as LMDB reports one', ({
    skip,
  }) => {
    if (!mounted) skip();
    const eio = Object.assign(new Error('Input/output error'), { code: 5 });
    // The tmpfs is 2 MiB in all: below the 4 MiB taken as low.
    expect(indexError('cannot commit', eio, mountPoint).code).toBe(ErrorCode.DISK_FULL);
    expect(indexError('cannot commit', eio, os.tmpdir()).code).toBe(ErrorCode.IO);
    const enospc = Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
    expect(indexError('cannot commit', enospc, os.tmpdir()).code).toBe(ErrorCode.DISK_FULL);
  });

  it('on compute, which commits at once: DISK_FULL, the key keeps its previous value', async ({ skip }) => {
    if (!mounted) skip();
    await exercise({ availableMemory: 1024, inlineThreshold: 65536 }, 768 * 1024, (chest, i, model) => {
      const key = i % 3 === 0 ? 'counter' : `c${i}`;
      const value = `${i} `.repeat(2000);
      chest.compute(key, () => value);
      model.set(key, value);
    });
  });
});
