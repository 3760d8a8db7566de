import type { MemProbe } from './mem.js';
import type { FigureDef, Figures, Limit, Peer, SampleResult, ValueKind, WorkloadId } from './types.js';

export interface RunContext {
  /** The sample's own empty folder. */
  readonly dir: string;
  readonly mem: MemProbe;
  /** Remarks printed beside the figures (e.g. "not persistent: reopen n/a"). */
  readonly notes: string[];
}

export interface RunOutput {
  readonly figures: Figures;
  /** Sum of the timed phases, ms. */
  readonly wallMs: number;
}

export interface SizeOptions {
  readonly quick: boolean;
  /** W4's N. */
  readonly n?: number | undefined;
}

/** What the coordinating process provides to a multi-process workload (W5). */
export interface CoordinateContext {
  readonly dir: string;
  readonly timeoutMs: number;
  readonly rssLimit: number;
  readonly log: (line: string) => void;
}

export interface Workload<P extends { readonly budget: number } = { readonly budget: number }> {
  readonly id: WorkloadId;
  readonly title: string;
  /** One paragraph: what the workload does, exactly. */
  readonly description: string;
  readonly values: ValueKind;
  readonly figures: readonly FigureDef[];
  /** Figures drawn in the chart, one panel each. */
  readonly chart: readonly { readonly key: string; readonly log: boolean }[];
  /** The peer every ratio in this workload is computed against. */
  readonly baseline: string;
  readonly defaultRuns: number;
  /** Only these peers run the workload (the others are listed as not run, with `onlyWhy`). */
  readonly peers?: readonly string[];
  readonly onlyWhy?: string;
  params(o: SizeOptions): P;
  limit(p: P, l: Limit): P;
  summary(p: P): string;
  /** One sample inside a child process (W0 to W4). */
  run?(peer: Peer, p: P, ctx: RunContext): Promise<RunOutput>;
  /** One sample coordinated from the main process, spawning children itself (W5). */
  coordinate?(peer: Peer, p: P, ctx: CoordinateContext): Promise<SampleResult>;
}
