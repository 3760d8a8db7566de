/**
 * Entry point of every child process. The coordinating process (run.ts) forks this file and sends one
 * job: a sample of a workload (W0 to W4) or one process of W5. Results travel back over the IPC channel;
 * the process then exits, so each sample gets a fresh process.
 */
import { describeError } from './lib/errors.js';
import { MemProbe } from './lib/mem.js';
import type { SampleJob } from './lib/spawn.js';
import type { SampleResult, WorkloadId } from './lib/types.js';
import { loadPeer } from './peers/modules.js';
import { WORKLOADS } from './workloads/index.js';
import { w5Worker, type W5Job } from './workloads/w5.js';

type Job = SampleJob | W5Job;

const inbox: { type: string }[] = [];
let waiting: ((m: { type: string }) => void) | undefined;
let started = false;

function send(message: object): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send?.(message, (err: Error | null) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

function next(): Promise<{ type: string }> {
  const m = inbox.shift();
  if (m) return Promise.resolve(m);
  return new Promise((resolve) => (waiting = resolve));
}

async function fail(e: unknown): Promise<never> {
  try {
    await send({ type: 'error', message: describeError(e) });
  } finally {
    process.exit(1);
  }
}

async function main(job: Job): Promise<void> {
  const peer = await loadPeer(job.peer);
  // Every peer's library is loaded before the memory baseline, as a static import does: lmdb-js
  // allocates a 16 MiB buffer when it loads, a cost of the code rather than of the data, which the
  // lmdb peer (imported statically) never counted and the lazily loaded chest peers did.
  await peer.preload?.();
  if (job.kind === 'w5') {
    await w5Worker(peer, job, next, send);
    return;
  }
  const workload = WORKLOADS[job.workload as WorkloadId];
  if (!workload.run) throw new Error(`${job.workload} does not run in a single process`);
  const mem = new MemProbe();
  mem.start();
  const notes: string[] = [];
  const out = await workload.run(peer, job.params, { dir: job.dir, mem, notes });
  const result: SampleResult = { figures: out.figures, memory: mem.result(), wallMs: out.wallMs, notes };
  await send({ type: 'result', result });
}

process.on('message', (m: Job | { type: string }) => {
  if (!started) {
    started = true;
    main(m as Job).then(
      () => process.exit(0),
      (e: unknown) => fail(e),
    );
    return;
  }
  const msg = m as { type: string };
  if (waiting) {
    const w = waiting;
    waiting = undefined;
    w(msg);
  } else inbox.push(msg);
});

process.on('unhandledRejection', (e) => {
  void fail(e);
});
process.on('disconnect', () => process.exit(1));
