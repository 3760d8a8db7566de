/** Markdown rendering of a Report (bench/results/latest.md and the console summary). */
import {
  MEMORY_FIGURES,
  type PeerRun,
  type Report,
  type Stat,
  type Target,
  type WorkloadResult,
} from './results.js';
import type { FigureDef } from './types.js';
import { fmtNum, GiB } from './units.js';

function cell(s: Stat | null | undefined, digits?: number): string {
  if (!s) return 'n/a';
  const f = (x: number) => (digits === undefined ? fmtNum(x) : x.toFixed(digits));
  if (s.n === 1 || s.min === s.max) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function ratioCell(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return 'n/a';
  return r >= 100 ? `${r.toFixed(0)}×` : `${r.toPrecision(3)}×`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(head), row(head.map(() => '---')), ...rows.map(row)];
}

function amount(t: Target, v: number): string {
  switch (t.unit) {
    case 'ratio':
      return ratioCell(v);
    case 'share':
      return `${(v * 100).toPrecision(2)}%`;
    case 's':
      return `${v.toPrecision(2)} s`;
    case 'count':
      return String(v);
    case 'MiB':
      return `${v.toFixed(v < 10 ? 1 : 0)} MiB`;
  }
}

function targetRow(t: Target): string[] {
  const value = t.value === null ? 'n/a' : amount(t, t.value);
  const threshold = t.threshold === null ? '—' : `${t.op === '>=' ? '≥' : '≤'} ${amount(t, t.threshold)}`;
  const result = t.pass === null ? (t.op === 'info' ? 'info' : 'n/a') : t.pass ? 'PASS' : 'MISS';
  return [t.text, value, threshold, result, t.detail];
}

function peerLabel(p: PeerRun): string {
  return p.limited ? `${p.peer} ¹` : p.peer;
}

/** A workload's heading: its title, and N for W4 (kept at several sizes). */
export function workloadTitle(w: WorkloadResult): string {
  return w.records === undefined ? w.title : `${w.title}, N = ${fmtNum(w.records)}`;
}

function ranLine(w: WorkloadResult): string {
  const r = w.ran;
  if (!r) return '';
  const opts = Object.entries(r.options)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
  return `Ran ${r.date.slice(0, 16).replace('T', ' ')} UTC on ${r.machine} (${opts}; ${Math.round(r.durationS)} s).`;
}

function workloadSection(w: WorkloadResult): string[] {
  const out: string[] = [`## ${workloadTitle(w)}`, '', w.description, ''];
  out.push(`Sizes: ${w.summary}. Runs: ${w.runs} (median, with min–max). Ratios against: ${w.baseline}.`, '');
  const ran = ranLine(w);
  if (ran) out.push(ran, '');
  const rows = w.peers.filter(
    (p) => p.status !== 'skipped' && p.figures && Object.keys(p.figures).length > 0,
  );
  const figs: readonly FigureDef[] = w.figures;
  out.push(
    ...table(
      ['peer', ...figs.map((f) => f.label), ...MEMORY_FIGURES.map((m) => m.label)],
      rows.map((p) => [
        peerLabel(p),
        ...figs.map((f) => cell(p.figures[f.key], f.digits)),
        ...MEMORY_FIGURES.map((m) => cell(p.memory[m.key], 0)),
      ]),
    ),
  );
  const limited = rows.filter((p) => p.limited);
  if (limited.length > 0) {
    out.push('');
    for (const p of limited) out.push(`¹ ${p.peer}: reduced sizes, ${p.summary} (${p.limited ?? ''}).`);
  }
  const noted = rows.filter((p) => p.notes.length > 0);
  if (noted.length > 0) {
    out.push('');
    for (const p of noted) out.push(`- ${p.peer}: ${[...new Set(p.notes)].join('; ')}`);
  }
  const failed = w.peers.filter((p) => p.status !== 'ok');
  if (failed.length > 0) {
    out.push('', 'Not run or failed:', '');
    for (const p of failed)
      out.push(
        `- **${p.peer}** ${p.status === 'failed' ? 'FAILED' : 'cannot'}: ${p.reason ?? 'no reason given'}`,
      );
  }
  const ratioFigs = figs.filter((f) => f.better !== 'none' && !f.count);
  const ratioRows = rows
    .filter((p) => p.status === 'ok' || Object.keys(p.figures).length > 0)
    .map((p) => [peerLabel(p), ...ratioFigs.map((f) => ratioCell(w.ratios[p.peer]?.[f.key]))]);
  if (ratioRows.length > 0) {
    out.push('', `Ratios to ${w.baseline} (median ÷ median, same run; for s and MiB lower is better):`, '');
    out.push(...table(['peer', ...ratioFigs.map((f) => f.label)], ratioRows));
  }
  out.push('');
  return out;
}

