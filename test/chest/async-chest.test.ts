import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AsyncChest,
  Chest,
  ErrorCode,
  FORMAT_VERSION,
  LmdbStore,
  MemoryStore,
  isChestError,
} from '../../src/index.js';
import { collect, freshPath } from '../helpers.js';

describe('AsyncChest', () => {
  it('AsyncChest loads a spilled key once for concurrent gets', async () => {
    await using chest = await AsyncChest.open<string, Float64Array>({ availableMemory: 0 });
    await chest.set('x', new Float64Array(1000).fill(2));
    expect(chest.inMemory('x')).toBe(false);
    await chest.setAvailableMemory('1 MB');
    const got = await Promise.all([chest.get('x'), chest.get('x'), chest.get('x')]);
    expect(chest.stats.loads).toBe(1);
    expect(got[0]).toBe(got[1]);
    expect(got[2]![999]).toBe(2);
  });

  it('AsyncChest applies calls in the order they are made, awaited or not', async () => {
    await using chest = await AsyncChest.open<string, number>({ availableMemory: 100 });
    const results = await Promise.all([
      chest.set('a', 1),
      chest.get('a'),
      chest.set('a', 2),
      chest.get('a'),
      chest.delete('a'),
      chest.get('a'),
      chest.has('a'),
    ]);
    expect(results.slice(1)).toEqual([1, chest, 2, true, undefined, false]);
  });

  it('AsyncChest reopens what it wrote, and Chest reads it too', async () => {
    const path = freshPath();
    const chest = new AsyncChest<string, unknown>({ path, availableMemory: 200 });
    for (let i = 0; i < 50; i++) await chest.set(`k${i}`, { i, s: 'x'.repeat(i) });
    await chest.set('big', new Float64Array(100_000).fill(1.5));
    await chest.close();
    await chest.close();
    await using again = await AsyncChest.open<string>({ path });
    expect(await again.size()).toBe(51);
    expect(await again.get('k7')).toEqual({ i: 7, s: 'xxxxxxx' });
    expect((await collect(again.keys())).length).toBe(51);
    await again.close();
    using sync = new Chest<string, unknown>({ path });
    expect((sync.get('big') as Float64Array)[99_999]).toBe(1.5);
  });

  it('AsyncChest marks a chest of an older format as its own when it opens it for writing, not read-only', async () => {
    const p = freshPath();
    new Chest<string, string>({ path: p }).set('a', 'x').close();
    const older = (): void => {
      const store = new LmdbStore({ path: p, inlineThreshold: 0, fileName: () => 'x' });
      store.writeMeta({ format: 2, serializer: 'structured', compression: 'none' });
      store.close();
    };
    const format = (): number | undefined => {
      const store = new LmdbStore({ path: p, inlineThreshold: 0, fileName: () => 'x' });
      const meta = store.readMeta();
      store.close();
      return meta?.format;
    };
    older();
    const reader = await AsyncChest.open<string, string>({ path: p, readOnly: true });
    expect(await reader.get('a')).toBe('x');
    await reader.close();
    expect(format()).toBe(2);
    const writer = await AsyncChest.open<string, string>({ path: p });
    await writer.close();
    expect(format()).toBe(FORMAT_VERSION);
  });

  it('AsyncChest refuses calls once closed with CHEST_CLOSED', async () => {
    const chest = await AsyncChest.open<string, number>({ store: new MemoryStore() });
    await chest.close();
    const error: unknown = await chest.get('a').catch((e: unknown) => e);
    expect(isChestError(error, ErrorCode.CLOSED)).toBe(true);
  });

  it('AsyncChest close reports the values it could not write, and says the chest closed without them', async () => {
    const path = freshPath();
    const chest = await AsyncChest.open<string>({ path });
    await chest.set('ok', 1);
    await chest.set('fn', () => 1);
    const error: unknown = await chest.close().catch((e: unknown) => e);
    expect(isChestError(error, ErrorCode.UNSERIALIZABLE)).toBe(true);
    expect((error as { keys: unknown[] }).keys).toEqual(['fn']);
    expect((error as Error).message).toContain('closed without them');
    const again = await AsyncChest.open<string>({ path });
    expect(await collect(again.keys())).toEqual(['ok']);
    await again.close();
  });

  it('AsyncChest iteration continued after close, and setAvailableMemory after it, fail with CHEST_CLOSED', async () => {
    const chest = await AsyncChest.open<string, number>({ path: freshPath(), availableMemory: 0 });
    for (let i = 0; i < 5; i++) await chest.set(`k${i}`, i);
    await chest.flush();
    const keys = chest.keys();
    expect((await keys.next()).value).toBe('k0');
    await chest.close();
    const error: unknown = await keys.next().catch((e: unknown) => e);
    expect(isChestError(error, ErrorCode.CLOSED), String(error)).toBe(true);
    const budget: unknown = await chest.setAvailableMemory(10).catch((e: unknown) => e);
    expect(isChestError(budget, ErrorCode.CLOSED)).toBe(true);
  });

  it('AsyncChest iteration stopped early lets the chest close and reopen cleanly', async () => {
    const path = freshPath();
    const chest = await AsyncChest.open<string, number>({ path, availableMemory: 0 });
    for (let i = 0; i < 5; i++) await chest.set(`k${i}`, i);
    await chest.flush();
    for await (const key of chest.keys()) if (key === 'k1') break;
    await chest.close();
    const again = await AsyncChest.open<string, number>({ path });
    expect(await collect(again.keys())).toHaveLength(5);
    await again.close();
  });

  it('AsyncChest reports a damaged or missing value file naming the key, as Chest does', async () => {
    const path = freshPath();
    const chest = await AsyncChest.open<string, Uint8Array>({ path, inlineThreshold: 0, availableMemory: 0 });
    await chest.set('a', new Uint8Array(100).fill(1));
    await chest.set('b', new Uint8Array(100).fill(2));
    await chest.flush();
    await chest.close();
    const reader = new Chest<string, Uint8Array>({ path, readOnly: true });
    const a = reader.keyToFilename('a');
    const b = reader.keyToFilename('b');
    reader.close();
    fs.writeFileSync(a, Buffer.alloc(100, 9));
    fs.rmSync(b);
    const again = await AsyncChest.open<string, Uint8Array>({ path });
    const corrupt: unknown = await again.get('a').catch((e: unknown) => e);
    expect(isChestError(corrupt, ErrorCode.CORRUPT), String(corrupt)).toBe(true);
    expect((corrupt as { keys?: unknown[] }).keys).toEqual(['a']);
    expect((corrupt as Error).message).toContain("(key 'a')");
    const missing: unknown = await again.get('b').catch((e: unknown) => e);
    expect(isChestError(missing, ErrorCode.MISSING_FILE), String(missing)).toBe(true);
    expect((missing as { keys?: unknown[] }).keys).toEqual(['b']);
    await again.close();
  });

  it('AsyncChest.open rejects a serializer other than the one the chest was written with', async () => {
    const path = freshPath();
    await (await AsyncChest.open({ path, serializer: 'json' })).close();
    const error: unknown = await AsyncChest.open({ path, serializer: 'msgpack' }).catch((e: unknown) => e);
    expect(isChestError(error, ErrorCode.SERIALIZER_MISMATCH)).toBe(true);
  });

  it('AsyncChest keeps a dump and load pair only under a name of its own', async () => {
    const path = freshPath();
    const text = { dump: (n: number) => `n=${n}`, load: (t: string) => Number(t.slice(2)) };
    const unnamed: unknown = await AsyncChest.open<string, number>({ path, ...text }).catch(
      (e: unknown) => e,
    );
    expect(unnamed).toBeInstanceOf(TypeError);
    expect((unnamed as Error).message).toMatch(/give serializerName/);
    const written = await AsyncChest.open<string, number>({
      path,
      ...text,
      serializerName: 'custom:dump/load',
    });
    await written.set('a', 42);
    await written.close();
    // Other functions whose names make up the name recorded.
    const other = { dump: (n: number) => String(n), load: (t: string) => Number(t) };
    const error: unknown = await AsyncChest.open<string, number>({ path, ...other }).catch((e: unknown) => e);
    expect(isChestError(error, ErrorCode.SERIALIZER_MISMATCH), String(error)).toBe(true);
    expect((error as Error).message).toContain('serializerName: "custom:dump/load" opens it');
    await using reopened = await AsyncChest.open<string, number>({
      path,
      ...text,
      serializerName: 'custom:dump/load',
    });
    expect(await reopened.get('a')).toBe(42);
    await using temporary = await AsyncChest.open<string, number>({ availableMemory: 0, ...other });
    await temporary.set('b', 7);
    expect(await temporary.get('b')).toBe(7);
  });
});
