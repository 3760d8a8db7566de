/** The shape of bench/results/latest.json. */
import type { FigureDef, SampleResult, WorkloadId } from './types.js';

export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Samples that had this figure. */
  readonly n: number;
}

export interface PeerRun {
  readonly peer: string;
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  /** Why this peer ran on reduced sizes, when it did. */
  readonly limited?: string;
  /** The sizes this peer actually ran. */
  readonly summary: string;
  readonly params?: object;
  readonly config: string;
  readonly boundedMemory: boolean;
  readonly samples: SampleResult[];
  figures: Record<string, Stat | null>;
  memory: Record<string, Stat | null>;
  tinybench?: {
    readonly state: string;
    readonly runs: number;
    /** Sample wall times (timed phases of one run), ms. */
    readonly latencyMs?: {
      readonly p50: number;
      readonly min: number;
      readonly max: number;
      readonly mean: number;
    };
  };
  notes: string[];
}

export interface WorkloadResult {
  readonly id: WorkloadId;
  readonly title: string;
  readonly description: string;
  readonly summary: string;
  readonly runs: number;
  readonly baseline: string;
  readonly figures: readonly FigureDef[];
  readonly budget: number;
  /** W4's N: results are kept per workload and, for W4, per N. */
  readonly records?: number;
  /** When and how this workload's result was produced (results of several runs are combined). */
  readonly ran?: {
    readonly date: string;
    readonly machine: string;
    readonly options: Record<string, unknown>;
    readonly durationS: number;
  };
  readonly peers: PeerRun[];
  /** peer -> figure -> median(peer) / median(baseline), all from this run. */
  ratios: Record<string, Record<string, number | null>>;
}

export interface Target {
  readonly id: string;
  readonly workload: WorkloadId | 'memory';
  readonly text: string;
  readonly value: number | null;
  readonly unit: 'ratio' | 'MiB' | 's' | 'share' | 'count';
  readonly op: '>=' | '<=' | 'info';
  readonly threshold: number | null;
  readonly pass: boolean | null;
  readonly detail: string;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
  readonly release: string;
  readonly date: string;
}

export interface Report {
  readonly suite: string;
  readonly machine: Machine;
  readonly options: Record<string, unknown>;
  readonly sizeEstimator: string;
  readonly workloads: WorkloadResult[];
  readonly targets: Target[];
  readonly durationS: number;
}

/** Memory figures shown for every peer, in MiB. */
export const MEMORY_FIGURES: readonly { key: string; label: string }[] = [
  { key: 'peakRssAnon', label: 'peak RssAnon MiB' },
  { key: 'vmHwm', label: 'VmHWM MiB' },
  { key: 'heapExtPeak', label: 'heap+ext peak Δ MiB' },
  { key: 'heapExtRetained', label: 'heap+ext after GC Δ MiB' },
];
