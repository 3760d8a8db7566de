/**
 * Where the Redis tests find their servers: SPILLCHEST_REDIS_URL (a single server) and
 * SPILLCHEST_REDIS_CLUSTER (nodes of a cluster, `host:port,host:port,...`), as printed by
 * `scripts/redis-test-servers.sh start`. Without them the tests are skipped, with the reason in
 * their name, except under CI=true, where a missing server fails the run.
 */
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import type { RedisStoreOptions } from '../src/stores/redis/index.js';

export interface RedisTarget {
  readonly label: string;
  /** The store options that reach it, without a prefix. */
  readonly options: RedisStoreOptions;
}

const url = process.env.SPILLCHEST_REDIS_URL;
const cluster = process.env.SPILLCHEST_REDIS_CLUSTER;

/** The single server and the cluster, each when configured. */
export const targets: { single?: RedisTarget; cluster?: RedisTarget } = {
  ...(url ? { single: { label: 'Redis single server', options: { url } } } : {}),
  ...(cluster ? { cluster: { label: 'Redis Cluster', options: { cluster: cluster.split(',') } } } : {}),
};

/** Runs `body` for each configured target; reports the missing ones as skipped (or failed in CI). */
export function forEachTarget(
  body: (target: RedisTarget) => void,
  which: readonly ('single' | 'cluster')[] = ['single', 'cluster'],
): void {
  for (const name of which) {
    const target = targets[name];
    if (target !== undefined) {
      body(target);
      continue;
    }
    const variable = name === 'single' ? 'SPILLCHEST_REDIS_URL' : 'SPILLCHEST_REDIS_CLUSTER';
    if (process.env.CI === 'true') {
      describe(`Redis ${name}`, () => {
        it(`has a server: CI=true needs ${variable}`, () => {
          throw new Error(`${variable} is not set; CI must start the Redis test servers`);
        });
      });
    } else {
      describe.skip(`Redis ${name} (skipped: ${variable} is not set; see README, Development)`, () => {
        it('needs a server', () => undefined);
      });
    }
  }
}

let counter = 0;

/** A prefix no other test uses. */
export function freshPrefix(): string {
  return `spillchest-test:${process.pid}:${Date.now().toString(36)}:${counter++}:`;
}

/** Removes every key under `prefix` (manifest included), on every master of the target. */
export async function dropPrefix(target: RedisTarget, prefix: string): Promise<void> {
  const { url: single, cluster: members } = target.options;
  const nodes =
    single !== undefined
      ? [single]
      : (members ?? []).map((n) => `redis://${typeof n === 'string' ? n : `${n.host}:${n.port}`}`);
  for (const node of nodes) {
    const client = new Redis(node);
    try {
      let cursor = '0';
      do {
        const [next, names] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const name of names) await client.unlink(name).catch(() => undefined);
      } while (cursor !== '0');
    } finally {
      await client.quit();
    }
  }
}
