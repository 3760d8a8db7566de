import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/index.js';
import { freshPath, peer } from '../helpers.js';
import { runMixed, runTs } from '../fixtures/mixed-run.js';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures');

describe('Chest shared by several processes', () => {
  it('Chest reads a value another process wrote after this one spilled and reloaded it', async () => {
    const dir = freshPath();
    using a = new Chest<string, string>({ path: dir });
    a.set('x', 'a1');
    a.spill(['x']);
    expect(a.inMemory('x')).toBe(false);
    expect(a.get('x')).toBe('a1');
    expect(a.inMemory('x')).toBe(true);
    await peer(dir, 'set-flush', 'x', '"b1"');
    expect(a.get('x')).toBe('b1');
    await peer(dir, 'set-spill', 'x', '"b2"');
    expect(a.get('x')).toBe('b2');
  });

  it('Chest never serves a flushed value from memory after another process replaced or deleted it', async () => {
    const dir = freshPath();
    using a = new Chest<string, string>({ path: dir });
    a.set('x', 'a1');
    a.set('y', 'a1');
    a.flush();
    expect(a.inMemory('x')).toBe(true);
    await peer(dir, 'set-flush', 'x', '"b1"');
    await peer(dir, 'delete-flush', 'y');
    expect(a.get('x')).toBe('b1');
    expect(a.has('y')).toBe(false);
    expect(a.get('y')).toBeUndefined();
    expect(a.size).toBe(1);
    expect([...a]).toEqual([['x', 'b1']]);
  });

  it('Chest keeps its own unwritten value over another process commit, until its own commit wins', async () => {
    const dir = freshPath();
    using a = new Chest<string, string>({ path: dir });
    a.set('x', 'a1');
    a.flush();
    a.set('x', 'a2');
    await peer(dir, 'set-flush', 'x', '"b1"');
    // Not yet written, a2 is this chest's latest word on x; b1 is the store's.
    expect(a.get('x')).toBe('a2');
    expect(await peer(dir, 'get', 'x')).toBe('b1');
    a.flush();
    expect(await peer(dir, 'get', 'x')).toBe('a2');
  });

  it('Chest counts a key once when another process stores a key this one holds unwritten', async () => {
    const dir = freshPath();
    using a = new Chest<string, string>({ path: dir });
    a.set('old', 'a');
    a.flush();
    a.set('m', 'a');
    expect(a.size).toBe(2);
    await peer(dir, 'set-flush', 'm', '"b"');
    await peer(dir, 'set-flush', 'n', '"b"');
    expect(a.size).toBe(3);
    expect([...a.keys()].sort()).toEqual(['m', 'n', 'old']);
    await peer(dir, 'delete-flush', 'old');
    expect(a.size).toBe(2);
    a.delete('m');
    a.flush();
    expect(await peer(dir, 'size')).toBe(1);
  });

  it('Chest with durable writes makes each set visible to others before it returns', async () => {
    const dir = freshPath();
    using a = new Chest<string, string>({ path: dir, durable: true });
    a.set('x', 'a1');
    // The other process reads it without this chest flushing or closing.
    expect(await peer(dir, 'get', 'x')).toBe('a1');
    a.delete('x');
    expect(await peer(dir, 'get', 'x')).toBeNull();
    // And what another durable process set is here once that process is killed, without closing.
    const killed = await runTs(path.join(fixtures, 'peer.ts'), [dir, 'set-durable', 'y', '"b1"']);
    expect({ code: killed.code, signal: killed.signal, stderr: killed.stderr }).toEqual({
      code: null,
      signal: 'SIGKILL',
      stderr: '',
    });
    expect(a.get('y')).toBe('b1');
  });

  it('a chest with a path that nothing refers to any more, never closed, is still flushed when its process ends', async () => {
    const dir = freshPath();
    const n = 3000;
    const droppedWriter = path.join(fixtures, 'dropped-writer.ts');
    const exit = await runTs(droppedWriter, [dir, String(n)]);
    expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({
      code: 0,
      signal: null,
      stderr: '',
    });
    using chest = new Chest<string, { i: number }>({ path: dir });
    expect(chest.size).toBe(n);
    for (let i = 0; i < n; i += 37) expect(chest.get(`k${i}`)).toEqual({ i });
  });

  // The soak script (test/soak/processes.ts) runs the same over many runs.
  it('Chest under 8 processes of mixed sets, gets, deletes and spills: every read in commit order, counter exact', async () => {
    const dir = freshPath();
    new Chest({ path: dir }).close();
    const result = await runMixed(dir, 8, 150, 1);
    expect(result.problems).toEqual([]);
    expect(result.writes).toBeGreaterThan(0);
    expect(result.reads).toBeGreaterThan(0);
  });

  it('Chest under 4 worker threads of one process on one path: every read in commit order, counter exact', async () => {
    const dir = freshPath();
    new Chest({ path: dir }).close();
    const result = await runMixed(dir, 4, 150, 2, true);
    expect(result.problems).toEqual([]);
    expect(result.writes).toBeGreaterThan(0);
  });

  it('Chest sees in one process what another chest on the same path commits', () => {
    const dir = freshPath();
    using a = new Chest<string, number>({ path: dir });
    using b = new Chest<string, number>({ path: dir });
    a.set('x', 1);
    a.flush();
    expect(b.get('x')).toBe(1);
    b.set('x', 2);
    b.flush();
    expect(a.get('x')).toBe(2);
    a.compute('x', (n) => n! + 1);
    expect(b.get('x')).toBe(3);
  });
});
