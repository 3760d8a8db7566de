import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { ChestError, type ErrorCode } from '../src/errors.js';
import { runTs } from './fixtures/mixed-run.js';

const made: string[] = [];

/** A path for a chest that does not exist yet, removed after the test. */
export function freshPath(name = 'chest'): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-test-'));
  made.push(parent);
  return path.join(parent, name);
}

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Open file descriptors of this process (Linux). */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Runs `fn` and returns the `ChestError` it throws, failing the test if it throws anything else. */
export function chestErrorOf(fn: () => unknown): ChestError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ChestError);
    return error as ChestError;
  }
  throw new Error('expected a ChestError, nothing was thrown');
}

export function expectCode(fn: () => unknown, code: ErrorCode): ChestError {
  const error = chestErrorOf(fn);
  expect(error.code).toBe(code);
  return error;
}

/** Every file below `dir`, as paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub === '' ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

/** Every item of an async iterable, in order (`Array.fromAsync` is missing on Node 20). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * In the calling `describe` block, every spill goes through the spill thread from the first one
 * (`SPILLCHEST_SPILL_THREAD=1`, which child processes inherit); the setting is restored after
 * each test.
 */
export function useSpillThread(): void {
  let before: string | undefined;
  beforeEach(() => {
    before = process.env.SPILLCHEST_SPILL_THREAD;
    process.env.SPILLCHEST_SPILL_THREAD = '1';
  });
  afterEach(() => {
    if (before === undefined) delete process.env.SPILLCHEST_SPILL_THREAD;
    else process.env.SPILLCHEST_SPILL_THREAD = before;
  });
}

const peerFile = path.join(import.meta.dirname, 'fixtures', 'peer.ts');

/** Runs one command of `test/fixtures/peer.ts` in another process on `dir`; returns what it printed. */
export async function peer(dir: string, ...args: string[]): Promise<unknown> {
  const exit = await runTs(peerFile, [dir, ...args]);
  expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({
    code: 0,
    signal: null,
    stderr: '',
  });
  return exit.stdout === '' ? undefined : JSON.parse(exit.stdout);
}
