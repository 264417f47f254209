// SLO compliance for reports and the weekly digest: an SLI as PromQL — counters of good and
// total events, or a ready ratio expression using $__range — evaluated through the Prometheus
// HTTP API over a period and over the previous period of the same length, against an objective.
import { z } from 'zod';

export const SloSchema = z
  .strictObject({
    name: z.string().min(1).describe('Shown in reports, e.g. checkout-availability'),
    objective: z.number().gt(0).lt(100).describe('Target percentage of good events over the period, e.g. 99.9'),
    good: z.string().min(1).optional().describe('Series selector of the good-events counter, e.g. http_requests_total{code!~"5.."}'),
    total: z.string().min(1).optional().describe('Series selector of the all-events counter, e.g. http_requests_total'),
    ratio: z
      .string()
      .min(1)
      .optional()
      .describe('Instead of good/total: a PromQL expression giving the good ratio (0–1) over $__range, e.g. sum(rate(ok[$__range])) / sum(rate(all[$__range]))'),
  })
  .superRefine((s, ctx) => {
    const counters = s.good !== undefined || s.total !== undefined;
    if (counters && s.ratio !== undefined) ctx.addIssue({ code: 'custom', path: ['ratio'], message: 'give either good + total or ratio, not both' });
    else if (!counters && s.ratio === undefined) ctx.addIssue({ code: 'custom', path: ['good'], message: 'give good + total (counters) or ratio (an expression with $__range)' });
    else if (counters && (s.good === undefined || s.total === undefined)) ctx.addIssue({ code: 'custom', path: [s.good === undefined ? 'good' : 'total'], message: 'good and total go together' });
    else if (s.ratio !== undefined && !s.ratio.includes('$__range')) ctx.addIssue({ code: 'custom', path: ['ratio'], message: 'must use $__range for the period (e.g. rate(x[$__range]))' });
  });
export type Slo = z.infer<typeof SloSchema>;

/** The SLI of one period: the good ratio in percent, or why there is none. */
export type SliValue = { percent: number; met: boolean; budgetUsedPercent: number } | { percent: null; problem: string };

export interface SloResult {
  name: string;
  objective: number;
  current: SliValue;
  previous: SliValue;
}

/** The PromQL that gives the good ratio (0–1) over the `seconds` before the evaluation time. */
export function sliQuery(slo: Slo, seconds: number): string {
  const range = `${Math.max(1, Math.round(seconds))}s`;
  if (slo.ratio !== undefined) return slo.ratio.replaceAll('$__range', range);
  return `sum(increase(${slo.good}[${range}])) / sum(increase(${slo.total}[${range}]))`;
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: unknown };
}

async function instant(prometheusUrl: string, query: string, at: number, fetchFn: typeof fetch): Promise<number | null> {
  const params = new URLSearchParams({ query, time: (at / 1000).toFixed(3) });
  const res = await fetchFn(`${prometheusUrl.replace(/\/$/, '')}/api/v1/query?${params}`, { signal: AbortSignal.timeout(15_000) });
  const body = (await res.json().catch(() => ({ status: 'error', error: `HTTP ${res.status}` }))) as QueryResponse;
  if (body.status !== 'success' || !body.data) throw new Error(`Prometheus rejected ${query}: ${body.error ?? `HTTP ${res.status}`}`);
  const { resultType, result } = body.data;
  const raw = resultType === 'scalar' ? (result as [number, string])[1] : (result as { value: [number, string] }[])[0]?.value[1];
  const v = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(v) ? v : null;
}

export function sliValue(ratio: number | null, objective: number): SliValue {
  if (ratio === null) return { percent: null, problem: 'no data' };
  const percent = 100 * ratio;
  // error budget = 100 − objective; used = observed bad / allowed bad
  return { percent, met: percent >= objective, budgetUsedPercent: (100 * (100 - percent)) / (100 - objective) };
}

async function period(prometheusUrl: string, slo: Slo, from: number, to: number, fetchFn: typeof fetch): Promise<SliValue> {
  try {
    return sliValue(await instant(prometheusUrl, sliQuery(slo, (to - from) / 1000), to, fetchFn), slo.objective);
  } catch (err) {
    return { percent: null, problem: (err as Error).message };
  }
}

/** Each SLO over [from, to) and over the period of the same length before it. */
export async function evaluateSlos(prometheusUrl: string, slos: readonly Slo[], from: number, to: number, fetchFn: typeof fetch = fetch): Promise<SloResult[]> {
  return Promise.all(
    slos.map(async (slo) => {
      const [current, previous] = await Promise.all([period(prometheusUrl, slo, from, to, fetchFn), period(prometheusUrl, slo, from - (to - from), from, fetchFn)]);
      return { name: slo.name, objective: slo.objective, current, previous };
    }),
  );
}

const pctText = (v: number): string => `${v.toFixed(v >= 99 ? 3 : 2)}%`;

/** "99.800% (missed, 200% of budget)" / "no data". */
export function formatSli(v: SliValue): string {
  if (v.percent === null) return v.problem;
  return `${pctText(v.percent)} (${v.met ? 'met' : 'missed'}, ${Math.round(v.budgetUsedPercent)}% of budget)`;
}

export function formatSloLines(results: readonly SloResult[]): string[] {
  if (results.length === 0) return [];
  const lines = ['SLO compliance (objective; this period vs previous):'];
  for (const r of results) {
    const delta = r.current.percent !== null && r.previous.percent !== null ? `  ${r.current.percent >= r.previous.percent ? '+' : ''}${(r.current.percent - r.previous.percent).toFixed(3)} pp` : '';
    lines.push(`  ${r.name} (objective ${r.objective}%): ${formatSli(r.current)} vs ${formatSli(r.previous)}${delta}`);
  }
  return lines;
}
