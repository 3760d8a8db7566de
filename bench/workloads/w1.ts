/**
 * W1 small pairs: 1,000,000 records, budget 16 MiB; insert all; 200,000 uniformly random gets; flush
 * and close; reopen; 10,000 random gets.
 */
import { diskUsage } from '../lib/disk.js';
import { perSecond, readRecords, timed, writeRecords } from '../lib/ops.js';
import { mulberry32, SEED, uniform } from '../lib/rng.js';
import { fmtInt, KiB, MiB } from '../lib/units.js';
import type { Workload } from '../lib/workload.js';

export interface W1Params {
  readonly records: number;
  readonly gets: number;
  readonly reopenGets: number;
  readonly budget: number;
}

export const w1: Workload<W1Params> = {
  id: 'W1',
  title: 'W1 small pairs',
  description:
    '1,000,000 records, budget 16 MiB: insert all; 200,000 uniformly random gets; flush and close; reopen; ' +
    '10,000 random gets (same seeded stream).',
  values: 'records',
  figures: [
    { key: 'inserts/s', label: 'inserts/s', better: 'higher' },
    { key: 'gets/s', label: 'gets/s', better: 'higher' },
    { key: 'close s', label: 'flush+close s', better: 'lower', digits: 3 },
    { key: 'reopen s', label: 'reopen s', better: 'lower', digits: 3 },
    { key: 'reopen gets/s', label: 'gets/s after reopen', better: 'higher' },
    { key: 'disk MiB', label: 'disk MiB (allocated)', better: 'lower', digits: 1 },
    { key: 'disk apparent MiB', label: 'disk MiB (apparent)', better: 'none', digits: 1 },
    { key: 'bad reads', label: 'bad reads', better: 'lower', digits: 0, count: true },
  ],
  chart: [
    { key: 'inserts/s', log: true },
    { key: 'gets/s', log: true },
  ],
  baseline: 'lmdb',
  defaultRuns: 5,
  params: ({ quick }) =>
    quick
      ? { records: 5_000, gets: 5_000, reopenGets: 1_000, budget: 128 * KiB }
      : { records: 1_000_000, gets: 200_000, reopenGets: 10_000, budget: 16 * MiB },
  limit: (p, l) => ({
    ...p,
    records: Math.min(p.records, l.records),
    gets: Math.min(p.gets, l.ops),
    reopenGets: Math.min(p.reopenGets, l.ops),
  }),
  summary: (p) =>
    `${fmtInt(p.records)} records, ${fmtInt(p.gets)} gets, ${fmtInt(p.reopenGets)} gets after reopen, ` +
    `budget ${p.budget >= MiB ? `${p.budget / MiB} MiB` : `${p.budget / KiB} KiB`}`,
  async run(peer, p, { dir, mem, notes }) {
    const open = () => peer.open({ dir, budget: p.budget, values: 'records', workload: 'W1' });
    const store = await open();
    const insertMs = await writeRecords(store, p.records, (n) => n, mem);
    const next = uniform(mulberry32(SEED), p.records);
    const gets = await readRecords(store, p.gets, next, mem);
    mem.settle();
    const closeMs = await timed(async () => {
      await store.flush();
      await store.close();
    });
    let reopenMs: number | null = null;
    let reopenGets: number | null = null;
    let bad = gets.bad;
    if (store.persistent) {
      const t0 = performance.now();
      const again = await open();
      reopenMs = performance.now() - t0;
      const r = await readRecords(again, p.reopenGets, next, mem);
      reopenGets = perSecond(p.reopenGets, r.ms);
      bad += r.bad;
      await again.close();
    } else {
      notes.push('not persistent: reopen n/a');
    }
    const disk = diskUsage(dir);
    return {
      figures: {
        'inserts/s': perSecond(p.records, insertMs),
        'gets/s': perSecond(p.gets, gets.ms),
        'close s': closeMs / 1000,
        'reopen s': reopenMs === null ? null : reopenMs / 1000,
        'reopen gets/s': reopenGets,
        'disk MiB': store.persistent ? disk.allocated / MiB : null,
        'disk apparent MiB': store.persistent ? disk.apparent / MiB : null,
        'bad reads': bad,
      },
      wallMs: insertMs + gets.ms + closeMs + (reopenMs ?? 0),
    };
  },
};
