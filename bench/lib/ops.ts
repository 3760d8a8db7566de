/**
 * The timed loops every workload is made of. Each loop drives a store in the mode it declares (sync,
 * batched, awaited) and probes memory every 32k operations; keys and values are built inside the loop
 * (the same cost for every peer, and no multi-million-entry key arrays skewing the memory figures).
 */
import { PROBE_MASK, type MemProbe } from './mem.js';
import { isRecordOf, keyOf, record } from './records.js';
import type { Store } from './types.js';

/** Writes record(at(n)) under keyOf(at(n)) for n in [0, count). Returns ms, batched writes included. */
export async function writeRecords(
  store: Store,
  count: number,
  at: (n: number) => number,
  mem: MemProbe,
): Promise<number> {
  const t0 = performance.now();
  switch (store.setMode) {
    case 'sync':
      for (let n = 0; n < count; n++) {
        const i = at(n);
        store.set(keyOf(i), record(i));
        if ((n & PROBE_MASK) === 0) mem.probe();
      }
      break;
    case 'batched': {
      let last: unknown;
      for (let n = 0; n < count; n++) {
        const i = at(n);
        last = store.set(keyOf(i), record(i));
        if ((n & PROBE_MASK) === 0) mem.probe();
      }
      await last;
      break;
    }
    case 'await':
      for (let n = 0; n < count; n++) {
        const i = at(n);
        await store.set(keyOf(i), record(i));
        if ((n & PROBE_MASK) === 0) mem.probe();
      }
      break;
  }
  mem.probeProc();
  return performance.now() - t0;
}

export interface ReadResult {
  readonly ms: number;
  /** Reads that returned nothing or another record. */
  readonly bad: number;
}

/** count reads of keyOf(pick()), each checked against record(i). */
export async function readRecords(
  store: Store,
  count: number,
  pick: () => number,
  mem: MemProbe,
): Promise<ReadResult> {
  let bad = 0;
  const t0 = performance.now();
  if (store.getMode === 'sync') {
    for (let n = 0; n < count; n++) {
      const i = pick();
      if (!isRecordOf(store.get(keyOf(i)), i)) bad++;
      if ((n & PROBE_MASK) === 0) mem.probe();
    }
  } else {
    for (let n = 0; n < count; n++) {
      const i = pick();
      if (!isRecordOf(await store.get(keyOf(i)), i)) bad++;
      if ((n & PROBE_MASK) === 0) mem.probe();
    }
  }
  const ms = performance.now() - t0;
  mem.probeProc();
  return { ms, bad };
}

/** Timer for a phase: returns elapsed ms of an awaited action. */
export async function timed(action: () => unknown): Promise<number> {
  const t0 = performance.now();
  await action();
  return performance.now() - t0;
}

export const perSecond = (count: number, ms: number): number => (ms > 0 ? (count * 1000) / ms : Number.NaN);
