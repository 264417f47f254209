// Incident graphs: the alert's expression over the last hour, with the threshold and the times
// medic acted marked, as a PNG for the incident thread. Vega-Lite describes the chart, Vega
// renders it to SVG in-process and resvg rasterizes it: no browser anywhere on the path.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface GraphSeries {
  name: string;
  points: { t: number; v: number }[];
}

export interface GraphInput {
  title: string;
  series: GraphSeries[];
  threshold?: number;
  /** Vertical markers, e.g. "action started", "verified". */
  marks: { t: number; label: string }[];
  width?: number;
  height?: number;
}

export function graphSpec(g: GraphInput): TopLevelSpec {
  const values = g.series.flatMap((s) => s.points.map((p) => ({ series: s.name, t: p.t, v: p.v })));
  const line = {
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    encoding: {
      x: { field: 't', type: 'temporal', title: null, axis: { format: '%H:%M' } },
      y: { field: 'v', type: 'quantitative', title: null },
      color: { field: 'series', type: 'nominal', legend: g.series.length > 1 ? { orient: 'bottom', title: null } : null },
    },
  };
  const layer: unknown[] = [line];
  if (g.threshold !== undefined) {
    layer.push({
      data: { values: [{ y: g.threshold }] },
      mark: { type: 'rule', color: '#d62728', strokeDash: [6, 4] },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    });
  }
  if (g.marks.length > 0) {
    layer.push(
      {
        data: { values: g.marks },
        mark: { type: 'rule', color: '#2ca02c', strokeWidth: 1.5 },
        encoding: { x: { field: 't', type: 'temporal' } },
      },
      {
        data: { values: g.marks },
        mark: { type: 'text', align: 'left', dx: 3, dy: -4, color: '#2ca02c', fontSize: 11, baseline: 'top' },
        encoding: { x: { field: 't', type: 'temporal' }, y: { value: 4 }, text: { field: 'label' } },
      },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: g.title, anchor: 'start', fontSize: 14 },
    width: g.width ?? 640,
    height: g.height ?? 240,
    background: 'white',
    layer,
  } as unknown as TopLevelSpec;
}

export async function renderGraphSvg(g: GraphInput): Promise<string> {
  const view = new vega.View(vega.parse(compile(graphSpec(g)).spec), { renderer: 'none' });
  return view.toSVG();
}

export async function renderGraphPng(g: GraphInput): Promise<Buffer> {
  const svg = await renderGraphSvg(g);
  return new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}
