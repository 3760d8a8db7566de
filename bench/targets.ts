/**
 * The targets Chest is judged on, computed from medians measured in the same run. The thresholds are
 * the project's stated targets; memory limits use the worst run (largest sample), not the median.
 */
import type { PeerRun, Target, WorkloadResult } from './lib/results.js';
import type { WorkloadId } from './lib/types.js';
import { MiB } from './lib/units.js';

export const THRESHOLDS = {
  /** W0 and W3: Chest vs lru-cache with the same budget and size estimate. */
  vsLruCache: 1.0,
  /** W1: Chest vs lmdb used directly with the same serializer. */
  w1VsLmdb: 0.7,
  /** W1: Chest vs every peer that keeps its memory bounded (node-persist, cacache, classic-level). */
  w1VsBounded: 10,
  /** W4: Chest's inserts/s vs lmdb used directly. */
  w4VsLmdb: 0.5,
  /** W2: Chest vs the plain-fs floor. */
  vsFloor: 0.8,
  /** W4: peak RssAnon of Chest, bytes. */
  w4RssAnon: 512 * MiB,
  /** W1 and W4: seconds to open the store again after closing it. */
  reopenSeconds: 0.1,
  /** W1: Chest vs the peers that hold everything in memory (keyv-file, flat-cache): at least as fast... */
  w1VsInMemory: 1.0,
  /** ...with at most this share of their peak RssAnon ("a small fraction of their memory"). */
  w1MemoryShare: 0.25,
  /** W4: allocated bytes on disk at most this many times the serialized keys and values. */
  w4DiskVsSerialized: 2,
  /** Memory: heap used + external over the baseline may exceed the budget by this much, bytes. */
  memorySlack: 64 * MiB,
} as const;

const CHEST = 'chest';
/** This library's own chests (Chest with one option changed, AsyncChest): never peers to beat. */
const CHEST_VARIANTS: ReadonlySet<string> = new Set([
  'chest-lru',
  'chest-immutable',
  'async-chest',
  'async-chest-redis',
]);

/** The results a target is computed from: one workload result (W4 has one per size). */
type Results = ReadonlyMap<WorkloadId, WorkloadResult>;

function run(results: Results, w: WorkloadId, peer: string): PeerRun | undefined {
  return results.get(w)?.peers.find((p) => p.peer === peer);
}

function why(w: WorkloadId, runs: readonly (PeerRun | undefined)[], names: readonly string[]): string {
  const parts: string[] = [];
  runs.forEach((r, i) => {
    if (!r) parts.push(`${names[i]} not run in ${w}`);
    else if (r.status !== 'ok') parts.push(`${names[i]}: ${r.reason ?? r.status}`);
  });
  return parts.join('; ') || 'no value';
}

function ratioTarget(
  results: Results,
  id: string,
  w: WorkloadId,
  figure: string,
  ref: string,
  threshold: number | null,
  text: string,
): Target {
  const c = run(results, w, CHEST);
  const r = run(results, w, ref);
  const cv = c?.figures[figure]?.median;
  const rv = r?.figures[figure]?.median;
  const ok = c?.status === 'ok' && r?.status === 'ok' && cv !== undefined && rv !== undefined && rv > 0;
  const value = ok ? cv / rv : null;
  const reduced = r?.limited ? ` (${ref} on reduced sizes: ${r.summary})` : '';
  return {
    id,
    workload: w,
    text,
    value,
    unit: 'ratio',
    op: threshold === null ? 'info' : '>=',
    threshold,
    pass: value === null || threshold === null ? null : value >= threshold,
    detail: ok
      ? `chest ${fmt(cv)} vs ${ref} ${fmt(rv)} ${figure}${reduced}${perRound(results.get(w), c, r, figure)}`
      : `n/a: ${why(w, [c, r], [CHEST, ref])}`,
  };
}

/**
 * The ratio in each round, when the peers' runs were interleaved in rounds (run i of one peer next to
 * run i of the other): how far one ratio moves within a run. Empty for results run peer after peer.
 */
