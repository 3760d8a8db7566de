import { RedisStore } from '../../src/stores/redis/index.js';
import type { AnyStore } from '../../src/stores/types.js';
import { storeSuite } from '../conformance/store-suite.js';
import { dropPrefix, forEachTarget, freshPrefix } from '../redis-env.js';

forEachTarget((target) => {
  const prefixes = new Map<AnyStore, string>();
  const used: string[] = [];
  const make = (prefix: string): RedisStore => {
    // Small parts, so that the suite's large values are split.
    const store = new RedisStore({ ...target.options, prefix, partSize: 64 * 1024 });
    prefixes.set(store, prefix);
    return store;
  };
  storeSuite(`RedisStore (${target.label})`, {
    open: () => {
      const prefix = freshPrefix();
      used.push(prefix);
      return make(prefix);
    },
    reopen: (store) => make(prefixes.get(store)!),
    cleanup: async () => {
      for (const prefix of used.splice(0)) await dropPrefix(target, prefix);
      prefixes.clear();
    },
  });
});
