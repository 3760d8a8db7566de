/**
 * W5 processes: 4 processes open one store (one folder); each inserts 100,000 records of its own, flushes,
 * and, once every process has flushed, reads 100,000 random records written by the others.
 *
 * Process j writes the records of indices [j * R, (j + 1) * R) under "k" + index, so every value can be
 * checked. Reads pick another process uniformly, then one of its indices uniformly, from a mulberry32
 * stream seeded 42 + j. The coordinator (main process) starts the insert phase in all processes at once,
 * starts the read phase once all have flushed, and times from the first start to the last answer.
 */
import { diskUsage } from '../lib/disk.js';
import { describeError } from '../lib/errors.js';
import { MemProbe } from '../lib/mem.js';
import { equalsRecord, keyOf, record } from '../lib/records.js';
import { mulberry32, SEED } from '../lib/rng.js';
import { Child, guard, type ChildMessage } from '../lib/spawn.js';
import type { MemoryFigures, Peer, SampleResult, Store } from '../lib/types.js';
import { fmtInt, KiB, MiB } from '../lib/units.js';
import type { Workload } from '../lib/workload.js';

export interface W5Params {
  readonly processes: number;
  /** Records each process inserts. */
  readonly records: number;
  /** Reads each process performs. */
  readonly reads: number;
  readonly budget: number;
}

export interface W5Job {
  readonly kind: 'w5';
  readonly peer: string;
  readonly params: W5Params;
  readonly dir: string;
  readonly index: number;
}

async function expect(
  child: Child,
  type: string,
  phase: string,
  index: number,
  total: number,
): Promise<ChildMessage> {
  const m = await child.receive();
  if (m.type === 'error')
    throw new Error(`process ${index + 1}/${total} failed to ${phase}: ${String(m.message)}`);
  if (m.type !== type) throw new Error(`process ${index + 1}/${total}: expected ${type}, got ${m.type}`);
  return m;
}

const maxMemory = (ms: readonly MemoryFigures[]): MemoryFigures => {
  const max = (f: (m: MemoryFigures) => number) => Math.max(...ms.map(f));
  return {
    baselineHeapExt: max((m) => m.baselineHeapExt),
    peakHeapExtOverBaseline: max((m) => m.peakHeapExtOverBaseline),
    retainedHeapExtOverBaseline: max((m) => m.retainedHeapExtOverBaseline),
    peakHeapUsed: max((m) => m.peakHeapUsed),
    peakExternal: max((m) => m.peakExternal),
    peakRssAnon: max((m) => m.peakRssAnon),
    peakRss: max((m) => m.peakRss),
    vmHwm: max((m) => m.vmHwm),
    baselineRssAnon: max((m) => m.baselineRssAnon),
  };
};

