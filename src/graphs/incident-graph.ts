// The graph for an incident thread: the incident's graph query (the playbook's, or the alert's own
// expression when the playbook allow-lists it: src/graphs/query.ts) over the last hour from Prometheus'
// range API, its threshold (when the expression compares with a number) and medic's actions.
import type { IncidentStatus, TimelineEntry } from '../../workflows/contracts.js';
import { renderGraphPng, type GraphSeries } from './render.js';

interface RangeResponse {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

/** `rate(x[5m]) > 0.5` → { query: 'rate(x[5m])', threshold: 0.5 }: plot the signal, mark the line. */
export function splitThreshold(expr: string): { query: string; threshold?: number } {
  const m = /^(.*?)\s*(?:==|!=|>=|<=|>|<)\s*(?:bool\s+)?(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(expr.trim());
  return m ? { query: m[1]!, threshold: Number(m[2]) } : { query: expr };
}

export async function queryRange(
  fetchFn: typeof globalThis.fetch,
  prometheusUrl: string,
  query: string,
  startMs: number,
  endMs: number,
): Promise<GraphSeries[]> {
  const step = Math.max(1, Math.round((endMs - startMs) / 1000 / 240)); // ~240 points
  const params = new URLSearchParams({ query, start: String(startMs / 1000), end: String(endMs / 1000), step: `${step}s` });
  const res = await fetchFn(`${prometheusUrl.replace(/\/$/, '')}/api/v1/query_range?${params}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as RangeResponse;
  if (body.status !== 'success' || !body.data) throw new Error(`Prometheus query_range failed: ${body.error ?? res.status}`);
  return body.data.result.slice(0, 8).map((r) => ({
    name: Object.entries(r.metric).filter(([k]) => k !== '__name__').map(([k, v]) => `${k}=${v}`).join(',') || query,
    points: r.values.map(([t, v]) => ({ t: t * 1000, v: Number(v) })),
  }));
}

export async function incidentGraphPng(o: {
  fetch?: typeof globalThis.fetch;
  prometheusUrl: string;
  expression: string;
  timeline: TimelineEntry[];
  endMs?: number;
  title?: string;
}): Promise<Buffer> {
  const end = o.endMs ?? Date.now();
  const { query, threshold } = splitThreshold(o.expression);
  const series = await queryRange(o.fetch ?? fetch, o.prometheusUrl, query, end - 3_600_000, end);
  const marks = o.timeline.flatMap((e) => {
    const label = markOf(e);
    return label ? [{ t: e.at, label }] : [];
  });
  return renderGraphPng({ title: o.title ?? `${query} — last hour`, series, ...(threshold !== undefined ? { threshold } : {}), marks });
}

/** What the graph marks: actions starting and ending, and the verification that held. */
function markOf(e: TimelineEntry): string | undefined {
  switch (e.kind) {
    case 'action.started':
      return e.data.dryRun ? undefined : 'action';
    case 'action.succeeded':
      return 'done';
    case 'action.failed':
      return 'failed';
    case 'verification.passed':
      return 'verified';
    default:
      return undefined;
  }
}

/** The Slack sink's graph for an incident: the query the workflow chose (src/graphs/query.ts) —
 * never an expression taken from the alert unless its playbook allow-lists it. */
export function slackGraph(prometheusUrl: string, fetchFn: typeof globalThis.fetch = fetch) {
  return async (i: IncidentStatus): Promise<{ png: Buffer; title: string } | undefined> => {
    const expression = i.graphQuery;
    if (!expression) return undefined;
    const title = `${i.alertname} on ${i.target}: ${expression} — last hour`;
    return { png: await incidentGraphPng({ fetch: fetchFn, prometheusUrl, expression, timeline: [], title }), title };
  };
}
