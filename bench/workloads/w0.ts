/**
 * W0 memory hits: 100,000 records, a budget large enough for all of them; then 1,000,000 gets of
 * uniformly random keys; then 1,000,000 sets overwriting uniformly random existing keys.
 */
import { readRecords, writeRecords, perSecond } from '../lib/ops.js';
import { mulberry32, SEED, uniform } from '../lib/rng.js';
import { fmtInt, MiB } from '../lib/units.js';
import type { Workload } from '../lib/workload.js';

export interface W0Params {
  readonly records: number;
  readonly gets: number;
  readonly sets: number;
  readonly budget: number;
}

export const w0: Workload<W0Params> = {
  id: 'W0',
  title: 'W0 memory hits',
  description:
    '100,000 records under "k" + i, budget large enough for all (256 MiB); then 1,000,000 gets of uniformly ' +
    'random keys; then 1,000,000 sets overwriting uniformly random existing keys (mulberry32, seed 42).',
  values: 'records',
  figures: [
    { key: 'gets/s', label: 'gets/s', better: 'higher' },
    { key: 'sets/s', label: 'sets/s', better: 'higher' },
    { key: 'load/s', label: 'initial inserts/s', better: 'higher' },
    { key: 'bad reads', label: 'bad reads', better: 'lower', digits: 0, count: true },
  ],
  chart: [
    { key: 'gets/s', log: true },
    { key: 'sets/s', log: true },
  ],
  baseline: 'lru-cache',
  defaultRuns: 5,
  params: ({ quick }) =>
    quick
      ? { records: 2_000, gets: 10_000, sets: 10_000, budget: 256 * MiB }
      : { records: 100_000, gets: 1_000_000, sets: 1_000_000, budget: 256 * MiB },
  limit: (p, l) => ({
    ...p,
    records: Math.min(p.records, l.records),
    gets: Math.min(p.gets, l.ops),
    sets: Math.min(p.sets, l.ops),
  }),
  summary: (p) =>
    `${fmtInt(p.records)} records, ${fmtInt(p.gets)} gets, ${fmtInt(p.sets)} sets, budget ${p.budget / MiB} MiB`,
  async run(peer, p, { dir, mem }) {
    const store = await peer.open({ dir, budget: p.budget, values: 'records', workload: 'W0' });
    const loadMs = await writeRecords(store, p.records, (n) => n, mem);
    const next = uniform(mulberry32(SEED), p.records);
    const gets = await readRecords(store, p.gets, next, mem);
    const setsMs = await writeRecords(store, p.sets, () => next(), mem);
    mem.settle();
    await store.close();
    return {
      figures: {
        'gets/s': perSecond(p.gets, gets.ms),
        'sets/s': perSecond(p.sets, setsMs),
        'load/s': perSecond(p.records, loadMs),
        'bad reads': gets.bad,
      },
      wallMs: gets.ms + setsMs,
    };
  },
};
