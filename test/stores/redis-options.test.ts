import { describe, expect, it } from 'vitest';
import { RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js';

/** The Redis store's options are checked before it connects: no server is needed here. */
describe('RedisStore options', () => {
  const open = (options: unknown) => () => new RedisStore(options as RedisStoreOptions);

  it('missing options, or none or two of url, cluster and client, are a TypeError saying what to give', () => {
    expect(open(undefined)).toThrow(
      /^give the Redis store its options: \{ url: 'redis:\/\/…' \}, \{ cluster \} or \{ client \}$/,
    );
    expect(open({})).toThrow(/^give the Redis store exactly one of url, cluster or client$/);
    expect(open({ url: 'redis://127.0.0.1:1', cluster: ['127.0.0.1:2'] })).toThrow(/exactly one of/);
  });

  it('a prefix with a brace, or a part size out of range, names the option', () => {
    expect(open({ url: 'redis://127.0.0.1:1', prefix: 'a{b}:' })).toThrow(
      /^a Redis prefix may not hold \{ or \}: a\{b\}:$/,
    );
    for (const partSize of [0, 1.5, 513 * 2 ** 20])
      expect(open({ url: 'redis://127.0.0.1:1', partSize })).toThrow(
        /^partSize must be a whole number of bytes from 1 to 512 MiB/,
      );
  });
});
