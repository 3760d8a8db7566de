/**
 * `spillchest/redis`: the Redis store for `AsyncChest`. Needs the optional peer dependency `ioredis`.
 *
 * ```ts
 * import { AsyncChest } from 'spillchest';
 * import { RedisStore } from 'spillchest/redis';
 *
 * const store = new RedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'images:' });
 * await using chest = await AsyncChest.open({ store, availableMemory: '256 MB' });
 * ```
 */
export { RedisStore } from './store.js';
export type { RedisStoreOptions } from './store.js';
