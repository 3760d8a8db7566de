/**
 * Memory measurement.
 *
 * Inside the measured process, `MemProbe` samples `process.memoryUsage()` (heapUsed + external) at
 * phase boundaries and every few thousand operations inside the timed loops (a timer would never fire
 * during a synchronous loop), plus `/proc/self/status` at phase boundaries. From outside, the
 * coordinating process polls `/proc/<pid>/status` of every running child (`ProcWatcher`), which
 * catches the peak RssAnon without adding any work to the measured process.
 */
import { readFileSync } from 'node:fs';
import type { MemoryFigures } from './types.js';

export interface ProcStatus {
  /** Anonymous resident memory (heap, malloc, stacks; not mapped files), bytes. */
  readonly rssAnon: number;
  readonly vmRss: number;
  /** Peak VmRSS so far, kept by the kernel. */
  readonly vmHwm: number;
}

const FIELD = /^(RssAnon|VmRSS|VmHWM):\s+(\d+) kB/gm;

/** Reads RssAnon, VmRSS and VmHWM of a process; undefined where /proc is not available. */
export function readProcStatus(pid: number | 'self' = 'self'): ProcStatus | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  let rssAnon = 0;
  let vmRss = 0;
  let vmHwm = 0;
  for (const m of text.matchAll(FIELD)) {
    const bytes = Number(m[2]) * 1024;
    if (m[1] === 'RssAnon') rssAnon = bytes;
    else if (m[1] === 'VmRSS') vmRss = bytes;
    else vmHwm = bytes;
  }
  return { rssAnon, vmRss, vmHwm };
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

/** Mask for the in-loop probes: one probe every 32,768 operations (about 10 µs each). */
export const PROBE_MASK = 0x7fff;

export class MemProbe {
  private baseHeapExt = 0;
  private baseRssAnon = 0;
  private peakHeapExt = 0;
  private peakHeapUsed = 0;
  private peakExternal = 0;
  private peakRssAnon = 0;
  private peakRss = 0;
  private retained: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Records the baseline (after a full GC when the process runs with --expose-gc). */
  start(): void {
    fullGc();
    const m = process.memoryUsage();
    this.baseHeapExt = m.heapUsed + m.external;
    const s = readProcStatus();
    this.baseRssAnon = s?.rssAnon ?? m.rss;
    this.probeProc();
    // Catches peaks while asynchronous peers wait on I/O; synchronous loops call probe() themselves.
    this.timer = setInterval(() => {
      this.probeProc();
    }, 20);
    this.timer.unref();
  }

  /** Samples heapUsed + external (cheap enough for every 32k operations). */
  probe(): void {
    const m = process.memoryUsage();
    const he = m.heapUsed + m.external;
    if (he > this.peakHeapExt) this.peakHeapExt = he;
    if (m.heapUsed > this.peakHeapUsed) this.peakHeapUsed = m.heapUsed;
    if (m.external > this.peakExternal) this.peakExternal = m.external;
    if (m.rss > this.peakRss) this.peakRss = m.rss;
  }

  /** probe() plus /proc/self/status (phase boundaries). */
  probeProc(): void {
    this.probe();
    const s = readProcStatus();
    if (s) {
      if (s.rssAnon > this.peakRssAnon) this.peakRssAnon = s.rssAnon;
      if (s.vmRss > this.peakRss) this.peakRss = s.vmRss;
    }
  }

  /** End of the main phases, store still open: records what survives a full GC. Untimed. */
  settle(): void {
    this.probeProc();
    fullGc();
    const m = process.memoryUsage();
    this.retained = m.heapUsed + m.external - this.baseHeapExt;
  }

  result(): MemoryFigures {
    this.probeProc();
    if (this.timer) clearInterval(this.timer);
    const s = readProcStatus();
    return {
      baselineHeapExt: this.baseHeapExt,
      peakHeapExtOverBaseline: this.peakHeapExt - this.baseHeapExt,
      retainedHeapExtOverBaseline: this.retained ?? Number.NaN,
      peakHeapUsed: this.peakHeapUsed,
      peakExternal: this.peakExternal,
      peakRssAnon: this.peakRssAnon,
      peakRss: this.peakRss,
      vmHwm: s?.vmHwm ?? this.peakRss,
      baselineRssAnon: this.baseRssAnon,
    };
  }
}

/** Polls /proc/<pid>/status of running children from the coordinating process. */
export class ProcWatcher {
  peakRssAnon = 0;
  peakRss = 0;
  vmHwm = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => readonly number[],
    intervalMs: number,
    private readonly rssLimit: number,
    private readonly onLimit: (pid: number, rss: number) => void,
  ) {
    this.timer = setInterval(() => {
      this.poll();
    }, intervalMs);
  }

  poll(): void {
    for (const pid of this.pids()) {
      const s = readProcStatus(pid);
      if (!s) continue;
      if (s.rssAnon > this.peakRssAnon) this.peakRssAnon = s.rssAnon;
      if (s.vmRss > this.peakRss) this.peakRss = s.vmRss;
      if (s.vmHwm > this.vmHwm) this.vmHwm = s.vmHwm;
      // Anonymous memory only: mapped file pages (LMDB's index, read through its map) are page cache
      // the kernel can take back, and at W4's 100M records they alone pass any sensible limit.
      if (s.rssAnon > this.rssLimit) this.onLimit(pid, s.rssAnon);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
