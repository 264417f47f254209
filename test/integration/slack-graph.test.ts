// The incident graph reaches the Slack thread: an alert with its Prometheus generator URL opens
// an incident, and the Slack sink renders the expression (allow-listed by the playbook) over the last hour from a real
// Prometheus and uploads it through the stand-in's two-step file upload into the thread.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSlackSink } from '../../src/sinks/slack/sink.js';
import { DEMO_RULES, startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import { slackGraph } from '../../src/graphs/incident-graph.js';
import { slackWebClient } from '../../src/slack/client.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { demoPlaybook, firingAlert, silentLog, stopAll } from '../support/fixtures.js';
import { startMedic, type Medic } from '../support/medic.js';
import { medicWorker, uniqueQueue, runWorker, type RunningWorker } from '../support/temporal.js';

let m: Medic;
let stack: PrometheusStack;
let slack: SlackStandIn;
let worker: RunningWorker | undefined;
const taskQueue = uniqueQueue('graph');

beforeAll(async () => {
  m = await startMedic();
  slack = await startSlackStandIn({ botToken: 'xoxb-graph-test', channels: [{ id: 'C0GRAPH', name: 'incidents' }] });
  stack = await startPrometheusStack({ scrapeTarget: new URL(m.demo.url).host, webhookUrl: 'http://127.0.0.1:9/none', webhookToken: 'x'.repeat(20), rules: DEMO_RULES });
  const sink = createSlackSink({ web: slackWebClient({ botToken: 'xoxb-graph-test', apiUrl: slack.apiUrl, retries: 5 }), channel: 'C0GRAPH', graph: slackGraph(stack.prometheusUrl) });
  worker = runWorker(await medicWorker(m.env, taskQueue, {}, [sink]));
}, 120_000);
afterAll(() => stopAll(worker, stack, slack, m));

it('uploads the graph of the alert expression into the incident thread', async () => {
  m.demo.state.fault = 'outage';
  const alert = firingAlert({ service: 'graphed' });
  alert.annotations.generatorURL = `${stack.prometheusUrl}/graph?g0.expr=${encodeURIComponent('demo_up == 0')}&g0.tab=1`;
  // The alert's own expression is graphed only because the playbook allow-lists it (src/graphs/query.ts).
  const playbook = demoPlaybook(m.demo.url, { graph: { alertExpressions: ['demo_up == 0'] } });
  await ingestAlerts({ client: m.env.client, taskQueue, playbooks: () => [playbook], log: silentLog }, [alert]);
  const deadline = Date.now() + 60_000;
  let withFile: { files?: { name: string; size: number }[] } | undefined;
  while (!withFile && Date.now() < deadline) {
    withFile = slack.history('C0GRAPH').flatMap((root) => slack.thread('C0GRAPH', root.ts)).find((msg) => (msg.files ?? []).length > 0);
    if (!withFile) await new Promise((r) => setTimeout(r, 250));
  }
  expect(withFile?.files?.[0]?.name).toBe('incident-graph.png');
  expect(withFile!.files![0]!.size).toBeGreaterThan(5_000);
}, 90_000);
