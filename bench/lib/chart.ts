/**
 * bench/results/chart.svg: one panel per charted figure, Chest against its peers, median as a point with
 * the min–max range as a rule. Vega-Lite compiled to Vega, rendered headless to SVG.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { workloadTitle } from './report.js';
import type { WorkloadResult } from './results.js';
import type { WorkloadId } from './types.js';

interface Row {
  panel: string;
  peer: string;
  median: number;
  min: number;
  max: number;
  chest: string;
}

export async function renderChart(
  workloads: readonly WorkloadResult[],
  charts: Readonly<Record<WorkloadId, readonly { key: string; log: boolean }[]>>,
): Promise<string> {
  const panels: object[] = [];
  for (const w of workloads) {
    for (const c of charts[w.id]) {
      const fig = w.figures.find((f) => f.key === c.key);
      const panel = `${workloadTitle(w)}: ${fig?.label ?? c.key}`;
      const values: Row[] = [];
      for (const p of w.peers) {
        const s = p.figures[c.key];
        if (!s || (c.log && s.min <= 0)) continue;
        const flaws = w.figures.some((f) => f.count && (p.figures[f.key]?.max ?? 0) > 0);
        const label = p.limited ? `${p.peer} (reduced N)` : p.peer;
        values.push({
          panel,
          peer: flaws ? `${label} (bad/lost values)` : label,
          median: s.median,
          min: s.min,
          max: s.max,
          chest: p.peer === 'chest' ? 'chest' : 'peer',
        });
      }
      if (values.length === 0) continue;
      const x = {
        field: 'median',
        type: 'quantitative',
        title: c.log ? `${fig?.label ?? c.key} (log scale)` : (fig?.label ?? c.key),
        scale: c.log ? { type: 'log' } : { zero: true },
      };
      panels.push({
        title: panel,
        width: 360,
        height: { step: 18 },
        data: { values },
        encoding: {
          y: {
            field: 'peer',
            type: 'nominal',
            sort: { field: 'median', order: 'descending' },
            axis: { labelLimit: 240 },
            title: null,
          },
        },
        layer: [
          { mark: { type: 'rule' }, encoding: { x: { ...x, field: 'min' }, x2: { field: 'max' } } },
          {
            mark: { type: 'point', filled: true, size: 60 },
            encoding: {
              x,
              color: {
                field: 'chest',
                type: 'nominal',
                scale: { domain: ['chest', 'peer'], range: ['#d62728', '#1f77b4'] },
                legend: null,
              },
            },
          },
        ],
      });
    }
  }
  if (panels.length === 0) panels.push({ title: 'no figures', data: { values: [] }, mark: 'point' });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'spillchest vs peers (median, min–max; red = chest)',
    columns: 2,
    concat: panels,
    config: { font: 'sans-serif', view: { stroke: null } },
  } as unknown as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
