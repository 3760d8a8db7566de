/**
 * spillchest benchmark suite: `npm run bench` (tsx bench/run.ts). See bench/README.md.
 *
 * This process only coordinates: every sample (one whole run of one workload by one peer) runs in a
 * fresh child process, forked from here, one after the other, the peers' runs interleaved in rounds.
 * tinybench runs each round (one iteration = one whole workload run) and catches a failing run; the
 * figures of a run come from phase timings inside it, and their medians, min and max are computed here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { renderChart } from './lib/chart.js';
import { describeError } from './lib/errors.js';
import { machine } from './lib/machine.js';
import { renderMarkdown, renderSummary } from './lib/report.js';
import { loadWorkloadResults, resultKey, saveWorkloadResult, updateReadmeBlock } from './lib/store.js';
import type { PeerRun, Report, Stat, WorkloadResult } from './lib/results.js';
import { transpileTree } from './lib/build.js';
import { runSampleInChild, useChildScript } from './lib/spawn.js';
import { stat } from './lib/stats.js';
import { WORKLOAD_IDS, type Capability, type Peer, type SampleResult, type WorkloadId } from './lib/types.js';
import { fmtNum, GiB, MiB } from './lib/units.js';
import { loadPeers, PEER_NAMES } from './peers/index.js';
import { loadSizeEstimator } from './peers/size.js';
import { computeTargets } from './targets.js';
import { WORKLOADS } from './workloads/index.js';
import { DEFAULT_W4_N } from './workloads/w4.js';

const HELP = `Usage: npm run bench -- [options]

  --only W0,W2        workloads to run (default: all of ${WORKLOAD_IDS.join(',')})
  --peers a,b         peers to run (default: all of ${PEER_NAMES.join(',')})
  --n N               W4 record count (default 10000000; e.g. --n 100000000)
  --runs K            runs per peer and workload (default 5, 3 for W4 and W5; 1 with --quick)
  --quick             tiny sizes, to check that the suite works (CI)
  --out DIR           where results go (default bench/results; bench/results/quick with --quick)
  --timeout S         seconds one run may take before it is killed and reported (default 1800,
                      times N / 10,000,000 for W4 above its default N)
  --rss-limit GiB     a run whose anonymous memory (RssAnon) passes this is killed and reported
                      (default: half the RAM, at most 8)
  --report            run nothing: rebuild the reports (and the README block) from the saved results
  -h, --help`;

function list(v: string | undefined): string[] | undefined {
  return v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function count(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} wants a positive number, got "${v}"`);
  return Math.round(n);
}

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    peers: { type: 'string' },
    n: { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    timeout: { type: 'string' },
    'rss-limit': { type: 'string' },
    report: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const quick = args.quick ?? false;
const only: WorkloadId[] = list(args.only)?.map((name) => {
  const id = WORKLOAD_IDS.find((w) => w.toLowerCase() === name.toLowerCase());
  if (id === undefined) throw new Error(`unknown workload ${name} (known: ${WORKLOAD_IDS.join(', ')})`);
  return id;
}) ?? [...WORKLOAD_IDS];
const peerNames = list(args.peers) ?? [...PEER_NAMES];
const n = count(args.n, 'n');
const runsOverride = count(args.runs, 'runs');
const timeoutArg = count(args.timeout, 'timeout');
/** A run's time limit: --timeout, else 30 minutes, scaled up for W4 runs larger than its default N. */
const timeoutFor = (id: WorkloadId): number =>
  (timeoutArg ?? 1800 * (id === 'W4' && n !== undefined ? Math.max(1, n / DEFAULT_W4_N) : 1)) * 1000;
const rssLimit = args['rss-limit'] ? Number(args['rss-limit']) * GiB : Math.min(8 * GiB, totalmem() / 2);
const defaultOut = fileURLToPath(new URL(quick ? './results/quick/' : './results/', import.meta.url));
const outDir = resolve(args.out ?? defaultOut);
/** The README's results block is rewritten only by full-size runs into bench/results itself. */
const updateReadme = !quick && args.out === undefined;

const log = (line: string) => process.stderr.write(line + '\n');

const tmpRoot = mkdtempSync(join(tmpdir(), 'spillchest-bench-'));
const cleanup = () => rmSync(tmpRoot, { recursive: true, force: true });
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

const repoRoot = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** Keeps machine-specific paths (the temp folder, the checkout) out of the written reports. */
function scrub(text: string): string {
  return text.split(tmpRoot).join('<tmp>').split(tmpdir()).join('<tmp>').split(repoRoot).join('.');
}

function mib(b: number): number {
  return b / MiB;
}

