// The real detection path: Prometheus scrapes the demo service, its rule fires, Alertmanager
// posts webhook v4 to medic, the incident heals the service, the alert resolves and
// Alertmanager's resolved notification reaches the incident.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_RULES, startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';
import { demoPlaybook } from '../support/fixtures.js';
import { startMedic, TOKENS, type Medic } from '../support/medic.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

let m: Medic;
let stack: PrometheusStack;

beforeAll(async () => {
  m = await startMedic();
  stack = await startPrometheusStack({
    scrapeTarget: new URL(m.demo.url).host,
    webhookUrl: `${m.url}/webhooks/alertmanager`,
    webhookToken: TOKENS.intake,
    rules: DEMO_RULES,
  });
  m.playbooks.push(
    demoPlaybook(m.demo.url, {
      name: 'demo-service-down',
      steps: [
        {
          name: 'restart',
          action: 'http',
          params: { method: 'POST', url: `${m.demo.url}/remediate` },
          // both probes must hold: the HTTP health check and Prometheus' view of the service
          verification: {
            http: { url: `${m.demo.url}/healthz` },
            promql: { query: 'demo_up', prometheusUrl: stack.prometheusUrl },
            window: '8s',
            interval: '500ms',
            deadline: '60s',
          },
        },
      ],
    }),
  );
});
afterAll(async () => {
  await stack?.stop();
  await m?.stop();
});

it('break the demo service → rule fires → Alertmanager → medic → healed → resolved notification', async () => {
  // Prometheus really scrapes the demo service
  const deadline = Date.now() + 20_000;
  for (;;) {
    const q = (await (await fetch(`${stack.prometheusUrl}/api/v1/query?query=demo_up`)).json()) as { data: { result: unknown[] } };
    if (q.data.result.length > 0) break;
    if (Date.now() > deadline) throw new Error('Prometheus never scraped demo_up');
    await new Promise((r) => setTimeout(r, 250));
  }

  m.demo.state.fault = 'outage';
  let workflowId: string | undefined;
  const found = Date.now() + 30_000;
  while (!workflowId) {
    const list = await m.api('GET', '/api/incidents?all=true', TOKENS.alice);
    workflowId = (list.body.incidents as { workflowId: string }[])[0]?.workflowId;
    if (Date.now() > found) throw new Error('no incident opened from the Prometheus rule');
    if (!workflowId) await new Promise((r) => setTimeout(r, 250));
  }
  expect(workflowId).toMatch(/^incident:demo-service-down:[0-9a-f]{12}$/);

  const final = (await m.env.client.workflow.getHandle(workflowId).result()) as { status: string; alertsReceived: number };
  expect(final.status).toBe('resolved');
  expect(m.demo.state.fault).toBe('none');
  const timeline = (await m.timeline(workflowId)).map((e) => e.message);
  expect(timeline).toContain('DemoServiceDown firing (critical) from alertmanager');
  // the resolved notification came back through Alertmanager while medic verified the heal
  expect(timeline).toContain('DemoServiceDown resolved (critical) from alertmanager');
  const verified = timeline.find((t) => t.startsWith('verified: healthy for 8s'));
  expect(verified).toMatch(/answered 200 .*; demo_up: .*job="demo".*=1/);

  // the alert carries its expression and a silence link; the incident graph renders from them
  const { expressionOf } = await import('../../src/intake/schemas.js');
  const { incidentGraphPng } = await import('../../src/graphs/incident-graph.js');
  const { PNG } = await import('pngjs');
  const entries = await m.timeline(workflowId);
  const firstAlert = entries.find((e) => groupOf(e.kind) === 'alert' && e.message.includes('firing'));
  expect(firstAlert).toBeDefined();
  // the incident's input (first history event) holds the alert as received
  const history = await m.env.client.workflow.getHandle(workflowId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  const input = JSON.parse(Buffer.from(started as Uint8Array).toString()) as { alert: { annotations: Record<string, string> } };
  expect(input.alert.annotations.silenceURL).toMatch(/^http:\/\/.*\/#\/silences\/new\?filter=/);
  const expression = expressionOf(input.alert.annotations.generatorURL);
  expect(expression).toBe('demo_up == 0');
  const png = PNG.sync.read(await incidentGraphPng({ prometheusUrl: stack.prometheusUrl, expression: expression!, timeline: entries }));
  expect(png.width).toBeGreaterThanOrEqual(640);

  // Alertmanager itself shows no active alert any more
  const active = (await (await fetch(`${stack.alertmanagerUrl}/api/v2/alerts?active=true`)).json()) as unknown[];
  expect(active).toEqual([]);
}, 90_000);

it('a PromQL verification that never holds fails the step with the values seen', async () => {
  m.playbooks.length = 0;
  m.playbooks.push(
    demoPlaybook(m.demo.url, {
      name: 'stubborn-demo',
      match: { alertname: 'StubbornDown' },
      holdAfterEscalation: '1s',
      steps: [
        {
          name: 'restart',
          action: 'http',
          params: { method: 'POST', url: `${m.demo.url}/remediate` },
          verification: { promql: { query: 'demo_up', prometheusUrl: stack.prometheusUrl }, window: '2s', interval: '500ms', deadline: '4s' },
        },
      ],
    }),
  );
  m.demo.state.fault = 'stubborn';
  const res = await m.postAlerts('firing', { alertname: 'StubbornDown', service: 'stubborn' });
  const { incidents } = (await res.json()) as { incidents: { workflowId: string }[] };
  const id = incidents[0]!.workflowId;
  const final = (await m.env.client.workflow.getHandle(id).result()) as { status: string };
  expect(final.status).toBe('escalated');
  const failed = (await m.timeline(id)).find((e) => e.message.startsWith('verification failed'));
  expect(failed?.message).toMatch(/last: demo_up: .*job="demo".*=0/);
  m.demo.state.fault = 'none';
}, 60_000);
