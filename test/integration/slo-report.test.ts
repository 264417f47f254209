// SLO compliance against a real Prometheus holding two weeks of backfilled request counters:
// the SLI (good/total counters, or a ratio expression over $__range) over the last 7 days and the
// 7 days before, against a 99.9% objective; and `medic report` (a child process, SLOs from a YAML
// config file) printing it.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrometheusStack } from '../../dev/prometheus-stack.js';
import { evaluateSlos, SloSchema, type SliValue } from '../../src/report/slo.js';
import { openIncidentStore } from '../../src/store/store.js';
import { ROOT } from '../support/paths.js';
import { SLO_SERIES, startSloPrometheus } from '../support/slo-prometheus.js';

const DAY = 86_400_000;
let prom: PrometheusStack;
beforeAll(async () => {
  prom = await startSloPrometheus();
});
afterAll(async () => {
  await prom?.stop();
});

const percent = (v: SliValue): number => {
  if (v.percent === null) throw new Error(`no SLI: ${v.problem}`);
  return v.percent;
};

describe('SLO compliance from Prometheus', () => {
  it('good/total counters: this week missed 99.9%, the week before met it', async () => {
    const now = Date.now();
    const slo = SloSchema.parse({ name: 'api-availability', objective: 99.9, good: SLO_SERIES.good, total: SLO_SERIES.total });
    const [r] = await evaluateSlos(prom.prometheusUrl, [slo], now - 7 * DAY, now);
    expect(percent(r!.current)).toBeCloseTo(SLO_SERIES.current, 6);
    expect(percent(r!.previous)).toBeCloseTo(SLO_SERIES.previous, 6);
    expect(r!.current).toMatchObject({ met: false });
    expect(r!.previous).toMatchObject({ met: true });
    // 0.2% bad of a 0.1% budget = 200%; 0.05% = 50%
    expect((r!.current as { budgetUsedPercent: number }).budgetUsedPercent).toBeCloseTo(200, 3);
    expect((r!.previous as { budgetUsedPercent: number }).budgetUsedPercent).toBeCloseTo(50, 3);
  });

  it('a ratio expression over $__range gives the same; no data and a bad query are said', async () => {
    const now = Date.now();
    const slos = [
      SloSchema.parse({ name: 'ratio', objective: 99.9, ratio: `sum(rate(${SLO_SERIES.good}[$__range])) / sum(rate(${SLO_SERIES.total}[$__range]))` }),
      SloSchema.parse({ name: 'absent', objective: 99, good: 'nothing_here_total', total: 'nothing_here_total' }),
      SloSchema.parse({ name: 'broken', objective: 99, ratio: 'sum(rate(x[$__range]) /' }),
    ];
    const [ratio, absent, broken] = await evaluateSlos(prom.prometheusUrl, slos, now - 7 * DAY, now);
    expect(percent(ratio!.current)).toBeCloseTo(SLO_SERIES.current, 6);
    expect(percent(ratio!.previous)).toBeCloseTo(SLO_SERIES.previous, 6);
    expect(absent!.current).toEqual({ percent: null, problem: 'no data' });
    expect(broken!.current).toMatchObject({ percent: null, problem: expect.stringMatching(/^Prometheus rejected .*parse error/) });
  });

  it('the SLO config says what is wrong', () => {
    const issues = (x: unknown): string[] => SloSchema.safeParse(x).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ name: 'a', objective: 99.9 })).toEqual(['good: give good + total (counters) or ratio (an expression with $__range)']);
    expect(issues({ name: 'a', objective: 99.9, good: 'x' })).toEqual(['total: good and total go together']);
    expect(issues({ name: 'a', objective: 99.9, ratio: 'up' })).toEqual(['ratio: must use $__range for the period (e.g. rate(x[$__range]))']);
    expect(issues({ name: 'a', objective: 100, good: 'x', total: 'y' })).toHaveLength(1);
  });

  it('medic report prints SLO compliance against the objective and the previous period', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medic-slo-report-'));
    const store = await openIncidentStore({ path: join(dir, 'store.db') });
    await store.close();
    const configFile = join(dir, 'medic.yaml');
    writeFileSync(configFile, stringify({ slos: [{ name: 'api-availability', objective: 99.9, good: SLO_SERIES.good, total: SLO_SERIES.total }] }));
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/medic.js'), 'report', '--store', join(dir, 'store.db')], {
      env: { ...process.env, MEDIC_CONFIG: configFile, MEDIC_PROMETHEUS_URL: prom.prometheusUrl, MEDIC_STORE_PATH: undefined },
    });
    expect(stdout).toContain('SLO compliance (objective; this period vs previous):');
    expect(stdout).toMatch(/^ {2}api-availability \(objective 99\.9%\): 99\.800% \(missed, 200% of budget\) vs 99\.950% \(met, 50% of budget\) {2}-0\.150 pp$/m);
    console.log(`--- medic report with an SLO ---\n${stdout}`);
  });
});
