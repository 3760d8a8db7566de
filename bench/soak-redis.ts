/**
 * Soak check of the Redis store with one large value: a Float64Array of --mib MiB (default 512) set
 * through an AsyncChest on SPILLCHEST_REDIS_URL, read back by a second chest, compared, removed.
 *
 *   npx tsx bench/soak-redis.ts [--mib 1024]
 */
import { parseArgs } from 'node:util';
import { AsyncChest } from '../src/index.js';
import { RedisStore } from '../src/stores/redis/index.js';

const { values: args } = parseArgs({ options: { mib: { type: 'string', default: '512' } } });
const url = process.env.SPILLCHEST_REDIS_URL;
if (!url) throw new Error('SPILLCHEST_REDIS_URL is not set (see README, Development)');
const mib = Number(args.mib);
const prefix = `spillchest-soak:${process.pid}:`;
const big = new Float64Array((mib * 2 ** 20) / 8);
for (let i = 0; i < big.length; i += 512) big[i] = i;
const writer = await AsyncChest.open<string, Float64Array>({
  store: new RedisStore({ url, prefix }),
  availableMemory: 0,
});
let t = performance.now();
await writer.set('big', big);
const setS = (performance.now() - t) / 1000;
const reader = await AsyncChest.open<string, Float64Array>({
  store: new RedisStore({ url, prefix }),
  availableMemory: 0,
});
t = performance.now();
const got = (await reader.get('big'))!;
const getS = (performance.now() - t) / 1000;
const same =
  Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(big.buffer)) === 0;
await writer.clear();
await writer.close();
await reader.close();
console.log(`${mib} MiB: set ${setS.toFixed(2)} s, get ${getS.toFixed(2)} s, identical: ${same}`);
if (!same) process.exitCode = 1;
