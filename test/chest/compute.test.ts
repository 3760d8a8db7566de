import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Chest, ErrorCode, type Key } from '../../src/index.js';
import { expectCode, freshPath } from '../helpers.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/counter-worker.ts');

function run(
  dir: string,
  times: number,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, dir, String(times)], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      resolve({ code, signal, stderr });
    });
  });
}

describe('Chest compute', () => {
  it('Chest compute creates, updates and deletes, returning the new value', () => {
    using c = new Chest<string, number>();
    expect(c.compute('n', (v) => (v ?? 0) + 1)).toBe(1);
    expect(c.compute('n', (v) => (v ?? 0) + 1)).toBe(2);
    c.spill();
    expect(c.compute('n', (v) => v! * 10)).toBe(20);
    expect(c.get('n')).toBe(20);
    expect(c.compute('n', () => undefined)).toBeUndefined();
    expect(c.has('n')).toBe(false);
    expect(c.size).toBe(0);
  });

  it('Chest compute sees a value set but not yet written', () => {
    using c = new Chest<string, number>();
    c.set('n', 5);
    expect(c.compute('n', (v) => v! + 1)).toBe(6);
    c.delete('n');
    expect(c.compute('n', (v) => (v === undefined ? -1 : v))).toBe(-1);
  });

  it('Chest compute lets an error from fn through and changes nothing', () => {
    using c = new Chest<string, number>();
    c.set('n', 1);
    c.flush();
    expect(() =>
      c.compute('n', () => {
        throw new RangeError('no');
      }),
    ).toThrow(RangeError);
    expect(c.get('n')).toBe(1);
    const bad = c as unknown as Chest<string>;
    expectCode(() => bad.compute('n', () => () => 1), ErrorCode.UNSERIALIZABLE);
    expect(c.get('n')).toBe(1);
  });

  // About one run in eight of 8 processes, a worker dies inside LMDB's write path: a SIGSEGV in
  // mdb_cursor_put, or MDB_BAD_TXN after "mdb_page_touch error". It happens outside vitest too, and
  // before version stamps existed; docs/RELIABILITY.md has what is known. The retry keeps it from
  // blocking CI; the exit code and signal are asserted, so a failure on every try still fails.
  it('Chest compute keeps a counter exact across 8 processes', { retry: 2 }, async () => {
    const dir = freshPath();
    new Chest({ path: dir }).close();
    const results = await Promise.all(Array.from({ length: 8 }, () => run(dir, 60)));
    for (const { code, stderr } of results)
      expect({ code, stderr: stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
    using c = new Chest<Key, number>({ path: dir });
    expect(c.get('counter')).toBe(480);
    expect([0, 1, 2].map((i) => c.get(['counter', i]))).toEqual([160, 160, 160]);
  });
});
