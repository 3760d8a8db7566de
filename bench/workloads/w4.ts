/**
 * W4 scale: N records (10,000,000 by default, --n to change), budget 64 MiB; insert all; close and
 * reopen; 100,000 random gets. Peak RSS comes from the memory sampler (every workload records it).
 */
import { structured } from '../../src/serializers/structured.js';
import { diskUsage } from '../lib/disk.js';
import { perSecond, readRecords, timed, writeRecords } from '../lib/ops.js';
import { keyOf, record } from '../lib/records.js';
import { mulberry32, SEED, uniform } from '../lib/rng.js';
import { fmtInt, KiB, MiB } from '../lib/units.js';
import type { Workload } from '../lib/workload.js';

export interface W4Params {
  readonly records: number;
  readonly gets: number;
  readonly budget: number;
}

export const DEFAULT_W4_N = 10_000_000;

/**
 * Bytes of the data set serialized: every key's UTF-8 bytes plus its record as a self-contained value
 * of Chest's default serializer (`structured.dump`, field names included), which is what "bytes on
 * disk within 2x the serialized data" is measured against. The same figure for every peer, whatever
 * it stores: a chest keeps its records' field names once per store (format 4), so its own entries
 * are smaller than this. Computed after the timed phases.
 */
export function serializedBytes(records: number): number {
  let total = 0;
  for (let i = 0; i < records; i++) {
    total += Buffer.byteLength(keyOf(i)) + (structured.dump(record(i)) as Uint8Array).byteLength;
  }
  return total;
}

export const w4: Workload<W4Params> = {
  id: 'W4',
  title: 'W4 scale',
  description:
    'N records (default 10,000,000; --n 100000000 for the large run), budget 64 MiB: insert all; flush, ' +
    'close and reopen; 100,000 uniformly random gets. Peak RSS and RssAnon per run (one process per run).',
  values: 'records',
  figures: [
    { key: 'inserts/s', label: 'inserts/s', better: 'higher' },
    { key: 'gets/s', label: 'gets/s', better: 'higher' },
    { key: 'reopen s', label: 'reopen s', better: 'lower', digits: 3 },
    { key: 'close s', label: 'flush+close s', better: 'lower', digits: 3 },
    { key: 'disk MiB', label: 'disk MiB (allocated)', better: 'lower', digits: 1 },
    { key: 'disk/serialized', label: 'disk ÷ serialized data', better: 'lower', digits: 2 },
    { key: 'size error', label: 'size after reopen off by', better: 'lower', digits: 0, count: true },
    { key: 'bad reads', label: 'bad reads', better: 'lower', digits: 0, count: true },
  ],
  chart: [{ key: 'inserts/s', log: true }],
  baseline: 'lmdb',
  defaultRuns: 3,
  params: ({ quick, n }) =>
    quick
      ? { records: n ?? 10_000, gets: 2_000, budget: 256 * KiB }
      : { records: n ?? DEFAULT_W4_N, gets: 100_000, budget: 64 * MiB },
  limit: (p, l) => ({ ...p, records: Math.min(p.records, l.records), gets: Math.min(p.gets, l.ops) }),
  summary: (p) =>
    `N = ${fmtInt(p.records)} records, ${fmtInt(p.gets)} gets after reopen, ` +
    `budget ${p.budget >= MiB ? `${p.budget / MiB} MiB` : `${p.budget / KiB} KiB`}`,
  async run(peer, p, { dir, mem, notes }) {
    const open = () => peer.open({ dir, budget: p.budget, values: 'records', workload: 'W4' });
    const store = await open();
    const insertMs = await writeRecords(store, p.records, (n) => n, mem);
    mem.settle();
    const closeMs = await timed(async () => {
      await store.flush();
      await store.close();
    });
    const next = uniform(mulberry32(SEED), p.records);
    let reopenMs: number | null = null;
    let getsPerSecond: number | null = null;
    let bad = 0;
    let sizeError: number | null = null;
    if (store.persistent) {
      const t0 = performance.now();
      const again = await open();
      reopenMs = performance.now() - t0;
      if (again.count) sizeError = Math.abs((await again.count()) - p.records);
      else notes.push('no entry count: size after reopen n/a');
      const r = await readRecords(again, p.gets, next, mem);
      getsPerSecond = perSecond(p.gets, r.ms);
      bad = r.bad;
      await again.close();
    } else {
      notes.push('not persistent: reopen and gets after reopen n/a');
    }
    const disk = diskUsage(dir);
    const serialized = store.persistent ? serializedBytes(p.records) : 0;
    return {
      figures: {
        'inserts/s': perSecond(p.records, insertMs),
        'gets/s': getsPerSecond,
        'reopen s': reopenMs === null ? null : reopenMs / 1000,
        'close s': closeMs / 1000,
        'disk MiB': store.persistent ? disk.allocated / MiB : null,
        'disk/serialized': store.persistent ? disk.allocated / serialized : null,
        'size error': sizeError,
        'bad reads': bad,
      },
      wallMs: insertMs + closeMs + (reopenMs ?? 0),
    };
  },
};
