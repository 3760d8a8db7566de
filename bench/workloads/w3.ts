/**
 * W3 hot set: 200,000 records, budget 2 MiB; 500,000 gets, 90% of them to a hot 10% of the keys.
 * The hot keys are every tenth key (i % 10 === 0), spread over the insertion order so that insertion
 * recency does not favour them; the other 10% of gets go uniformly to the remaining keys.
 *
 * W3s is W3 with a full scan mixed in: after the first 150,000 hot/cold gets, each one is followed by
 * a get of the next key of a scan over every key in order, until the scan has read all of them once
 * (200,000 more gets, interleaved with hot/cold gets 150,000 to 350,000). It is what a cache sees when
 * a report or an export walks the whole data set while the usual traffic goes on.
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
  /** W3s: hot/cold gets before the interleaved full scan starts; absent in W3. */
  readonly scanAfter?: number;
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

/**
 * `pick` as it is until it has been called `after` times; from then on every other call reads the
 * next key of a scan over `[0, records)`, until the scan is done.
 */
export function withScan(pick: () => number, records: number, after: number): () => number {
  let n = 0;
  let scanned = 0;
  let scanNext = false;
  return () => {
    if (scanNext) {
      scanNext = false;
      return scanned++;
    }
    n++;
    scanNext = n > after && scanned < records;
    return pick();
  };
}

const describe = (p: W3Params): string =>
  `${fmtInt(p.records)} records, ${fmtInt(p.gets)} gets (${p.hotShare * 100}% to 10% of keys)` +
  (p.scanAfter === undefined
    ? ''
    : ` with a full scan of ${fmtInt(p.records)} keys mixed in after get ${fmtInt(p.scanAfter)}`) +
  `, budget ${p.budget >= MiB ? `${p.budget / MiB} MiB` : `${p.budget / KiB} KiB`}`;

/** Gets issued in the get phase: the hot/cold ones plus, in W3s, the scan's. */
export const totalGets = (p: W3Params): number => p.gets + (p.scanAfter === undefined ? 0 : p.records);

const hotSet = (
  id: 'W3' | 'W3s',
  title: string,
  description: string,
  scanAfter: (p: Omit<W3Params, 'scanAfter'>) => number | undefined,
  only?: Pick<Workload<W3Params>, 'peers' | 'onlyWhy'>,
): Workload<W3Params> => ({
  ...only,
  id,
  title,
  description,
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
  params: ({ quick }) => {
    const base = quick
      ? { records: 5_000, gets: 10_000, hotShare: 0.9, budget: 64 * KiB }
      : { records: 200_000, gets: 500_000, hotShare: 0.9, budget: 2 * MiB };
    const after = scanAfter(base);
    return after === undefined ? base : { ...base, scanAfter: after };
  },
  limit: (p, l) => {
    const records = Math.min(p.records, l.records);
    const gets = Math.min(p.gets, l.ops);
    const limited = { ...p, records, gets };
    return p.scanAfter === undefined
      ? limited
      : { ...limited, scanAfter: Math.floor((p.scanAfter * gets) / p.gets) };
  },
  summary: describe,
  async run(peer, p, { dir, mem, notes }) {
    const store = await peer.open({ dir, budget: p.budget, values: 'records', workload: id });
    const loadMs = await writeRecords(store, p.records, (n) => n, mem);
    const before = store.tierStats?.();
    const hotCold = hotColdPicker(p.records, p.hotShare, mulberry32(SEED));
    const pick = p.scanAfter === undefined ? hotCold : withScan(hotCold, p.records, p.scanAfter);
    const count = totalGets(p);
    const gets = await readRecords(store, count, pick, mem);
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
        'gets/s': perSecond(count, gets.ms),
        'hit ratio': hitRatio,
        'load/s': perSecond(p.records, loadMs),
        'bad reads': gets.bad,
      },
      wallMs: gets.ms,
    };
  },
});

export const w3 = hotSet(
  'W3',
  'W3 hot set',
  '200,000 records, budget 2 MiB: insert all; then 500,000 gets, 90% to a hot 10% of the keys (every ' +
    'tenth key), 10% uniformly to the others. Hit ratio = memory-tier hits / gets in the get phase.',
  () => undefined,
);

export const w3s = hotSet(
  'W3s',
  'W3s hot set with a scan',
  'W3 with a full scan mixed in: after the first 150,000 of the 500,000 hot/cold gets, each is followed ' +
    'by a get of the next key of a scan over all 200,000 keys in order, until every key was read once ' +
    '(700,000 gets in all). Hit ratio = memory-tier hits / all gets, the scan included.',
  (p) => Math.floor((p.gets * 3) / 10),
  {
    peers: ['chest', 'chest-lru', 'lru-cache'],
    onlyWhy: 'W3s compares eviction policies: only peers with a memory tier of a fixed budget run it',
  },
);
