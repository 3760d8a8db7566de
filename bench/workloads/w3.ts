/**
 * W3 hot set: 200,000 records, budget 2 MiB; 500,000 gets, 90% of them to a hot 10% of the keys.
 * The hot keys are every tenth key (i % 10 === 0), spread over the insertion order so that insertion
 * recency does not favour them; the other 10% of gets go uniformly to the remaining keys.
 */
import { perSecond, readRecords, writeRecords } from '../lib/ops.js';
import { mulberry32, SEED } from '../lib/rng.js';
import { fmtInt, KiB, MiB } from '../lib/units.js';
import type { Workload } from '../lib/workload.js';

export interface W3Params {
  readonly records: number;
  readonly gets: number;
  /** Share of gets that go to the hot keys. */
  readonly hotShare: number;
  readonly budget: number;
}

/** Index picker: hot keys are the multiples of 10 (10% of the keys), cold ones the rest. */
export function hotColdPicker(records: number, hotShare: number, rand: () => number): () => number {
  const hot = Math.ceil(records / 10);
  const cold = records - hot;
  return () => {
    if (rand() < hotShare) return 10 * Math.floor(rand() * hot);
    const k = Math.floor(rand() * cold);
    return k + Math.floor(k / 9) + 1;
  };
}

export const w3: Workload<W3Params> = {
  id: 'W3',
  title: 'W3 hot set',
  description:
    '200,000 records, budget 2 MiB: insert all; then 500,000 gets, 90% to a hot 10% of the keys (every ' +
    'tenth key), 10% uniformly to the others. Hit ratio = memory-tier hits / gets in the get phase.',
  values: 'records',
  figures: [
    { key: 'gets/s', label: 'gets/s', better: 'higher' },
    { key: 'hit ratio', label: 'hit ratio', better: 'higher', digits: 3 },
    { key: 'load/s', label: 'inserts/s', better: 'higher' },
    { key: 'bad reads', label: 'bad reads', better: 'lower', digits: 0, count: true },
  ],
  chart: [
    { key: 'gets/s', log: true },
    { key: 'hit ratio', log: false },
  ],
  baseline: 'lru-cache',
  defaultRuns: 5,
  params: ({ quick }) =>
    quick
      ? { records: 5_000, gets: 10_000, hotShare: 0.9, budget: 64 * KiB }
      : { records: 200_000, gets: 500_000, hotShare: 0.9, budget: 2 * MiB },
  limit: (p, l) => ({ ...p, records: Math.min(p.records, l.records), gets: Math.min(p.gets, l.ops) }),
  summary: (p) =>
    `${fmtInt(p.records)} records, ${fmtInt(p.gets)} gets (${p.hotShare * 100}% to 10% of keys), ` +
    `budget ${p.budget >= MiB ? `${p.budget / MiB} MiB` : `${p.budget / KiB} KiB`}`,
  async run(peer, p, { dir, mem, notes }) {
    const store = await peer.open({ dir, budget: p.budget, values: 'records', workload: 'W3' });
    const loadMs = await writeRecords(store, p.records, (n) => n, mem);
    const before = store.tierStats?.();
    const gets = await readRecords(
      store,
      p.gets,
      hotColdPicker(p.records, p.hotShare, mulberry32(SEED)),
      mem,
    );
    const after = store.tierStats?.();
    let hitRatio: number | null = null;
    if (before && after) {
      const hits = after.hits - before.hits;
      const misses = after.misses - before.misses;
      hitRatio = hits + misses > 0 ? hits / (hits + misses) : null;
    } else {
      notes.push('no memory tier: hit ratio n/a');
    }
    mem.settle();
    await store.close();
    return {
      figures: {
        'gets/s': perSecond(p.gets, gets.ms),
        'hit ratio': hitRatio,
        'load/s': perSecond(p.records, loadMs),
        'bad reads': gets.bad,
      },
      wallMs: gets.ms,
    };
  },
};
