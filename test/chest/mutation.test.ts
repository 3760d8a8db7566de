import { describe, expect, it } from 'vitest';
import { Chest } from '../../src/index.js';
import { freshPath } from '../helpers.js';

describe('Chest and values changed in place', () => {
  it('Chest writes back an array pushed to after it came back from disk', () => {
    using c = new Chest<string, number[]>();
    c.set('a', [1, 2]);
    c.spill();
    c.get('a')!.push(3);
    c.spill();
    expect(c.get('a')).toEqual([1, 2, 3]);
  });

  it('Chest writes back a typed array written into, on flush, across a reopen', () => {
    const p = freshPath();
    const c = new Chest<string, Float64Array>({ path: p, inlineThreshold: 0 });
    c.set('x', new Float64Array(4));
    c.flush();
    c.get('x')![2] = 7.5;
    c.close();
    const again = new Chest<string, Float64Array>({ path: p });
    expect(again.get('x')).toEqual(new Float64Array([0, 0, 7.5, 0]));
    again.close();
  });

  it('Chest writes back an object field changed after a flush', () => {
    const p = freshPath();
    const c = new Chest<string, { n: number }>({ path: p });
    const value = { n: 1 };
    c.set('o', value);
    c.flush();
    value.n = 2;
    c.close();
    const again = new Chest<string, { n: number }>({ path: p });
    expect(again.get('o')).toEqual({ n: 2 });
    again.close();
  });

  it('Chest writes nothing for a clean value that was not changed', () => {
    using c = new Chest<string, number[]>();
    c.set('a', [1, 2, 3]);
    c.spill();
    c.get('a');
    const before = c.stats.bytesWritten;
    c.spill();
    c.flush();
    expect(c.stats.bytesWritten).toBe(before);
  });

  it('Chest with immutable: true skips the check, as promised', () => {
    using c = new Chest<string, number[]>({ immutable: true });
    c.set('a', [1, 2]);
    c.spill();
    c.get('a')!.push(3);
    const before = c.stats.bytesWritten;
    c.spill();
    expect(c.stats.bytesWritten).toBe(before);
    expect(c.get('a')).toEqual([1, 2]);
  });
});
