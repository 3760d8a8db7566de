import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AsyncChest, ErrorCode, isChestError, type Key } from '../../src/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { collect } from '../helpers.js';
import { asyncChestSubject, runModel, type Value } from './model.js';
import { dropPrefix, forEachTarget, freshPrefix, targets, type RedisTarget } from '../redis-env.js';

const run = promisify(execFile);

forEachTarget((target) => {
  describe(`AsyncChest on ${target.label}`, () => {
    const used: string[] = [];
    const prefix = (): string => {
      const p = freshPrefix();
      used.push(p);
      return p;
    };
    const store = (p: string, partSize?: number): RedisStore =>
      new RedisStore({ ...target.options, prefix: p, ...(partSize === undefined ? {} : { partSize }) });
    afterAll(async () => {
      for (const p of used) await dropPrefix(target, p);
    });

    it('AsyncChest on Redis keeps a 64 MiB typed array whole, in parts', async () => {
      await using chest = await AsyncChest.open<string, Float64Array>({
        store: store(prefix()),
        availableMemory: '1 MB',
      });
      const big = new Float64Array(8 * 2 ** 20);
      for (let i = 0; i < big.length; i += 4096) big[i] = i;
      big[big.length - 1] = 0.5;
      await chest.set('big', big);
      expect(chest.inMemory('big')).toBe(false);
      const got = (await chest.get('big'))!;
      expect(got.length).toBe(big.length);
      expect(got[4096 * 1000]).toBe(4096 * 1000);
      expect(got[got.length - 1]).toBe(0.5);
      expect(Buffer.compare(Buffer.from(got.buffer), Buffer.from(big.buffer))).toBe(0);
    });

    it('Redis store readers never see half a value while a writer replaces it', async () => {
      const p = prefix();
      const writer = store(p, 16 * 1024);
      const reader = store(p, 16 * 1024);
      const key = Buffer.from('k');
      const fill = (byte: number) => ({ kind: 0, codec: 0, data: Buffer.alloc(256 * 1024, byte) });
      await writer.write([{ type: 'put', key, value: fill(1) }]);
      let writing = true;
      const writes = (async () => {
        for (let i = 0; i < 30; i++)
          await writer.write([{ type: 'put', key, value: fill(i % 2 === 0 ? 2 : 1) }]);
        writing = false;
      })();
      let reads = 0;
      while (writing) {
        const got = (await reader.get(key))!;
        const first = got.data[0]!;
        expect(got.data.every((b) => b === first)).toBe(true);
        reads++;
      }
      await writes;
      expect(reads).toBeGreaterThan(0);
      await writer.close();
      await reader.close();
    });

    it('AsyncChest on Redis: a value written by one client is seen by the next get of another', async () => {
      const p = prefix();
      await using a = await AsyncChest.open<string, number>({ store: store(p), availableMemory: '1 MB' });
      await using b = await AsyncChest.open<string, number>({ store: store(p), availableMemory: '1 MB' });
      await a.set('x', 1);
      expect(await b.get('x')).toBe(1);
      expect(b.inMemory('x')).toBe(true);
      await a.set('x', 2);
      expect(await b.get('x')).toBe(2);
      await a.delete('x');
      expect(await b.get('x')).toBeUndefined();
      expect(await b.has('x')).toBe(false);
      await b.set('y', 3);
      expect(await a.size()).toBe(1);
    });

    it('AsyncChest on Redis: clear removes only its own prefix, and the manifest is kept', async () => {
      const p1 = prefix();
      const p2 = prefix();
      const one = await AsyncChest.open<string, string>({ store: store(p1), serializer: 'json' });
      await using two = await AsyncChest.open<string, string>({ store: store(p2) });
      await one.set('a', 'one');
      await two.set('a', 'two');
      await one.clear();
      expect(await one.size()).toBe(0);
      expect(await two.get('a')).toBe('two');
      await one.close();
      const error: unknown = await AsyncChest.open({ store: store(p1), serializer: 'msgpack' }).catch(
        (e: unknown) => e,
      );
      expect(isChestError(error, ErrorCode.SERIALIZER_MISMATCH)).toBe(true);
    });

    it('AsyncChest on Redis: keys(query) answers in key order, merging keys only in memory', async () => {
      await using chest = await AsyncChest.open<[string, number], number>({ store: store(prefix()) });
      for (const i of [5, 1, 9, 3, 7]) await chest.set(['row', i], i);
      await chest.set(['other', 0], 0);
      await chest.spill();
      for (const i of [4, 0, 8]) await chest.set(['row', i], i);
      await chest.delete(['row', 5]);
      expect(await collect(chest.keys({ prefix: ['row'], start: ['row', 1], limit: 5 }))).toEqual(
        [1, 3, 4, 7, 8].map((i) => ['row', i]),
      );
      expect(await collect(chest.values({ prefix: ['row'], end: ['row', 4] }))).toEqual([0, 1, 3]);
    });

    it('AsyncChest on Redis behaves as a Map under random operations', async () => {
      await runModel(
        prefix,
        (p, budget, _inline, { eviction }) =>
          asyncChestSubject(
            new AsyncChest<Key, Value>({ store: store(p, 1024), availableMemory: budget, eviction }),
          ),
        process.env.CI === undefined ? 30 : 20,
      );
    });
  });
});

