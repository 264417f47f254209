// Prometheus HTTP API: instant PromQL queries for verification (and, later, detectors and
// graphs). Factory over fetch and the server's base URL, so tests use a real Prometheus.
import { ApplicationFailure } from '@temporalio/activity';

export interface PrometheusDeps {
  fetch: typeof globalThis.fetch;
  /** Default Prometheus base URL; a playbook may name another. */
  baseUrl?: string;
}

export interface PromqlProbeInput {
  query: string;
  prometheusUrl?: string;
  timeoutMs: number;
}

/** pass: every series is non-zero; fail: some series is 0; nodata: no series (a scrape gap, or
 * the expression filtered everything) — verification tolerates a short run of these. */
export interface PromqlProbeResult {
  outcome: 'pass' | 'fail' | 'nodata';
  evidence: string;
  values: { labels: Record<string, string>; value: number }[];
}

interface QueryResponse {
  status: 'success' | 'error';
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] | [number, string] };
}

const MAX_SERIES_IN_EVIDENCE = 5;

export function createPrometheusActivities(deps: PrometheusDeps) {
  async function promqlProbe(input: PromqlProbeInput): Promise<PromqlProbeResult> {
    const base = input.prometheusUrl ?? deps.baseUrl;
    if (!base) {
      throw ApplicationFailure.create({
        type: 'NoPrometheus',
        nonRetryable: true,
        message: 'no Prometheus URL: set MEDIC_PROMETHEUS_URL or verification.promql.prometheusUrl',
      });
    }
    const url = `${base.replace(/\/$/, '')}/api/v1/query?${new URLSearchParams({ query: input.query })}`;
    const res = await deps.fetch(url, { signal: AbortSignal.timeout(input.timeoutMs) });
    const body = (await res.json().catch(() => ({ status: 'error', error: `HTTP ${res.status}` }))) as QueryResponse;
    if (body.status !== 'success' || !body.data) {
      // A bad expression will never start working: do not retry it.
      const bad = body.errorType === 'bad_data';
      throw ApplicationFailure.create({
        type: bad ? 'BadQuery' : 'PrometheusError',
        nonRetryable: bad,
        message: `Prometheus rejected "${input.query}": ${body.error ?? `HTTP ${res.status}`}`,
      });
    }
    const { resultType, result } = body.data;
    const samples =
      resultType === 'scalar'
        ? [{ labels: {}, value: Number((result as [number, string])[1]) }]
        : (result as { metric: Record<string, string>; value?: [number, string] }[]).map((r) => ({
            labels: r.metric,
            value: Number(r.value?.[1] ?? 'NaN'),
          }));
    if (samples.length === 0) return { outcome: 'nodata', evidence: `${input.query}: no data`, values: [] };
    const failing = samples.filter((x) => !(x.value !== 0 && Number.isFinite(x.value)));
    const shown = samples
      .slice(0, MAX_SERIES_IN_EVIDENCE)
      .map((x) => `${Object.entries(x.labels).map(([k, v]) => `${k}="${v}"`).join(',') || 'value'}=${x.value}`)
      .join(' ');
    const more = samples.length > MAX_SERIES_IN_EVIDENCE ? ` (+${samples.length - MAX_SERIES_IN_EVIDENCE} more)` : '';
    return { outcome: failing.length === 0 ? 'pass' : 'fail', evidence: `${input.query}: ${shown}${more}`, values: samples };
  }
  return { promqlProbe };
}
