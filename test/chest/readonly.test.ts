import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chest, ErrorCode } from '../../src/index.js';
import { expectCode, freshPath, listFiles } from '../helpers.js';

describe('Chest opened read-only', () => {
  it('Chest readOnly reads everything and changes nothing on disk', () => {
    const p = freshPath();
    const w = new Chest<string, unknown>({ path: p, inlineThreshold: 16 });
    w.set('a', 1)
      .set('big', 'x'.repeat(100))
      .set('t', new Float64Array([1, 2]));
    w.close();
    // LMDB's lock files (the index's and its gate's) are where readers register themselves and
    // writers take turns: every other file must stay untouched.
    const snapshot = (): (string | number)[][] =>
      listFiles(p)
        .filter((f) => f !== '.chest/lock.mdb' && f !== '.chest/gate/lock.mdb')
        .map((f) => [f, fs.statSync(path.join(p, f)).mtimeMs]);
    const before = snapshot();
    const r = new Chest<string, unknown>({ path: p, readOnly: true, availableMemory: 0 });
    expect(r.get('a')).toBe(1);
    expect(r.get('big')).toBe('x'.repeat(100));
    expect(r.get('t')).toEqual(new Float64Array([1, 2]));
    expect(r.size).toBe(3);
    expect([...r.keys()].sort()).toEqual(['a', 'big', 't']);
    for (const write of [
      () => r.set('a', 2),
      () => r.delete('a'),
      () => r.clear(),
      () => r.update(new Map([['z', 1]])),
      () => r.drop(),
    ]) {
      expectCode(write, ErrorCode.READ_ONLY);
    }
    r.spill();
    r.flush();
    r.close();
    expect(snapshot()).toEqual(before);
  });

  it('Chest readOnly refuses a path that holds no chest, and a temporary chest', () => {
    const p = freshPath();
    expectCode(() => new Chest({ path: p, readOnly: true }), ErrorCode.NOT_A_CHEST);
    expect(fs.existsSync(p)).toBe(false);
    expect(() => new Chest({ readOnly: true })).toThrow(TypeError);
  });

  it('Chest refuses to open for writing a chest this process has open read-only, with CHEST_LOCKED', () => {
    const p = freshPath();
    new Chest<string, number>({ path: p }).set('a', 1).close();
    using reader = new Chest<string, number>({ path: p, readOnly: true });
    const error = expectCode(() => new Chest<string, number>({ path: p }), ErrorCode.LOCKED);
    expect(error.message).toContain('open read-only in this process');
    expect(reader.get('a')).toBe(1);
  });
});