export const w5: Workload<W5Params> = {
  id: 'W5',
  title: 'W5 processes',
  description:
    '4 processes open one store (same folder, budget 16 MiB each); each inserts 100,000 records of its own ' +
    'and flushes; once all have flushed, each reads 100,000 random records written by the others. ' +
    'Total ops/s = all inserts and reads / time from the common start to the last answer.',
  values: 'records',
  figures: [
    { key: 'total ops/s', label: 'total ops/s', better: 'higher' },
    { key: 'insert ops/s', label: 'inserts/s (all)', better: 'higher' },
    { key: 'read ops/s', label: 'reads/s (all)', better: 'higher' },
    { key: 'errors', label: 'errors', better: 'lower', digits: 0, count: true },
    { key: 'lost', label: 'lost values', better: 'lower', digits: 0, count: true },
    { key: 'wrong', label: 'wrong values', better: 'lower', digits: 0, count: true },
    { key: 'disk MiB', label: 'disk MiB (allocated)', better: 'lower', digits: 1 },
  ],
  chart: [{ key: 'total ops/s', log: true }],
  baseline: 'lmdb',
  defaultRuns: 3,
  params: ({ quick }) =>
    quick
      ? { processes: 4, records: 1_000, reads: 1_000, budget: 256 * KiB }
      : { processes: 4, records: 100_000, reads: 100_000, budget: 16 * MiB },
  limit: (p, l) => ({ ...p, records: Math.min(p.records, l.records), reads: Math.min(p.reads, l.ops) }),
  summary: (p) =>
    `${p.processes} processes × (${fmtInt(p.records)} inserts + ${fmtInt(p.reads)} reads), ` +
    `budget ${p.budget >= MiB ? `${p.budget / MiB} MiB` : `${p.budget / KiB} KiB`} each`,

  async coordinate(peer, p, ctx): Promise<SampleResult> {
    const n = p.processes;
    const children = Array.from({ length: n }, (_, j) => new Child(`W5 ${peer.name} #${j + 1}`));
    const g = guard(children, ctx.timeoutMs, ctx.rssLimit);
    try {
      children.forEach((c, j) => {
        c.send({ kind: 'w5', peer: peer.name, params: p, dir: ctx.dir, index: j } satisfies W5Job);
      });
      // Opening is sequential by nature (each process opens when it starts); all must succeed.
      await Promise.all(children.map((c, j) => expect(c, 'ready', 'open the store', j, n)));
      const t0 = performance.now();
      for (const c of children) c.send({ type: 'insert' });
      const inserted = await Promise.all(children.map((c, j) => expect(c, 'inserted', 'insert', j, n)));
      const t1 = performance.now();
      for (const c of children) c.send({ type: 'read' });
      const done = await Promise.all(children.map((c, j) => expect(c, 'done', 'read', j, n)));
      const t2 = performance.now();
      await Promise.all(children.map((c) => c.exited));
      g.stop();
      const sum = (ms: readonly ChildMessage[], f: string) => ms.reduce((s, m) => s + Number(m[f] ?? 0), 0);
      const errors = sum(inserted, 'errors') + sum(done, 'errors');
      const memory = maxMemory(done.map((m) => m.memory as MemoryFigures));
      return {
        figures: {
          'total ops/s': (n * (p.records + p.reads) * 1000) / (t2 - t0),
          'insert ops/s': (n * p.records * 1000) / (t1 - t0),
          'read ops/s': (n * p.reads * 1000) / (t2 - t1),
          errors,
          lost: sum(done, 'lost'),
          wrong: sum(done, 'wrong'),
          'disk MiB': diskUsage(ctx.dir).allocated / MiB,
        },
        memory: {
          ...memory,
          peakRssAnon: Math.max(memory.peakRssAnon, g.watcher.peakRssAnon),
          peakRss: Math.max(memory.peakRss, g.watcher.peakRss),
          vmHwm: Math.max(memory.vmHwm, g.watcher.vmHwm),
        },
        wallMs: t2 - t0,
        notes: [],
      };
    } finally {
      g.stop();
      for (const c of children) c.kill('done');
    }
  },
};

/** The per-process side of W5, run inside a child. `next` yields the coordinator's messages. */
export async function w5Worker(
  peer: Peer,
  job: W5Job,
  next: () => Promise<{ type: string }>,
  send: (m: object) => Promise<void>,
): Promise<void> {
  const { params: p, index } = job;
  const mem = new MemProbe();
  mem.start();
  let store: Store;
  try {
    store = await peer.open({ dir: job.dir, budget: p.budget, values: 'records', workload: 'W5' });
  } catch (e) {
    await send({ type: 'error', message: describeError(e) });
    return;
  }
  await send({ type: 'ready' });
  if ((await next()).type !== 'insert') throw new Error('expected insert');

  let errors = 0;
  const t0 = performance.now();
  const first = index * p.records;
  const pending: Promise<unknown>[] = [];
  for (let n = 0; n < p.records; n++) {
    const i = first + n;
    try {
      const r = store.set(keyOf(i), record(i));
      if (store.setMode === 'await') await r;
      else if (store.setMode === 'batched' && n === p.records - 1) pending.push(r as Promise<unknown>);
      else if (store.setMode === 'batched')
        (r as Promise<unknown>).catch(() => {
          errors++;
        });
    } catch {
      errors++;
    }
    if ((n & 0x7fff) === 0) mem.probe();
  }
  try {
    await Promise.all(pending);
    await store.flush();
  } catch {
    errors++;
  }
  await send({ type: 'inserted', ms: performance.now() - t0, errors });
  if ((await next()).type !== 'read') throw new Error('expected read');

  const rand = mulberry32(SEED + index);
  const others = Array.from({ length: p.processes }, (_, j) => j).filter((j) => j !== index);
  let lost = 0;
  let wrong = 0;
  let readErrors = 0;
  const t1 = performance.now();
  for (let n = 0; n < p.reads; n++) {
    const o = others[Math.floor(rand() * others.length)] ?? 0;
    const i = o * p.records + Math.floor(rand() * p.records);
    try {
      const v = store.getMode === 'sync' ? store.get(keyOf(i)) : await store.get(keyOf(i));
      if (v === undefined || v === null) lost++;
      else if (!equalsRecord(v, i)) wrong++;
    } catch {
      readErrors++;
    }
    if ((n & 0x7fff) === 0) mem.probe();
  }
  const readMs = performance.now() - t1;
  mem.settle();
  try {
    await store.close();
  } catch {
    readErrors++;
  }
  await send({ type: 'done', ms: readMs, lost, wrong, errors: readErrors, memory: mem.result() });
}