function perRound(wr: WorkloadResult | undefined, c: PeerRun, r: PeerRun, figure: string): string {
  if (wr?.ran?.options.order !== 'rounds' || c.samples.length !== r.samples.length || c.samples.length < 2)
    return '';
  const ratios = c.samples.map((s, i) => {
    const a = s.figures[figure];
    const b = r.samples[i]!.figures[figure];
    return typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : Number.NaN;
  });
  if (!ratios.every(Number.isFinite)) return '';
  return `; per round ${fmt(Math.min(...ratios))}×–${fmt(Math.max(...ratios))}×`;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}

function maxMemory(r: PeerRun | undefined, key: 'peakRssAnon' | 'vmHwm' | 'heapExtPeak'): number | undefined {
  const s = r?.memory[key];
  return s ? s.max * MiB : undefined;
}

/** A target on one figure of Chest alone, against a fixed limit. */
function limitTarget(
  results: Results,
  id: string,
  w: WorkloadId,
  figure: string,
  op: '<=' | '>=' | '<',
  threshold: number,
  unit: Target['unit'],
  text: string,
  worst = false,
): Target {
  const c = run(results, w, CHEST);
  const s = c?.status === 'ok' ? c.figures[figure] : undefined;
  const value = s ? (worst ? (op === '>=' ? s.min : s.max) : s.median) : null;
  const pass =
    value === null
      ? null
      : op === '<='
        ? value <= threshold
        : op === '<'
          ? value < threshold
          : value >= threshold;
  return {
    id,
    workload: w,
    text,
    value,
    unit,
    op: op === '<' ? '<=' : op,
    threshold,
    pass,
    detail: s
      ? `chest ${figure}: median ${fmt(s.median)}, range ${fmt(s.min)}–${fmt(s.max)} over ${s.n} runs`
      : `n/a: ${why(w, [c], [CHEST])}`,
  };
}

/** Chest's peak RssAnon (worst run) as a share of a peer's (its best run). */
function memoryShareTarget(results: Results, w: WorkloadId, ref: string): Target {
  const c = run(results, w, CHEST);
  const r = run(results, w, ref);
  const cm = c?.status === 'ok' ? c.memory.peakRssAnon?.max : undefined;
  const rm = r?.status === 'ok' ? r.memory.peakRssAnon?.min : undefined;
  const value = cm !== undefined && rm !== undefined && rm > 0 ? cm / rm : null;
  return {
    id: `${w}-memory-${ref}`,
    workload: w,
    text: `${w} peak RssAnon vs ${ref} (holds every value in memory): a small fraction`,
    value,
    unit: 'share',
    op: '<=',
    threshold: THRESHOLDS.w1MemoryShare,
    pass: value === null ? null : value <= THRESHOLDS.w1MemoryShare,
    detail:
      value === null
        ? `n/a: ${why(w, [c, r], [CHEST, ref])}`
        : `chest ${fmt(cm ?? 0)} MiB (worst run) vs ${ref} ${fmt(rm ?? 0)} MiB (best run)`,
  };
}

/**
 * Every target whose workload is among `all`. A workload may appear more than once (W4 at several
 * sizes): each one gets its own rows, named by its size.
 */
