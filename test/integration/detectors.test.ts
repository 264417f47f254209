// Built-in detectors on a real Prometheus: a threshold detector with for: opens an incident
// through the same intake as alerts, records its time to detect, and resolves it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_RULES, startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';
import { DetectorSchema, startDetectors } from '../../src/detect/runner.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { demoPlaybook, healthyAgain, remediateStep, silentLog } from '../support/fixtures.js';
import { startMedic, TOKENS, type Medic } from '../support/medic.js';

let m: Medic;
let stack: PrometheusStack;
let runner: { stop(): void } | undefined;

beforeAll(async () => {
  m = await startMedic();
  // the Prometheus rule never reaches medic here (dead webhook): only the detector can open it
  stack = await startPrometheusStack({ scrapeTarget: new URL(m.demo.url).host, webhookUrl: 'http://127.0.0.1:9/none', webhookToken: 'x'.repeat(20), rules: DEMO_RULES });
  m.playbooks.push(
    demoPlaybook(m.demo.url, {
      name: 'detected-demo',
      match: { alertname: 'DemoUpLow' },
      steps: [remediateStep(m.demo.url, { verification: healthyAgain(m.demo.url, '6s', '60s', '500ms') })],
    }),
  );
});
afterAll(async () => {
  runner?.stop();
  await stack?.stop();
  await m?.stop();
});

it('threshold detector fires → incident → healed → detector clears (resolved alert delivered)', async () => {
  const detectors = [
    DetectorSchema.parse({ kind: 'threshold', name: 'DemoUpLow', query: 'demo_up', op: '<', threshold: 1, for: 2, interval: '1s', labels: { severity: 'critical', service: 'demo' } }),
    DetectorSchema.parse({ kind: 'anomaly', name: 'DemoUpAnomaly', query: 'demo_up', interval: '1s', labels: { service: 'demo' } }),
    DetectorSchema.parse({ kind: 'multi', name: 'DemoDownAndAnomalous', all: ['DemoUpLow', 'DemoUpAnomaly'], interval: '1s' }),
  ];
  const delivered: { alertname: string; status: string; ttd?: string }[] = [];
  runner = startDetectors({
    detectors,
    prometheusUrl: stack.prometheusUrl,
    deliver: async (alerts) => {
      for (const a of alerts) delivered.push({ alertname: a.alertname, status: a.status, ttd: a.annotations.ttdSeconds });
      return ingestAlerts({ client: m.env.client, taskQueue: m.config.temporal.taskQueue, playbooks: () => m.playbooks, log: silentLog }, alerts);
    },
  });
  await new Promise((r) => setTimeout(r, 3_000)); // a few healthy evaluations first
  m.demo.state.fault = 'outage';

  let workflowId: string | undefined;
  const deadline = Date.now() + 30_000;
  while (!workflowId && Date.now() < deadline) {
    const list = await m.api('GET', '/api/incidents?all=true', TOKENS.alice);
    workflowId = (list.body.incidents as { workflowId: string }[]).find((i) => i.workflowId.startsWith('incident:detected-demo:'))?.workflowId;
    if (!workflowId) await new Promise((r) => setTimeout(r, 250));
  }
  expect(workflowId).toBeDefined();
  const final = (await m.env.client.workflow.getHandle(workflowId!).result()) as { status: string };
  expect(final.status).toBe('resolved');

  const fired = delivered.find((d) => d.alertname === 'DemoUpLow' && d.status === 'firing');
  expect(fired).toBeDefined();
  // for: 2 at a 1 s interval: detected about one interval after the first breach
  expect(Number(fired!.ttd)).toBeGreaterThanOrEqual(0.9);
  expect(Number(fired!.ttd)).toBeLessThan(5);
  const timeline = (await m.timeline(workflowId!)).map((e) => e.message);
  expect(timeline).toContain('DemoUpLow firing (critical) from detector');

  // after the heal the detector clears and delivers resolved
  const clearBy = Date.now() + 15_000;
  while (!delivered.some((d) => d.alertname === 'DemoUpLow' && d.status === 'resolved') && Date.now() < clearBy) {
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(delivered.filter((d) => d.alertname === 'DemoUpLow').map((d) => d.status)).toEqual(['firing', 'resolved']);
}, 90_000);
