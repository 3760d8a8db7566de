import { describe, it } from 'vitest';
import { AsyncChest, type Key } from '../../src/index.js';
import { freshPath } from '../helpers.js';
import { asyncChestSubject, runModel, type Value } from './model.js';

describe('AsyncChest against a Map', () => {
  it('AsyncChest behaves as a Map under random operations, reopens and budgets', async () => {
    await runModel(
      () => freshPath(),
      (path, budget, inlineThreshold, variant) =>
        asyncChestSubject(
          new AsyncChest<Key, Value>({ path, availableMemory: budget, inlineThreshold, ...variant }),
        ),
      process.env.CI === undefined ? 150 : 80,
    );
  });
});
