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
  /** Memory: heap used + external over the baseline may exceed the budget by this much, bytes. */
  memorySlack: 64 * MiB,
} as const;

const CHEST = 'chest';

function run(
  results: ReadonlyMap<WorkloadId, WorkloadResult>,
  w: WorkloadId,
  peer: string,
): PeerRun | undefined {
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
  results: ReadonlyMap<WorkloadId, WorkloadResult>,
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
      ? `chest ${fmt(cv)} vs ${ref} ${fmt(rv)} ${figure}${reduced}`
      : `n/a: ${why(w, [c, r], [CHEST, ref])}`,
  };
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);
}

function maxMemory(r: PeerRun | undefined, key: 'peakRssAnon' | 'vmHwm' | 'heapExtPeak'): number | undefined {
  const s = r?.memory[key];
  return s ? s.max * MiB : undefined;
}

export function computeTargets(results: ReadonlyMap<WorkloadId, WorkloadResult>): Target[] {
  const t: Target[] = [];
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
    const bounded = w1.peers.filter((p) => p.peer !== CHEST && p.boundedMemory && p.status !== 'skipped');
    const refs = ['lmdb', ...bounded.map((p) => p.peer).filter((n) => n !== 'lmdb')];
    for (const ref of refs) {
      const label = ref === 'lmdb' ? 'lmdb direct (same serializer)' : `${ref} (bounded memory)`;
      const min = ref === 'lmdb' ? THRESHOLDS.w1VsLmdb : THRESHOLDS.w1VsBounded;
      t.push(
        ratioTarget(results, `W1-inserts-${ref}`, 'W1', 'inserts/s', ref, min, `W1 inserts/s vs ${label}`),
      );
      t.push(ratioTarget(results, `W1-gets-${ref}`, 'W1', 'gets/s', ref, min, `W1 gets/s vs ${label}`));
    }
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
  if (results.has('W4')) {
    t.push(
      ratioTarget(
        results,
        'W4-inserts',
        'W4',
        'inserts/s',
        'lmdb',
        THRESHOLDS.w4VsLmdb,
        'W4 inserts/s vs lmdb direct',
      ),
    );
    const c = run(results, 'W4', CHEST);
    const anon = c?.status === 'ok' ? maxMemory(c, 'peakRssAnon') : undefined;
    t.push({
      id: 'W4-rss',
      workload: 'W4',
      text: 'W4 peak RssAnon (worst run) under 512 MiB',
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
  }
  for (const w of ['W0', 'W1', 'W2', 'W3', 'W4'] as const) {
    const wr = results.get(w);
    if (!wr) continue;
    const c = run(results, w, CHEST);
    const peak = c?.status === 'ok' ? maxMemory(c, 'heapExtPeak') : undefined;
    const limit = wr.budget + THRESHOLDS.memorySlack;
    t.push({
      id: `memory-${w}`,
      workload: 'memory',
      text: `${w} heap used + external over baseline (worst run) within budget ${fmt(wr.budget / MiB)} MiB + 64 MiB`,
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