forEachTarget(
  (target: RedisTarget) => {
    describe('Redis-backed chest in two processes', () => {
      it('two Node processes sharing one Redis-backed chest see each other’s values', async () => {
        const p = freshPrefix();
        const worker = path.join(import.meta.dirname, '../fixtures/redis-worker.ts');
        const start = (me: string, other: string) =>
          run(process.execPath, ['--import', 'tsx', worker, target.options.url!, p, me, other, '300'], {
            timeout: 60_000,
          });
        try {
          const results = await Promise.all([start('a', 'b'), start('b', 'a')]);
          for (const { stdout } of results) expect(JSON.parse(stdout)).toEqual({ wrong: 0 });
        } finally {
          await dropPrefix(target, p);
        }
      });
    });
  },
  ['single'],
);

// A server of its own, killed and started again: what was acknowledged survives, and calls made
// while it is down fail with a typed error, not an unhandled rejection.
describe.runIf(targets.single !== undefined)('AsyncChest on a Redis server that goes away', () => {
  it('AsyncChest on Redis fails with CHEST_UNAVAILABLE while the server is down and loses nothing acknowledged', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chest-redis-'));
    const port = 20000 + (process.pid % 20000);
    const server = () =>
      spawn(
        'redis-server',
        [
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
        ],
        { stdio: 'ignore' },
      );
    const ready = async () => {
      for (let i = 0; i < 100; i++) {
        const probe = new Redis({
          port,
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          await probe.ping();
          probe.disconnect();
          return;
        } catch {
          probe.disconnect();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      throw new Error('redis-server did not start');
    };
    let proc = server();
    await ready();
    const store = new RedisStore({
      url: `redis://127.0.0.1:${port}`,
      prefix: 'p:',
      maxRetriesPerRequest: 1,
      partSize: 4096,
    });
    const chest = await AsyncChest.open<string, string | Uint8Array>({ store, availableMemory: 0 });
    try {
      const acknowledged = new Map<string, string | Uint8Array>();
      for (let i = 0; i < 20; i++) {
        const value = i % 2 === 0 ? `v${i}` : new Uint8Array(10_000).fill(i);
        await chest.set(`k${i}`, value);
        acknowledged.set(`k${i}`, value);
      }
      proc.kill('SIGKILL');
      await new Promise((resolve) => proc.once('exit', resolve));
      const failures: unknown[] = [];
      for (let i = 20; i < 25; i++) {
        await chest.set(`k${i}`, `v${i}`).then(
          () => acknowledged.set(`k${i}`, `v${i}`),
          (error: unknown) => failures.push(error),
        );
      }
      expect(failures.length).toBeGreaterThan(0);
      for (const error of failures) expect(isChestError(error, ErrorCode.UNAVAILABLE)).toBe(true);
      proc = server();
      await ready();
      // The client reconnects by itself; the first calls may still fail while it does.
      let size = -1;
      for (let i = 0; i < 100 && size < 0; i++) {
        size = await chest.size().catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return -1;
        });
      }
      expect(size).toBe(acknowledged.size);
      for (const [key, value] of acknowledged) expect(await chest.get(key)).toEqual(value);
    } finally {
      await chest.close().catch(() => undefined);
      proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
