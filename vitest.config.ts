import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      {
        // The chest and reliability suites again with every set's spill going through the spill
        // thread from the first one (by default it starts after 65,536 spilled entries, which few
        // tests reach). Child processes the tests start inherit the setting.
        extends: true,
        test: {
          name: 'spill-thread',
          include: ['test/chest/**/*.test.ts', 'test/reliability/**/*.test.ts'],
          // These set it themselves: a second run would repeat the first.
          exclude: [
            ...configDefaults.exclude,
            'test/chest/spill-thread.test.ts',
            'test/reliability/spill-thread-processes.test.ts',
          ],
          env: { SPILLCHEST_SPILL_THREAD: '1' },
        },
      },
    ],
  },
});
