/** Shared types of the benchmark suite: peers, stores, workloads, results. */

export type WorkloadId = 'W0' | 'W1' | 'W2' | 'W3' | 'W3s' | 'W4' | 'W5';
export const WORKLOAD_IDS: readonly WorkloadId[] = ['W0', 'W1', 'W2', 'W3', 'W3s', 'W4', 'W5'];

/**
 * How a store's writes are driven by the workloads.
 * - `sync`: `set` does its work before returning.
 * - `batched`: `set` returns a promise; a burst of sets is issued in one event turn and only the last
 *   promise is awaited (what lmdb's documentation recommends; keyv-file recommends the same).
 * - `await`: every `set` is awaited before the next one starts.
 */
export type SetMode = 'sync' | 'batched' | 'await';
export type GetMode = 'sync' | 'await';

/** What a workload stores: records (`{ id, name, tags, score }`) or large Float64Arrays. */
export type ValueKind = 'records' | 'arrays';

/** One opened store, as the workloads drive it. Keys are strings, values records or Float64Arrays. */
export interface Store {
  readonly setMode: SetMode;
  readonly getMode: GetMode;
  /** False when closing loses the data (reopen phases are then skipped and reported as n/a). */
  readonly persistent: boolean;
  /** Returns nothing for `sync`, a promise otherwise. */
  set(key: string, value: unknown): unknown;
  /** Returns the value (`sync`) or a promise of it (`await`); `undefined` when absent. */
  get(key: string): unknown;
  /** Makes everything written so far durable (as durable as the peer gets). */
  flush(): void | Promise<void>;
  /** Releases every resource; the store is not used afterwards. */
  close(): void | Promise<void>;
  /** Hits and misses of a memory tier, for peers that have one (hit ratio in W3). */
  tierStats?(): { hits: number; misses: number };
  /** Exact number of entries, for peers that keep one (checked after reopening in W4). */
  count?(): number | Promise<number>;
}

export interface OpenOptions {
  /** A directory of its own, created empty for this sample (or the shared one in W5). */
  readonly dir: string;
  /** The workload's memory budget in bytes (only peers with a budget knob use it). */
  readonly budget: number;
  readonly values: ValueKind;
  readonly workload: WorkloadId;
}

/** Caps applied to a workload's sizes for a peer too slow to finish the full size. */
export interface Limit {
  /** Most records the peer inserts (per process in W5). */
  readonly records: number;
  /** Most reads (and overwrites) the peer performs in one phase. */
  readonly ops: number;
  /** Why the cap exists (printed beside the figures). */
  readonly why: string;
  /** Tighter caps for --quick, so the smoke run stays short. */
  readonly quick?: { readonly records: number; readonly ops: number };
  /** The caps hold for --quick only: full runs are at full size. */
  readonly quickOnly?: boolean;
}

export type Capability =
  | { readonly ok: true; readonly limit?: Limit; readonly note?: string }
  | { readonly ok: false; readonly reason: string };

export interface WorkloadParamsBase {
  /** Human-readable summary of the sizes, e.g. "1,000,000 records, budget 16 MiB". */
  readonly summary?: string;
}

export interface Peer {
  readonly name: string;
  /** How the peer is configured and why, one or two sentences (README and report). */
  readonly config: string;
  /** Memory does not grow with the data set (the data lives on disk). */
  readonly boundedMemory: boolean;
  /** Called once in the coordinating process; returns a reason when the peer cannot run at all. */
  available?(): Promise<string | undefined>;
  /**
   * Loads the peer's library in the measuring process before the memory baseline is taken, for peers
   * that import it lazily; statically imported libraries are loaded by then anyway.
   */
  preload?(): Promise<unknown>;
  capability(workload: WorkloadId, params: unknown): Capability;
  open(options: OpenOptions): Promise<Store>;
}

/** Figures of one sample, by figure key. `null` means not applicable for this peer. */
export type Figures = Record<string, number | null>;

export interface FigureDef {
  readonly key: string;
  readonly label: string;
  /** Digits after the point in tables. */
  readonly digits?: number;
  readonly better: 'higher' | 'lower' | 'none';
  /** A count (bad reads, errors): shown, but no ratio is computed for it. */
  readonly count?: boolean;
}

/** Memory of one sample, all in bytes. */
export interface MemoryFigures {
  /** heapUsed + external right after start-up, after a full GC, before the store is opened. */
  readonly baselineHeapExt: number;
  /** Highest sampled heapUsed + external, minus the baseline. */
  readonly peakHeapExtOverBaseline: number;
  /** heapUsed + external after a full GC at the end of the main phases, minus the baseline. */
  readonly retainedHeapExtOverBaseline: number;
  readonly peakHeapUsed: number;
  readonly peakExternal: number;
  /** Highest sampled RssAnon (anonymous resident memory) of the process. */
  readonly peakRssAnon: number;
  /** Highest sampled VmRSS. */
  readonly peakRss: number;
  /** VmHWM: the kernel's exact peak of VmRSS. */
  readonly vmHwm: number;
  /** RssAnon at start-up, before the store is opened. */
  readonly baselineRssAnon: number;
}

export interface SampleResult {
  readonly figures: Figures;
  readonly memory: MemoryFigures;
  /** Wall time of the timed phases of the run, in ms (what tinybench records as the sample). */
  readonly wallMs: number;
  readonly notes: readonly string[];
}
