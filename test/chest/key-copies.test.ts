import { describe, expect, it } from 'vitest';
import { AsyncChest, Chest, type Key } from '../../src/index.js';
import { collect, freshPath } from '../helpers.js';

/**
 * Keys compare by value, so a tuple or Date key must not change inside a chest when its owner changes
 * it after `set` (or `get`), nor when a key the chest handed out is changed: one array reused as a
 * key for many entries is a common loop.
 */
describe('tuple and Date keys are the chest’s own copies', () => {
  it('one array reused as the key of five sets keeps five entries, in memory and after reopening', () => {
    const path = freshPath();
    {
      using chest = new Chest<Key, string>({ path });
      const key: [string, number] = ['user', 0];
      for (let i = 0; i < 5; i++) {
        key[1] = i;
        chest.set(key, `value ${i}`);
      }
      expect(chest.size).toBe(5);
      expect([...chest.keys()]).toEqual([0, 1, 2, 3, 4].map((i) => ['user', i]));
      expect(chest.get(['user', 2])).toBe('value 2');
    }
    using again = new Chest<Key, string>({ path });
    expect(again.size).toBe(5);
    expect([...again.entries()]).toEqual([0, 1, 2, 3, 4].map((i) => [['user', i], `value ${i}`]));
  });

  it('the same with a nested tuple and a budget that spills most entries', () => {
    const path = freshPath();
    {
      using chest = new Chest<Key, number[]>({ path, availableMemory: 2000 });
      const key: [string, [number]] = ['n', [0]];
      for (let i = 0; i < 50; i++) {
        key[1][0] = i;
        chest.set(key, [i]);
      }
      expect(chest.size).toBe(50);
    }
    using again = new Chest<Key, number[]>({ path });
    for (let i = 0; i < 50; i++) expect(again.get(['n', [i]])).toEqual([i]);
  });

  it('a key handed out by keys() or an onOverflow callback can be changed without changing the chest', () => {
    const overflowed: Key[] = [];
    using chest = new Chest<Key, string>({
      availableMemory: 200,
      onOverflow: (key) => overflowed.push(key),
    });
    chest.set(['a', 1], 'x'.repeat(1000));
    chest.set(['b', new Date(5)], 'b');
    for (const key of chest.keys()) {
      (key as unknown[])[0] = 'changed';
      ((key as unknown[])[1] as { setTime?: (t: number) => void }).setTime?.(99);
    }
    for (const key of overflowed) (key as unknown[])[0] = 'changed';
    expect(chest.get(['a', 1])).toBe('x'.repeat(1000));
    expect(chest.get(['b', new Date(5)])).toBe('b');
    expect([...chest.keys()].sort()).toEqual([
      ['a', 1],
      ['b', new Date(5)],
    ]);
  });

  it('a Date key changed with setTime after set stays filed under its old time', () => {
    const path = freshPath();
    const when = new Date(1000);
    {
      using chest = new Chest<Date, string>({ path });
      chest.set(when, 'then');
      when.setTime(2000);
      expect(chest.get(new Date(1000))).toBe('then');
      expect(chest.get(new Date(2000))).toBeUndefined();
      expect([...chest.keys()]).toEqual([new Date(1000)]);
    }
    using again = new Chest<Date, string>({ path });
    expect([...again.entries()]).toEqual([[new Date(1000), 'then']]);
  });

  it('an array used to get a stored value, changed afterwards, leaves the entry under its key', () => {
    const path = freshPath();
    {
      using chest = new Chest<Key, { hits: number }>({ path });
      chest.set(['page', 1], { hits: 0 });
    }
    {
      using chest = new Chest<Key, { hits: number }>({ path, availableMemory: 1000 });
      const lookup: [string, number] = ['page', 1];
      // Loaded from disk and held in memory under the key it was asked for.
      const value = chest.get(lookup)!;
      lookup[1] = 2;
      value.hits = 7;
      // The change in place is written under ['page', 1] when it leaves memory.
      for (let i = 0; i < 100; i++) chest.set(['fill', i], { hits: i });
      expect(chest.has(['page', 2])).toBe(false);
    }
    using again = new Chest<Key, { hits: number }>({ path });
    expect(again.get(['page', 1])).toEqual({ hits: 7 });
    expect(again.has(['page', 2])).toBe(false);
  });

  it('AsyncChest: one array reused as the key of five sets keeps five entries, after reopening too', async () => {
    const path = freshPath();
    {
      await using chest = await AsyncChest.open<Key, string>({ path });
      const key: [string, number] = ['user', 0];
      for (let i = 0; i < 5; i++) {
        key[1] = i;
        await chest.set(key, `value ${i}`);
      }
      expect(await chest.size()).toBe(5);
      const keys = await collect(chest.keys());
      expect(keys).toEqual([0, 1, 2, 3, 4].map((i) => ['user', i]));
      (keys[0] as unknown[])[1] = 'changed';
      expect(await chest.get(['user', 0])).toBe('value 0');
    }
    await using again = await AsyncChest.open<Key, string>({ path });
    expect(await collect(again.entries())).toEqual([0, 1, 2, 3, 4].map((i) => [['user', i], `value ${i}`]));
  });
});
