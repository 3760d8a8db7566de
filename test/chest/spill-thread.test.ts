import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/index.js';
import { freshPath, useSpillThread } from '../helpers.js';
import { runTs } from '../fixtures/mixed-run.js';

const writer = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/spill-thread-writer.ts');

/** What the tests look at inside a chest's store, to know the spill thread did the work. */
interface Inside {
  store: { behind?: { nextTicket: number }; behindOff: boolean };
}
const inside = (chest: Chest<string>): Inside['store'] => (chest as unknown as Inside).store;
/** Batches the chest has handed to its spill thread. */
const handedOver = (chest: Chest<string>): number => (inside(chest).behind?.nextTicket ?? 1) - 1;

const record = (i: number): { i: number; name: string } => ({ i, name: `item${i}` });

describe('the spill thread', () => {
  useSpillThread();

  it("commits a set's spills: every value reads back, size is exact, before and after reopening", () => {
    const dir = freshPath();
    const n = 30_000;
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 256 * 1024 });
      for (let i = 0; i < n; i++) chest.set(`k${i}`, record(i));
      expect(handedOver(chest)).toBeGreaterThan(10);
      // A get that misses with batches in flight finds the value (in a batch or the index), not undefined.
      expect(chest.get('k0')).toEqual(record(0));
      expect(chest.size).toBe(n);
      for (let i = 0; i < n; i += 97) expect(chest.get(`k${i}`)).toEqual(record(i));
    }
    using again = new Chest<string, unknown>({ path: dir });
    expect(again.size).toBe(n);
    for (let i = 0; i < n; i += 89) expect(again.get(`k${i}`)).toEqual(record(i));
    expect(again.verify().damaged).toEqual([]);
  });

  it('a key set again, or deleted, while its spill is in flight keeps the newer state', () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 64 * 1024 });
      for (let round = 0; round < 50; round++) {
        chest.set('x', { round });
        chest.set(`gone${round}`, round);
        // Enough sets to push both out of memory, each spill handed to the thread.
        for (let i = 0; i < 2000; i++) chest.set(`fill${i}`, record(round * 2000 + i));
        chest.delete(`gone${round}`);
        expect(chest.get('x')).toEqual({ round });
        expect(chest.has(`gone${round}`)).toBe(false);
      }
      expect(handedOver(chest)).toBeGreaterThan(50);
      expect(chest.size).toBe(2001);
    }
    using again = new Chest<string, unknown>({ path: dir });
    expect(again.get('x')).toEqual({ round: 49 });
    expect(again.size).toBe(2001);
  });

  it('gets that spill after sets hand their batches to the thread too, and a key in flight is still found', () => {
    const dir = freshPath();
    const n = 20_000;
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 64 * 1024 });
      for (let i = 0; i < n; i++) chest.set(`k${i}`, record(i));
      const afterSets = handedOver(chest);
      let wrong = 0;
      let x = 0;
      for (let round = 0; round < 200; round++) {
        // A newer value in memory, then misses that push it out: its spill goes to the thread.
        chest.set(`k${round}`, { round });
        for (let j = 0; j < 150; j++) {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          const i = 200 + (x % (n - 200));
          if (JSON.stringify(chest.get(`k${i}`)) !== JSON.stringify(record(i))) wrong++;
        }
        // Likely still in flight, or just committed: either way the newer value.
        if (JSON.stringify(chest.get(`k${round}`)) !== JSON.stringify({ round })) wrong++;
      }
      expect(wrong).toBe(0);
      // Alone on its path: no commit of its thread was taken for another process's.
      expect((chest as unknown as { coherence: { watching: boolean } }).coherence.watching).toBe(false);
      // The gets' own spills (the sets' values left in memory, and each round's newer one).
      expect(handedOver(chest)).toBeGreaterThan(afterSets + 10);
      expect(chest.size).toBe(n);
    }
    using again = new Chest<string, unknown>({ path: dir });
    expect(again.size).toBe(n);
    for (let round = 0; round < 200; round += 7) expect(again.get(`k${round}`)).toEqual({ round });
    for (let i = 200; i < n; i += 97) expect(again.get(`k${i}`)).toEqual(record(i));
    expect(again.verify().damaged).toEqual([]);
  });

  it('a deletion in flight answers a get with undefined at once, and stays a deletion', () => {
    const dir = freshPath();
    {
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 64 * 1024 });
      for (let i = 0; i < 5000; i++) chest.set(`k${i}`, record(i));
      chest.flush();
      for (let round = 0; round < 40; round++) {
        const gone = `k${round}`;
        chest.delete(gone);
        // Push the tombstone out: its delete goes to the thread with the sets' values.
        for (let i = 0; i < 600; i++) chest.set(`fill${round}-${i}`, record(i));
        expect(chest.get(gone)).toBeUndefined();
        // Taken back as a deletion: memory has no value for it, and it is still deleted after the commits.
        expect(chest.inMemory(gone)).toBe(false);
        expect(chest.has(gone)).toBe(false);
        expect(chest.get(`k${round + 100}`)).toEqual(record(round + 100));
      }
      expect(chest.size).toBe(5000 - 40 + 40 * 600);
    }
    using again = new Chest<string, unknown>({ path: dir });
    expect(again.size).toBe(5000 - 40 + 40 * 600);
    for (let round = 0; round < 40; round++) expect(again.has(`k${round}`)).toBe(false);
  });

  it('a value or deletion taken back from a batch is not written again once the batch has committed', async () => {
    const dir = freshPath();
    {
      // LRU: the tombstone and x are the least recent entries, in that order.
      using chest = new Chest<string, unknown>({ path: dir, availableMemory: 64 * 1024, eviction: 'lru' });
      chest.set('y', 'a0');
      chest.flush();
      // This turn's look for other processes' commits, which waits for the thread, is spent here.
      expect(chest.get('absent')).toBeUndefined();
      chest.delete('y');
      chest.set('x', 'a1');
      // The first batch handed over holds them.
      for (let i = 0; handedOver(chest) === 0; i++) chest.set(`fill${i}`, record(i));
      // Both left memory with the batch (asking the chest would wait for it), and come back from it
      // while it is in flight.
      const { behind, takenBack } = chest as unknown as {
        behind: Map<number, { keys: string[] }>;
        takenBack: Map<number, unknown[]>;
      };
      expect([...behind.values()][0]!.keys.slice(0, 2)).toEqual(['y', 'x']);
      expect(chest.get('x')).toBe('a1');
      expect(chest.get('y')).toBeUndefined();
      expect([...takenBack.values()].flat()).toHaveLength(2);
      // A later turn: the batch is settled, and both are known to be stored as they are.
      await new Promise((resolve) => setImmediate(resolve));
      expect(chest.has('fill0')).toBe(true);
      expect(takenBack.size).toBe(0);
      {
        // Another chest replaces both; this one must not write its copies again over them.
        using other = new Chest<string, unknown>({ path: dir });
        other.set('x', 'b1');
        other.set('y', 'b2');
      }
      chest.flush();
    }
    using again = new Chest<string, unknown>({ path: dir });
    expect(again.get('x')).toBe('b1');
    expect(again.get('y')).toBe('b2');
  });

  it('a chest closed while its spill thread is still starting, blocked on the write lock, leaves the process able to write and end', () => {
    // The fixture closes the chest from inside another chest's compute, which holds the index's
    // write lock the starting thread waits for. Ended there, the thread kept that lock for good.
    const fixture = path.join(path.dirname(writer), 'spill-thread-close-starting.ts');
    const run = spawnSync(process.execPath, ['--import', 'tsx', fixture, freshPath()], {
      encoding: 'utf8',
      timeout: 40_000,
    });
    expect({ status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 0,
      signal: null,
      stdout: 'done\n',
      stderr: '',
    });
  });

  it('a chest whose index holds value files spills on its own thread, nothing lost', () => {
    const dir = freshPath();
    const n = 20_000;
    {
      using chest = new Chest<string, unknown>({
        path: dir,
        availableMemory: 128 * 1024,
        inlineThreshold: 512,
      });
      // A value file in the index: the thread takes no batch there (an entry it replaces could own one).
      chest.set('big', new Uint8Array(4096).fill(7));
      chest.flush();
      for (let i = 0; i < n; i++) chest.set(`k${i}`, record(i));
      expect(handedOver(chest)).toBe(0);
      expect(inside(chest).behindOff).toBe(true);
      expect(chest.size).toBe(n + 1);
      for (let i = 0; i < n; i += 61) expect(chest.get(`k${i}`)).toEqual(record(i));
    }
    using again = new Chest<string, unknown>({ path: dir });
    expect(again.size).toBe(n + 1);
    expect(again.get('big')).toEqual(new Uint8Array(4096).fill(7));
    for (let i = 0; i < n; i += 53) expect(again.get(`k${i}`)).toEqual(record(i));
  });

  it('a chest not on its own is spilled by its own thread: a second chest on the path sees every commit', () => {
    const dir = freshPath();
    using a = new Chest<string, unknown>({ path: dir, availableMemory: 64 * 1024 });
    using b = new Chest<string, unknown>({ path: dir, availableMemory: 64 * 1024 });
    for (let i = 0; i < 5000; i++) a.set(`k${i}`, record(i));
    expect(handedOver(a)).toBe(0);
    a.flush();
    expect(b.size).toBe(5000);
    expect(b.get('k4321')).toEqual(record(4321));
  });

  for (const how of ['exit', 'end'] as const) {
    it(`a process that leaves without closing (${how === 'exit' ? 'process.exit' : 'its event loop empty'}) still writes the batches in flight`, async () => {
      const dir = freshPath();
      const n = 40_000;
      const result = await runTs(writer, [dir, String(n), how]);
      expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
      expect(fs.existsSync(dir)).toBe(true);
      using chest = new Chest<string, unknown>({ path: dir });
      expect(chest.size).toBe(n);
      for (let i = 0; i < n; i += 101) expect(chest.get(`k${i}`)).toEqual(record(i));
    });
  }
});