function summarizeSamples(pr: PeerRun, figureKeys: readonly string[]): void {
  const s = pr.samples;
  pr.figures = Object.fromEntries(figureKeys.map((k) => [k, stat(s.map((x) => x.figures[k]))]));
  pr.memory = {
    peakRssAnon: stat(s.map((x) => mib(x.memory.peakRssAnon))),
    vmHwm: stat(s.map((x) => mib(x.memory.vmHwm))),
    heapExtPeak: stat(s.map((x) => mib(x.memory.peakHeapExtOverBaseline))),
    heapExtRetained: stat(s.map((x) => mib(x.memory.retainedHeapExtOverBaseline))),
  };
  pr.notes = [...new Set(s.flatMap((x) => x.notes.map(scrub)))];
}

function progress(w: WorkloadId, peer: string, i: number, runs: number, r: SampleResult): string {
  const defs = WORKLOADS[w].figures;
  const shown = [
    ...defs.filter((f) => f.better !== 'none' && !f.count).slice(0, 4),
    ...defs.filter((f) => f.count && (r.figures[f.key] ?? 0) !== 0),
  ];
  const figs = shown.map((f) => {
    const v = r.figures[f.key];
    return `${f.key} ${v === null || v === undefined ? 'n/a' : fmtNum(v)}`;
  });
  return (
    `  ${w} ${peer} run ${i}/${runs}: ${figs.join(' · ')} · RssAnon ${mib(r.memory.peakRssAnon).toFixed(0)} MiB` +
    ` · heap+ext Δ ${mib(r.memory.peakHeapExtOverBaseline).toFixed(0)} MiB (${(r.wallMs / 1000).toFixed(2)} s timed)`
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  try {
    const build = join(tmpRoot, 'build');
    const count = await transpileTree(repoRoot, ['bench', 'src'], build);
    useChildScript(join(build, 'bench', 'child.js'));
    log(`children run plain node on ${count} transpiled files`);
  } catch (e) {
    log(`could not transpile for the children (${scrub(describeError(e))}); they run under tsx instead`);
  }
  const peers: Peer[] = await loadPeers(peerNames);
  const unavailable = new Map<string, string>();
  for (const p of peers) {
    const reason = await p.available?.();
    if (reason) {
      unavailable.set(p.name, reason);
      log(`${p.name}: ${reason}`);
    }
  }
  const sizeEstimator = (await loadSizeEstimator()).source;
  const results = new Map<WorkloadId, WorkloadResult>();

  for (const id of args.report ? [] : only) {
    const w = WORKLOADS[id];
    const params = w.params({ quick, n });
    const runs = runsOverride ?? (quick ? 1 : w.defaultRuns);
    const wr: WorkloadResult = {
      id,
      title: w.title,
      description: w.description,
      summary: w.summary(params),
      runs,
      baseline: w.baseline,
      figures: w.figures,
      budget: params.budget,
      ...(id === 'W4' ? { records: (params as { records: number }).records } : {}),
      peers: [],
      ratios: {},
    };
    log(`\n${w.title}: ${wr.summary}; ${runs} run(s) per peer`);
    const workloadStarted = performance.now();
    // The peers' runs are interleaved in rounds (run 1 of every peer, then run 2 of every peer...): this
    // machine's speed drifts over minutes, and a peer whose runs all came in a slow stretch would carry
    // that into every ratio against it. One tinybench Bench per round, one iteration per task.
    const tasks: { readonly pr: PeerRun; readonly fn: () => Promise<{ overriddenDuration: number }> }[] = [];
    const byTask = new Map<string, PeerRun>();

    for (const peer of peers) {
      const reason = unavailable.get(peer.name);
      const cap: Capability = reason
        ? { ok: false, reason }
        : w.peers && !w.peers.includes(peer.name)
          ? { ok: false, reason: w.onlyWhy ?? `${id} runs only ${w.peers.join(', ')}` }
          : peer.capability(id, params);
      const limit =
        cap.ok && cap.limit && (quick || cap.limit.quickOnly !== true)
          ? quick && cap.limit.quick
            ? { ...cap.limit, ...cap.limit.quick }
            : cap.limit
          : undefined;
      const p = limit ? w.limit(params, limit) : params;
      const pr: PeerRun = {
        peer: peer.name,
        status: cap.ok ? 'ok' : 'skipped',
        ...(cap.ok ? {} : { reason: cap.reason }),
        ...(limit ? { limited: limit.why } : {}),
        summary: w.summary(p),
        params: p,
        config: peer.config,
        boundedMemory: peer.boundedMemory,
        samples: [],
        figures: {},
        memory: {},
        notes: cap.ok && cap.note ? [cap.note] : [],
      };
      wr.peers.push(pr);
      if (!cap.ok) {
        log(`  ${id} ${peer.name}: cannot: ${cap.reason}`);
        continue;
      }
      if (limit) log(`  ${id} ${peer.name}: reduced sizes: ${pr.summary}`);
      byTask.set(peer.name, pr);
      tasks.push({
        pr,
        fn: async () => {
          const dir = mkdtempSync(join(tmpRoot, `${id}-${peer.name}-`));
          try {
            const r = w.coordinate
              ? await w.coordinate(peer, p, { dir, timeoutMs: timeoutFor(id), rssLimit, log })
              : await runSampleInChild(
                  { kind: 'sample', workload: id, peer: peer.name, params: p, dir },
                  timeoutFor(id),
                  rssLimit,
                );
            pr.samples.push(r);
            log(progress(id, peer.name, pr.samples.length, runs, r));
            return { overriddenDuration: r.wallMs };
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      });
    }

    for (let round = 0; round < runs; round++) {
      const bench = new Bench({
        name: `${id} round ${round + 1}`,
        iterations: 1,
        time: 0,
        warmup: false,
        throws: false,
      });
      for (const t of tasks) if (t.pr.status !== 'failed') bench.add(t.pr.peer, t.fn);
      if (bench.tasks.length === 0) break;
      await bench.run();
      for (const task of bench.tasks) {
        const pr = byTask.get(task.name)!;
        const res = task.result;
        if (res.state === 'errored') {
          // A failing run stops that peer: its error is its result.
          pr.status = 'failed';
          const after = pr.samples.length > 0 ? ` (after ${pr.samples.length} of ${runs} runs)` : '';
          pr.reason = scrub(`${res.error.message}${after}`);
          log(`  ${id} ${pr.peer}: FAILED: ${pr.reason}`);
        }
      }
    }

    for (const pr of byTask.values()) {
      // Each sample's wall time is what its task returned to tinybench as the iteration's duration.
      const times = pr.samples.map((r) => r.wallMs);
      const lat = stat(times);
      pr.tinybench = {
        state: pr.status === 'failed' ? 'errored' : 'completed',
        runs: times.length,
        ...(lat
          ? {
              latencyMs: {
                p50: lat.median,
                min: lat.min,
                max: lat.max,
                mean: times.reduce((a, b) => a + b, 0) / times.length,
              },
            }
          : {}),
      };
      summarizeSamples(
        pr,
        w.figures.map((f) => f.key),
      );
    }

    const base = wr.peers.find((p) => p.peer === w.baseline);
    for (const pr of wr.peers) {
      if (pr.samples.length === 0) continue;
      wr.ratios[pr.peer] = Object.fromEntries(
        w.figures
          .filter((f) => f.better !== 'none' && !f.count)
          .map((f) => {
            const a: Stat | null | undefined = pr.figures[f.key];
            const b: Stat | null | undefined = base?.figures[f.key];
            return [f.key, a && b && b.median !== 0 ? a.median / b.median : null];
          }),
      );
    }
    const durationS = (performance.now() - workloadStarted) / 1000;
    const m = machine();
    const done: WorkloadResult = {
      ...wr,
      ran: {
        date: m.date,
        machine: `${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / GiB).toFixed(1)} GiB, Node ${m.node}`,
        options: { runs, order: 'rounds', peers: peerNames, ...(quick ? { quick } : {}) },
        durationS,
      },
    };
    results.set(id, done);
    // Saved at once: a later workload that fails or is interrupted does not lose this one.
    saveWorkloadResult(outDir, done);
    log(`  ${id} done in ${durationS.toFixed(1)} s (saved as ${resultKey(done)})`);
  }

  // The report covers every workload whose latest result is on disk, not only those run now, so
  // that separate runs (W4 at 100M on its own) add up to one report.
  const combined = loadWorkloadResults(outDir);
  const report: Report = {
    suite: 'spillchest',
    machine: machine(),
    options: {
      quick,
      only,
      peers: peerNames,
      ...(n === undefined ? {} : { n }),
      ...(runsOverride === undefined ? {} : { runs: runsOverride }),
    },
    sizeEstimator,
    workloads: combined,
    targets: computeTargets(combined),
    durationS: (performance.now() - started) / 1000,
  };

  mkdirSync(outDir, { recursive: true });
  const md = renderMarkdown(report);
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(outDir, 'latest.md'), md);
  const summary = renderSummary(report);
  writeFileSync(join(outDir, 'summary.md'), summary);
  if (updateReadme && (await updateReadmeBlock(join(repoRoot, 'README.md'), summary)))
    log('updated the results block of README.md');
  const charts = Object.fromEntries(WORKLOAD_IDS.map((k) => [k, WORKLOADS[k].chart])) as Record<
    WorkloadId,
    (typeof WORKLOADS)[WorkloadId]['chart']
  >;
  writeFileSync(join(outDir, 'chart.svg'), await renderChart(report.workloads, charts));
  process.stdout.write(md);
  log(
    `\nwrote ${join(outDir, 'latest.json')}, latest.md, summary.md, chart.svg from ${combined.length} ` +
      `workload result(s) (${[...results.keys()].join(', ')} run now; ${Math.round(report.durationS)} s)`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
