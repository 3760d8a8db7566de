/**
 * The index's gate (src/stores/lmdb/env.ts) with its write mutex destroyed, as LMDB's last closer
 * leaves it for a process that opened it at that moment: openers and writers get CHEST_LOCKED, and
 * once every process holding it has exited the next opener sets it up afresh. Real processes; the
 * mutex is destroyed the way glibc's pthread_mutex_destroy does it, by setting its kind to -1 in
 * the gate's lock file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chest, ErrorCode, isChestError } from '../../src/index.js';
import { expectCode, freshPath } from '../helpers.js';

/** Where the write mutex's kind lies in an LMDB lock file (x64 glibc: 64-byte lines, `__kind` at 16). */
const WRITE_MUTEX_KIND = 64 + 16;
/** PTHREAD_MUTEX_ROBUST | PTHREAD_MUTEX_PSHARED, as LMDB initializes it. */
const ROBUST_SHARED = 0x90;

function holder(dir: string): ChildProcess & { ready: Promise<void>; exited: Promise<number> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, '..', 'fixtures', 'hold-worker.ts'), dir],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return Object.assign(child, {
    ready: new Promise<void>((resolve) => child.stdout.once('data', () => resolve())),
    exited: new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1))),
  });
}

/** Destroys the gate's write mutex while a process has the gate open (so no opener re-creates it). */
function destroyGateMutex(dir: string): void {
  const fd = fs.openSync(path.join(dir, '.chest', 'gate', 'lock.mdb'), 'r+');
  try {
    const kind = Buffer.alloc(4);
    fs.readSync(fd, kind, 0, 4, WRITE_MUTEX_KIND);
    // Not the layout this test knows: fail, rather than test nothing.
    expect(kind.readInt32LE(0)).toBe(ROBUST_SHARED);
    kind.writeInt32LE(-1, 0);
    fs.writeSync(fd, kind, 0, 4, WRITE_MUTEX_KIND);
  } finally {
    fs.closeSync(fd);
  }
}

function filled(dir: string): void {
  const chest = new Chest<string, string>({ path: dir });
  chest.set('a', 'first').close();
}

/** Runs the gate-opener fixture in a child process; its JSON line. */
async function openInChild(dir: string): Promise<{ code?: string; message?: string; value?: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, '..', 'fixtures', 'gate-opener.ts'), dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out) as { code?: string; message?: string; value?: string };
}

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('a broken index gate', () => {
  it('an opener fails with CHEST_LOCKED naming the cause; once every holder has exited the chest opens with nothing lost', async () => {
    const dir = freshPath();
    filled(dir);
    const held = holder(dir);
    await held.ready;
    destroyGateMutex(dir);
    const refused = await openInChild(dir);
    expect(refused.code).toBe(ErrorCode.LOCKED);
    expect(refused.message).toMatch(/lock of the index .* was destroyed/);
    // The holder's own writes now fail the same way, and its close still completes.
    held.stdin?.end();
    expect(await held.exited).toBe(0);
    // Nobody has the gate open any more: the next opener sets its lock up afresh.
    expect(await openInChild(dir)).toEqual({ value: 'first' });
    using again = new Chest<string, string>({ path: dir });
    again.set('b', 'after');
    expect(again.get('a')).toBe('first');
    expect(again.verify().ok).toBe(true);
  });

  it('a write by a process holding the broken gate fails with CHEST_LOCKED and changes nothing', async () => {
    const dir = freshPath();
    filled(dir);
    const chest = new Chest<string, string>({ path: dir });
    const held = holder(dir);
    await held.ready;
    destroyGateMutex(dir);
    let thrown: unknown;
    try {
      chest.set('a', 'second');
      chest.flush();
    } catch (error) {
      thrown = error;
    }
    expect(isChestError(thrown, ErrorCode.LOCKED)).toBe(true);
    // close() still releases the chest, and reports that its last flush failed the same way.
    expectCode(() => chest.close(), ErrorCode.LOCKED);
    held.stdin?.end();
    expect(await held.exited).toBe(0);
    using again = new Chest<string, string>({ path: dir });
    expect(again.get('a')).toBe('first');
  });
});
