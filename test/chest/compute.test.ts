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
  reopenEvery = 0,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', worker, dir, String(times), String(reopenEvery)],
      {
        stdio: ['ignore', 'inherit', 'pipe'],
      },
    );
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

  it('Chest compute refuses writes and a close from inside its function, and keeps the previous value', () => {
    const dir = freshPath();
    const c = new Chest<string, number>({ path: dir });
    c.set('q', 1);
    c.set('other', 5);
    const writes: [string, (chest: Chest<string, number>) => unknown][] = [
      ['compute', (chest) => chest.compute('q', () => 2)],
      ['set', (chest) => chest.set('q', 99)],
      ['delete', (chest) => chest.delete('other')],
      ['clear', (chest) => chest.clear()],
      ['flush', (chest) => chest.flush()],
      ['spill', (chest) => chest.spill()],
      ['close', (chest) => chest.close()],
      ['drop', (chest) => chest.drop()],
    ];
    for (const [name, write] of writes) {
      expect(
        () =>
          c.compute('q', (v) => {
            write(c);
            return v! + 100;
          }),
        name,
      ).toThrow(/a compute function must not write to the chest or close it/);
      expect(c.get('q'), name).toBe(1);
      expect(c.get('other'), name).toBe(5);
      expect(c.isClosed, name).toBe(false);
    }
    // Reads inside are fine, and the chest works on.
    expect(c.compute('q', (v) => v! + c.get('other')!)).toBe(6);
    c.close();
    using again = new Chest<string, number>({ path: dir });
    expect(again.get('q')).toBe(6);
    expect(again.size).toBe(2);
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

  it('Chest compute keeps a counter exact across 8 processes', async () => {
    const dir = freshPath();
    new Chest({ path: dir }).close();
    const results = await Promise.all(Array.from({ length: 8 }, () => run(dir, 60)));
    for (const { code, stderr } of results)
      expect({ code, stderr: stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
    using c = new Chest<Key, number>({ path: dir });
    expect(c.get('counter')).toBe(480);
    expect([0, 1, 2].map((i) => c.get(['counter', i]))).toEqual([160, 160, 160]);
  });

  // Each worker reopens the chest every 3 increments, so processes open the index while others
  // commit: before the index gate (src/stores/lmdb/env.ts), runs of this lost increments or
  // had a worker die in LMDB's write path (2 of 3 runs measured).
  it('Chest compute keeps a counter exact across 8 processes that keep reopening the chest', async () => {
    const dir = freshPath();
    new Chest({ path: dir }).close();
    const results = await Promise.all(Array.from({ length: 8 }, () => run(dir, 30, 3)));
    for (const { code, stderr } of results)
      expect({ code, stderr: stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
    using c = new Chest<Key, number>({ path: dir });
    expect(c.get('counter')).toBe(240);
    expect([0, 1, 2].map((i) => c.get(['counter', i]))).toEqual([80, 80, 80]);
  });
});
