/**
 * Child processes: every sample runs in a fresh Node process (so peak RSS and VmHWM belong to that
 * sample alone, and no peer's heap, native library or JIT state leaks into another's figures).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProcWatcher } from './mem.js';
import type { MemoryFigures, SampleResult } from './types.js';

/** Node flags for children run from TypeScript: the loader this process runs under. */
function loaderArgv(): string[] {
  const own = process.execArgv.filter((a) => !a.startsWith('--expose-gc'));
  return own.some((a) => a.includes('tsx')) ? own : ['--import', 'tsx'];
}

let childScript = fileURLToPath(new URL('../child.ts', import.meta.url));
let childArgv = [...loaderArgv(), '--expose-gc'];

/** Children run `script` (transpiled JavaScript) with plain node instead of child.ts under a loader. */
export function useChildScript(script: string): void {
  childScript = script;
  childArgv = ['--expose-gc'];
}

export interface ChildMessage {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A child process speaking the suite's message protocol (see child.ts). */
export class Child {
  readonly proc: ChildProcess;
  private stderrTail = '';
  private readonly inbox: ChildMessage[] = [];
  private waiter: { resolve: (m: ChildMessage) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private killReason: string | undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly label: string) {
    this.proc = fork(childScript, [], {
      execArgv: childArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    // Anything a peer prints goes to our stderr, so stdout stays the report.
    this.proc.stdout?.on('data', (d: Buffer) => process.stderr.write(d));
    this.proc.stderr?.on('data', (d: Buffer) => {
      process.stderr.write(d);
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000);
    });
    this.proc.on('message', (m: ChildMessage) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(m);
      } else this.inbox.push(m);
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
        this.failure = new Error(
          this.killReason ??
            `${label}: process exited (${signal ?? `code ${code}`}) before answering${tail ? `: ${tail}` : ''}`,
        );
        if (this.waiter) {
          this.waiter.reject(this.failure);
          this.waiter = undefined;
        }
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  send(message: object): void {
    this.proc.send(message);
  }

  /** The next message; rejects when the child dies (or was killed) first. */
  receive(): Promise<ChildMessage> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  kill(reason: string): void {
    this.killReason ??= reason;
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

export interface Guard {
  readonly watcher: ProcWatcher;
  stop(): void;
}

/** Polls the children's memory, and kills them past the RSS limit or the time limit. */
export function guard(children: readonly Child[], timeoutMs: number, rssLimit: number): Guard {
  const killAll = (reason: string) => {
    for (const c of children) c.kill(reason);
  };
  const watcher = new ProcWatcher(
    () => children.map((c) => c.pid),
    10,
    rssLimit,
    (_pid, rss) => {
      killAll(
        `killed: RssAnon reached ${(rss / 2 ** 30).toFixed(2)} GiB (limit ${(rssLimit / 2 ** 30).toFixed(2)} GiB)`,
      );
    },
  );
  const timer = setTimeout(() => {
    killAll(`timed out after ${Math.round(timeoutMs / 1000)} s`);
  }, timeoutMs);
  return {
    watcher,
    stop() {
      watcher.poll();
      watcher.stop();
      clearTimeout(timer);
    },
  };
}

/** Folds what the watcher saw from outside into what the child measured itself. */
export function withWatcher(m: MemoryFigures, w: ProcWatcher): MemoryFigures {
  return {
    ...m,
    peakRssAnon: Math.max(m.peakRssAnon, w.peakRssAnon),
    peakRss: Math.max(m.peakRss, w.peakRss),
    vmHwm: Math.max(m.vmHwm, w.vmHwm),
  };
}

export interface SampleJob {
  readonly kind: 'sample';
  readonly workload: string;
  readonly peer: string;
  readonly params: object;
  readonly dir: string;
}

/** Runs one sample of a single-process workload in a fresh child. */
export async function runSampleInChild(
  job: SampleJob,
  timeoutMs: number,
  rssLimit: number,
): Promise<SampleResult> {
  const child = new Child(`${job.workload} ${job.peer}`);
  const g = guard([child], timeoutMs, rssLimit);
  try {
    child.send(job);
    const m = await child.receive();
    if (m.type === 'error') throw new Error(String(m.message));
    if (m.type !== 'result') throw new Error(`unexpected message ${m.type}`);
    await child.exited;
    g.stop();
    const r = m.result as SampleResult;
    return { ...r, memory: withWatcher(r.memory, g.watcher) };
  } finally {
    g.stop();
    child.kill('done');
  }
}
