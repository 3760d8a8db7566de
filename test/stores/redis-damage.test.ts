/**
 * Damage to a Redis head is caught by its checksum: the value's bytes, and its kind and codec tags,
 * which the stored checksum is sealed with. Heads written before sealing still read.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { crc32 } from '../../src/values/crc32.js';
import { dropPrefix, forEachTarget, freshPrefix } from '../redis-env.js';

forEachTarget(
  (target) => {
    describe(`RedisStore heads on ${target.label}`, () => {
      const prefix = freshPrefix();
      let store: RedisStore;
      let raw: Redis;
      const head = (key: Buffer): string => `${prefix}{${key.toString('base64url')}}`;
      const put = (key: Buffer, data: Buffer, kind = 3, codec = 0): Promise<void> =>
        store.write([{ type: 'put', key, value: { kind, codec, data } }]);

      beforeAll(() => {
        store = new RedisStore({ ...target.options, prefix });
        raw = new Redis(target.options.url!);
      });
      afterAll(async () => {
        await store.close();
        await raw.quit();
        await dropPrefix(target, prefix);
      });

      for (const [field, what] of [
        ['k', 'kind'],
        ['c', 'codec'],
      ] as const) {
        it(`a head whose ${what} was changed fails its checksum, and its neighbour still reads`, async () => {
          const key = Buffer.from(`damaged-${what}`);
          const neighbour = Buffer.from(`neighbour-${what}`);
          await put(key, Buffer.from('a value of some bytes'), 3, 1);
          await put(neighbour, Buffer.from('the neighbour'), 3, 1);
          // Each bit of the tag byte in turn: every change must be caught.
          for (let bit = 0; bit < 8; bit++) {
            const original = field === 'k' ? 3 : 1;
            await raw.hset(head(key), field, String(original ^ (1 << bit)));
            await expect(store.get(key)).rejects.toMatchObject({
              code: ErrorCode.CORRUPT,
              message: expect.stringContaining('fails its checksum') as unknown,
            });
          }
          expect((await store.get(neighbour))?.data.toString()).toBe('the neighbour');
        });
      }

      it('a head whose bytes were changed fails its checksum', async () => {
        const key = Buffer.from('damaged-bytes');
        await put(key, Buffer.from('original bytes'));
        await raw.hset(head(key), 'd', 'Original bytes');
        await expect(store.get(key)).rejects.toMatchObject({ code: ErrorCode.CORRUPT });
      });

      it('the stored checksum is sealed; the one handed out is the plain CRC-32', async () => {
        const key = Buffer.from('sealed');
        const data = Buffer.from('some bytes to seal');
        await put(key, data, 3, 1);
        const fields = await raw.hgetall(head(key));
        expect(fields.s).toBeUndefined();
        expect(Number(fields.x)).not.toBe(crc32(data));
        expect((await store.get(key))?.checksum).toBe(crc32(data));
      });

      it('a head written before sealing (a plain checksum in field s) still reads', async () => {
        const key = Buffer.from('older-head');
        const data = Buffer.from('written by an older version');
        await raw.hset(head(key), { v: 'v1', k: '3', c: '0', n: '0', l: String(data.byteLength) });
        await raw.hset(head(key), 's', String(crc32(data)), 'd', data);
        const read = await store.get(key);
        expect(read?.data.toString()).toBe('written by an older version');
        expect(read?.checksum).toBe(crc32(data));
        // Its bytes are still checked, against the plain checksum.
        await raw.hset(head(key), 'd', 'Written by an older version');
        await expect(store.get(key)).rejects.toMatchObject({ code: ErrorCode.CORRUPT });
      });
    });
  },
  ['single'],
);
