// A real Prometheus (Debian package, dev/prometheus-stack.ts) holding two weeks of a request
// counter, backfilled with promtool before it starts: 0.05% errors in the week before last,
// 0.2% errors in the last week — so an SLO of 99.9% was met, then missed, by known amounts.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';

const STEP_S = 600;
const WEEK_S = 7 * 86_400;
const PER_STEP = 10_000;

export const SLO_SERIES = {
  good: 'medic_slo_requests_total{code!~"5.."}',
  total: 'medic_slo_requests_total',
  /** Good-event percentages the two weeks must show. */
  current: 99.8,
  previous: 99.95,
} as const;

function openMetrics(nowS: number): string {
  const start = nowS - 2 * WEEK_S + STEP_S;
  const boundary = nowS - WEEK_S;
  const ok: string[] = [];
  const bad: string[] = [];
  let good = 0;
  let errors = 0;
  for (let t = start; t <= nowS - 60; t += STEP_S) {
    // an increment ending after the boundary belongs to the last week
    const failed = t > boundary ? (PER_STEP * (100 - SLO_SERIES.current)) / 100 : (PER_STEP * (100 - SLO_SERIES.previous)) / 100;
    good += PER_STEP - failed;
    errors += failed;
    ok.push(`medic_slo_requests_total{code="200"} ${good} ${t}`);
    bad.push(`medic_slo_requests_total{code="500"} ${errors} ${t}`);
  }
  return ['# TYPE medic_slo_requests counter', ...ok, ...bad, '# EOF', ''].join('\n');
}

export async function startSloPrometheus(): Promise<PrometheusStack> {
  const dir = await mkdtemp(join(tmpdir(), 'medic-slo-prom-'));
  const data = join(dir, 'prometheus-data');
  await mkdir(data, { recursive: true });
  const input = join(dir, 'slo.om');
  await writeFile(input, openMetrics(Math.floor(Date.now() / 1000)));
  await promisify(execFile)('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', '-q', input, data], { maxBuffer: 16 << 20 });
  // Nothing to scrape or alert on: the backfilled blocks are the data.
  return startPrometheusStack({ scrapeTarget: '127.0.0.1:9', webhookUrl: 'http://127.0.0.1:9/unused', webhookToken: 'unused-token-0123456789', rules: [], interval: '15s', dir });
}