export function renderMarkdown(r: Report): string {
  const m = r.machine;
  const out: string[] = [
    '# spillchest benchmarks',
    '',
    `${m.date} · ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / GiB).toFixed(1)} GiB · Node ${m.node} · ` +
      `${m.platform} ${m.release} · this run took ${Math.round(r.durationS)} s`,
    '',
    'Each workload below is its latest saved result; the line under its table says when it ran (a run of ' +
      'some workloads keeps the others). Targets compare figures from within one workload run.',
    '',
    `Options: ${Object.entries(r.options)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
      .join(' ')}. lru-cache sizeCalculation: ${r.sizeEstimator}.`,
    '',
    '## Targets',
    '',
    ...table(['target', 'value', 'threshold', 'result', 'detail'], r.targets.map(targetRow)),
    '',
  ];
  for (const w of r.workloads) out.push(...workloadSection(w));
  out.push('## Peers', '');
  const seen = new Set<string>();
  for (const w of r.workloads)
    for (const p of w.peers)
      if (!seen.has(p.peer)) {
        seen.add(p.peer);
        out.push(`- **${p.peer}**: ${p.config}`);
      }
  out.push('');
  return out.join('\n');
}

/** The README's block: the targets, which run each workload comes from, and links to the rest. */
export function renderSummary(r: Report): string {
  const out: string[] = [
    `Latest results, from \`bench/results/\` (every figure and peer in [latest.md](bench/results/latest.md)):`,
    '',
    ...table(
      ['workload', 'sizes', 'runs', 'ran'],
      r.workloads.map((w) => [
        workloadTitle(w),
        w.summary,
        String(w.runs),
        w.ran ? `${w.ran.date.slice(0, 10)}, ${w.ran.machine}` : 'n/a',
      ]),
    ),
    '',
    ...table(
      ['target', 'value', 'threshold', 'result'],
      r.targets.map((t) => targetRow(t).slice(0, 4)),
    ),
    '',
    ...ownChests(r),
    '![Chest against its peers, median and min–max per workload](bench/results/chart.svg)',
  ];
  return out.join('\n') + '\n';
}

const OWN_CHESTS = ['chest', 'async-chest', 'async-chest-redis'] as const;

/** Chest beside AsyncChest (on its LMDB store and on Redis): each workload's figures, medians. */
function ownChests(r: Report): string[] {
  const rows: string[][] = [];
  for (const w of r.workloads) {
    const peers = OWN_CHESTS.map((name) => w.peers.find((p) => p.peer === name && p.status !== 'skipped'));
    if (peers[1] === undefined && peers[2] === undefined) continue;
    for (const f of w.figures) {
      if (peers.every((p) => p?.figures[f.key] === undefined)) continue;
      rows.push([
        workloadTitle(w),
        f.label,
        ...peers.map((p) =>
          p === undefined ? 'n/a' : `${cell(p.figures[f.key], f.digits)}${p.limited ? ' ¹' : ''}`,
        ),
      ]);
    }
  }
  if (rows.length === 0) return [];
  return [
    'Chest beside AsyncChest, on its LMDB store and on Redis (one local server), from the same runs:',
    '',
    ...table(['workload', 'figure', ...OWN_CHESTS], rows),
    '',
    '¹ reduced sizes (see latest.md).',
    '',
  ];
}
