/**
 * W2 large arrays: 48 Float64Arrays of 1,048,576 elements (8 MiB each), budget 64 MiB; insert all; read
 * all in order, twice. Each array is generated just before its set (generation is not timed) so the
 * benchmark itself never holds the 384 MiB.
 */
import { diskUsage } from '../lib/disk.js';
import { timed } from '../lib/ops.js';
import { isArrayOf, makeArray } from '../lib/records.js';
import { fmtInt, MiB } from '../lib/units.js';
import type { Workload } from '../lib/workload.js';

export interface W2Params {
  readonly arrays: number;
  readonly length: number;
  readonly passes: number;
  readonly budget: number;
}

const keyOfArray = (i: number): string => `a${i}`;

export const w2: Workload<W2Params> = {
  id: 'W2',
  title: 'W2 large arrays',
  description:
    '48 Float64Arrays of 1,048,576 elements (8 MiB each), budget 64 MiB: insert all (write MiB/s: the set ' +
    'calls plus awaiting batched writes, generation excluded, no flush); read all in order, twice (read ' +
    'MiB/s over both passes). The floor is fs.writeFileSync/readFileSync of the same bytes, plus a reader ' +
    'using fs.readSync into one buffer allocated once.',
  values: 'arrays',
  figures: [
    { key: 'write MiB/s', label: 'write MiB/s', better: 'higher' },
    { key: 'read MiB/s', label: 'read MiB/s', better: 'higher' },
    { key: 'write+flush MiB/s', label: 'write+flush MiB/s', better: 'higher' },
    { key: 'disk MiB', label: 'disk MiB (allocated)', better: 'lower', digits: 1 },
    { key: 'bad reads', label: 'bad reads', better: 'lower', digits: 0, count: true },
  ],
  chart: [
    { key: 'write MiB/s', log: true },
    { key: 'read MiB/s', log: true },
  ],
  baseline: 'fs',
  defaultRuns: 5,
  params: ({ quick }) =>
    quick
      ? { arrays: 4, length: 65_536, passes: 2, budget: 1 * MiB }
      : { arrays: 48, length: 1_048_576, passes: 2, budget: 64 * MiB },
  limit: (p, l) => ({ ...p, arrays: Math.min(p.arrays, l.records) }),
  summary: (p) =>
    `${p.arrays} arrays of ${fmtInt(p.length)} doubles (${(p.length * 8) / MiB} MiB each), ` +
    `read ${p.passes}×, budget ${p.budget / MiB} MiB`,
  async run(peer, p, { dir, mem, notes }) {
    const store = await peer.open({ dir, budget: p.budget, values: 'arrays', workload: 'W2' });
    const mib = (p.arrays * p.length * 8) / MiB;

    let writeMs = 0;
    let last: unknown;
    for (let i = 0; i < p.arrays; i++) {
      const a = makeArray(i, p.length);
      mem.probe();
      const t0 = performance.now();
      const r = store.set(keyOfArray(i), a);
      if (store.setMode === 'await') await r;
      else if (store.setMode === 'batched') last = r;
      writeMs += performance.now() - t0;
    }
    if (store.setMode === 'batched') writeMs += await timed(() => last);
    mem.probeProc();
    const flushMs = await timed(() => store.flush());

    let bad = 0;
    const t0 = performance.now();
    for (let pass = 0; pass < p.passes; pass++) {
      for (let i = 0; i < p.arrays; i++) {
        const v = store.getMode === 'sync' ? store.get(keyOfArray(i)) : await store.get(keyOfArray(i));
        if (!isArrayOf(v, i, p.length)) bad++;
        mem.probe();
      }
    }
    const readMs = performance.now() - t0;
    mem.settle();
    await store.close();
    const disk = diskUsage(dir);
    if (!store.persistent) notes.push('in memory: no disk');
    return {
      figures: {
        'write MiB/s': (mib * 1000) / writeMs,
        'read MiB/s': (mib * p.passes * 1000) / readMs,
        'write+flush MiB/s': (mib * 1000) / (writeMs + flushMs),
        'disk MiB': store.persistent ? disk.allocated / MiB : null,
        'bad reads': bad,
      },
      wallMs: writeMs + flushMs + readMs,
    };
  },
};
