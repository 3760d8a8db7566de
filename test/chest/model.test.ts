import { describe, it } from 'vitest';
import { Chest, type Key } from '../../src/index.js';
import { freshPath } from '../helpers.js';
import { chestSubject, runModel, type Value } from './model.js';

describe('Chest against a Map', () => {
  it('Chest behaves as a Map under random operations, reopens and budgets', async () => {
    await runModel(
      () => freshPath(),
      (path, budget, inlineThreshold, variant) =>
        chestSubject(new Chest<Key, Value>({ path, availableMemory: budget, inlineThreshold, ...variant })),
      process.env.CI === undefined ? 150 : 80,
    );
  });
});