export function computeTargets(all: readonly WorkloadResult[]): Target[] {
  const t: Target[] = [];
  const results: Results = new Map(all.filter((w) => w.id !== 'W4').map((w) => [w.id, w]));
  const P = THRESHOLDS.vsLruCache;
  if (results.has('W0')) {
    t.push(
      ratioTarget(
        results,
        'W0-gets',
        'W0',
        'gets/s',
        'lru-cache',
        P,
        'W0 gets/s vs lru-cache (same budget, same size estimate)',
      ),
    );
    t.push(
      ratioTarget(
        results,
        'W0-sets',
        'W0',
        'sets/s',
        'lru-cache',
        P,
        'W0 sets/s vs lru-cache (same budget, same size estimate)',
      ),
    );
  }
  const w1 = results.get('W1');
  if (w1) {
    const bounded = w1.peers.filter(
      (p) => p.peer !== CHEST && !CHEST_VARIANTS.has(p.peer) && p.boundedMemory && p.status !== 'skipped',
    );
    const refs = ['lmdb', ...bounded.map((p) => p.peer).filter((n) => n !== 'lmdb')];
    for (const ref of refs) {
      const label = ref === 'lmdb' ? 'lmdb direct (same serializer)' : `${ref} (bounded memory)`;
      const min = ref === 'lmdb' ? THRESHOLDS.w1VsLmdb : THRESHOLDS.w1VsBounded;
      t.push(
        ratioTarget(results, `W1-inserts-${ref}`, 'W1', 'inserts/s', ref, min, `W1 inserts/s vs ${label}`),
      );
      t.push(ratioTarget(results, `W1-gets-${ref}`, 'W1', 'gets/s', ref, min, `W1 gets/s vs ${label}`));
    }
    for (const ref of ['keyv-file', 'flat-cache']) {
      if (!w1.peers.some((p) => p.peer === ref)) continue;
      const label = `${ref} (every value in memory)`;
      const min = THRESHOLDS.w1VsInMemory;
      t.push(
        ratioTarget(results, `W1-inserts-${ref}`, 'W1', 'inserts/s', ref, min, `W1 inserts/s vs ${label}`),
      );
      t.push(ratioTarget(results, `W1-gets-${ref}`, 'W1', 'gets/s', ref, min, `W1 gets/s vs ${label}`));
      t.push(memoryShareTarget(results, 'W1', ref));
    }
    t.push(
      limitTarget(
        results,
        'W1-reopen',
        'W1',
        'reopen s',
        '<',
        THRESHOLDS.reopenSeconds,
        's',
        'W1 reopen (worst run) under 0.1 s',
        true,
      ),
    );
  }
  if (results.has('W2')) {
    const F = THRESHOLDS.vsFloor;
    t.push(
      ratioTarget(
        results,
        'W2-write',
        'W2',
        'write MiB/s',
        'fs',
        F,
        'W2 write MiB/s vs fs.writeFileSync floor',
      ),
    );
    t.push(
      ratioTarget(results, 'W2-read', 'W2', 'read MiB/s', 'fs', F, 'W2 read MiB/s vs fs.readFileSync floor'),
    );
    t.push(
      ratioTarget(
        results,
        'W2-read-readsync',
        'W2',
        'read MiB/s',
        'fs-readsync',
        null,
        'W2 read MiB/s vs fs.readSync into one buffer',
      ),
    );
  }
  if (results.has('W3'))
    t.push(
      ratioTarget(
        results,
        'W3-hits',
        'W3',
        'hit ratio',
        'lru-cache',
        P,
        'W3 hit ratio vs lru-cache (same budget and size estimate, misses put back)',
      ),
    );
  for (const w of ['W3', 'W3s'] as const) {
    if (!results.has(w)) continue;
    if (w === 'W3s')
      t.push(
        ratioTarget(
          results,
          'W3s-hits',
          'W3s',
          'hit ratio',
          'lru-cache',
          P,
          'W3s hit ratio vs lru-cache (W3 with a full scan mixed in)',
        ),
      );
    if (results.get(w)?.peers.some((p) => p.peer === 'chest-lru'))
      t.push(
        ratioTarget(
          results,
          `${w}-sieve-vs-lru`,
          w,
          'hit ratio',
          'chest-lru',
          null,
          `${w} hit ratio, chest (SIEVE, the default) vs chest with LRU eviction`,
        ),
      );
  }
  t.push(...trackingTargets(results));
  for (const w4 of all.filter((w) => w.id === 'W4')) t.push(...w4Targets(w4));
  return [...t, ...memoryTargets(all)];
}

/** The figures that tracking in-place changes can slow down, per workload. */
const TRACKED_FIGURES: readonly (readonly [WorkloadId, string])[] = [
  ['W1', 'inserts/s'],
  ['W1', 'gets/s'],
  ['W1', 'close s'],
  ['W1', 'reopen gets/s'],
  ['W2', 'write MiB/s'],
  ['W2', 'read MiB/s'],
  ['W3', 'gets/s'],
  ['W4', 'inserts/s'],
  ['W4', 'close s'],
  ['W4', 'gets/s'],
];

const FIGURE_LABELS: Readonly<Record<string, string>> = {
  'close s': 'flush+close s (a time: above 1× is slower)',
  'reopen gets/s': 'gets/s after reopen',
};

/**
 * For information: chest ÷ chest-immutable on each figure both ran, the cost of checking clean values
 * for in-place changes when they leave memory or are flushed. Tracking slows Chest down where the
 * ratio is below 1× for a rate, above 1× for a time (close s).
 */
function trackingTargets(results: Results, suffix = '', n = ''): Target[] {
  const t: Target[] = [];
  for (const [w, figure] of TRACKED_FIGURES) {
    if (!results.get(w)?.peers.some((p) => p.peer === 'chest-immutable')) continue;
    t.push(
      ratioTarget(
        results,
        `${w}-tracking-${figure.replace(/[ /]+/g, '-')}${suffix}`,
        w,
        figure,
        'chest-immutable',
        null,
        `${w} ${FIGURE_LABELS[figure] ?? figure}, chest ÷ chest with immutable: true (cost of tracking in-place changes)${n}`,
      ),
    );
  }
  return t;
}

function w4Targets(w4: WorkloadResult): Target[] {
  const t: Target[] = [];
  const results: Results = new Map([['W4', w4]]);
  const n = w4.records === undefined ? '' : ` (N = ${fmt(w4.records)})`;
  const suffix = w4.records === undefined ? '' : `@${w4.records}`;
  t.push(
    ratioTarget(
      results,
      `W4-inserts${suffix}`,
      'W4',
      'inserts/s',
      'lmdb',
      THRESHOLDS.w4VsLmdb,
      `W4 inserts/s vs lmdb direct${n}`,
    ),
  );
  t.push(...trackingTargets(results, suffix, n));
  const c = run(results, 'W4', CHEST);
  const anon = c?.status === 'ok' ? maxMemory(c, 'peakRssAnon') : undefined;
  t.push({
    id: `W4-rss${suffix}`,
    workload: 'W4',
    text: `W4 peak RssAnon (worst run) under 512 MiB${n}`,
    value: anon === undefined ? null : anon / MiB,
    unit: 'MiB',
    op: '<=',
    threshold: THRESHOLDS.w4RssAnon / MiB,
    pass: anon === undefined ? null : anon < THRESHOLDS.w4RssAnon,
    detail:
      anon === undefined
        ? `n/a: ${why('W4', [c], [CHEST])}`
        : `VmHWM ${fmt((maxMemory(c, 'vmHwm') ?? 0) / MiB)} MiB (${c?.summary ?? ''})`,
  });
  t.push(
    limitTarget(
      results,
      `W4-reopen${suffix}`,
      'W4',
      'reopen s',
      '<',
      THRESHOLDS.reopenSeconds,
      's',
      `W4 reopen (worst run) under 0.1 s${n}`,
      true,
    ),
    limitTarget(
      results,
      `W4-size${suffix}`,
      'W4',
      'size error',
      '<=',
      0,
      'count',
      `W4 size after reopen exact (worst run off by 0)${n}`,
      true,
    ),
    limitTarget(
      results,
      `W4-disk${suffix}`,
      'W4',
      'disk/serialized',
      '<=',
      THRESHOLDS.w4DiskVsSerialized,
      'ratio',
      `W4 bytes on disk within 2× the serialized keys and values (worst run)${n}`,
      true,
    ),
  );
  return t;
}

function memoryTargets(all: readonly WorkloadResult[]): Target[] {
  const t: Target[] = [];
  for (const wr of all) {
    const w = wr.id;
    if (w === 'W5') continue;
    const results: Results = new Map([[w, wr]]);
    const n = w === 'W4' && wr.records !== undefined ? ` (N = ${fmt(wr.records)})` : '';
    const c = run(results, w, CHEST);
    const peak = c?.status === 'ok' ? maxMemory(c, 'heapExtPeak') : undefined;
    const limit = wr.budget + THRESHOLDS.memorySlack;
    t.push({
      id: `memory-${w}${w === 'W4' && wr.records !== undefined ? `@${wr.records}` : ''}`,
      workload: 'memory',
      text: `${w} heap used + external over baseline (worst run) within budget ${fmt(wr.budget / MiB)} MiB + 64 MiB${n}`,
      value: peak === undefined ? null : peak / MiB,
      unit: 'MiB',
      op: '<=',
      threshold: limit / MiB,
      pass: peak === undefined ? null : peak <= limit,
      detail:
        peak === undefined
          ? `n/a: ${why(w, [c], [CHEST])}`
          : `RSS beside it: peak RssAnon ${fmt((maxMemory(c, 'peakRssAnon') ?? 0) / MiB)} MiB, ` +
            `VmHWM ${fmt((maxMemory(c, 'vmHwm') ?? 0) / MiB)} MiB`,
    });
  }
  return t;
}
