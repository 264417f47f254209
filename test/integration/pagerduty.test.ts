// The escalation ladder ending in a PagerDuty page, on a real Temporal dev server, with the real
// pdjs client posting over HTTPS to the local Events API v2 stand-in.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IDENTITY_KEY_TEXT } from '../support/identity.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import { ingestAlerts, type IngestDeps } from '../../src/intake/ingest.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { timelineQuery, type IncidentStatus, type PublishInput, type TimelineEntry } from '../../workflows/contracts.js';
import { pollUntil } from '../support/poll.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { BUNDLE_PATH, ROOT } from '../support/paths.js';
import { devServerEnv, uniqueQueue, runTestWorker, type RunningWorker } from '../support/temporal.js';
import { playbookDir } from '../support/worker-process.js';
import { isKind } from '../../workflows/contracts-timeline.js';


const ROUTING_KEY = 'PDR0UT1NGKEY0123456789abcdefABCD';
const SLACK_LINK = 'https://slack.example/archives/C0MEDIC/p1700000000000100';
const UI = 'http://localhost:8233';
// The real parts this file starts once (beforeAll) and stops (afterAll).
let env: TestWorkflowEnvironment, demo: DemoService, pd: PagerDutyStandIn, agent: Agent;
let worker: RunningWorker | undefined;
const taskQueue = uniqueQueue('pd');
const playbooks: ReturnType<typeof demoPlaybook>[] = [];

beforeAll(async () => {
  [env, demo, pd] = await Promise.all([devServerEnv(), startDemoService(), startPagerDutyStandIn()]);
  agent = new Agent({ ca: pd.certs.ca });
  // A sink that plays the Slack thread: it hands back the thread's permalink as a ref.
  const slackish = { name: 'slackish', publish: async (_i: PublishInput) => ({ slack: { channel: 'C0MEDIC', rootTs: '1700000000.000100', rootKey: '', seq: -1, permalink: SLACK_LINK, approvals: [], takes: [] } }) };
  worker = await runTestWorker(env, taskQueue, {
    secrets: { PD_ROUTING_KEY: ROUTING_KEY },
    sinks: [slackish],
    pagerduty: { server: pd.server, agent, throttlePauseMs: 20 },
  });
});
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await worker?.stop();
  agent?.destroy();
  await Promise.all([demo?.close(), pd?.close()]);
  await env?.teardown();
});

const deps = (): IngestDeps => ({ client: env.client, taskQueue, playbooks: () => playbooks, log: silentLog, incidentOptions: { temporalUiUrl: UI } });
let n = 0;
const step = (name: string) => ({
  name,
  action: 'http' as const,
  params: { method: 'POST' as const, url: `${demo.url}/remediate`, expectStatus: [200] },
  retries: 0,
  verification: { http: { url: `${demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '1500ms' },
});
/** Registers a playbook whose ladder ends in a PagerDuty page; returns its alertname. */
function paging(overrides: Partial<PlaybookInput> = {}): string {
  const alertname = `PdAlert${++n}`;
  playbooks.push(
    demoPlaybook(demo.url, {
      name: `pd-${n}`,
      match: { alertname },
      runbookUrl: 'https://runbooks.example/demo-down',
      steps: [step('restart'), step('restart again')],
      escalation: [
        { kind: 'record', to: 'on-call' },
        { kind: 'pagerduty', routingKeySecret: 'PD_ROUTING_KEY' },
      ],
      holdAfterEscalation: '2s',
      ...overrides,
    }),
  );
  return alertname;
}
async function fire(alertname: string, service: string, status: 'firing' | 'resolved' = 'firing'): Promise<string> {
  const r = await ingestAlerts(deps(), [firingAlert({ alertname, service, severity: 'critical', team: 'payments' }, status)]);
  return r.incidents[0]!.workflowId;
}
const handle = (id: string) => env.client.workflow.getHandle(id);
const text = (t: TimelineEntry[]) => t.map((e) => `${e.kind}: ${e.message}`).join('\n');
const until = <T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string, ms = 30_000): Promise<T> => pollUntil(get, ok, what, ms);
type Sent = { routing_key: string; event_action: string; dedup_key: string; payload: Record<string, unknown> & { custom_details: Record<string, unknown> }; links: { href: string; text: string }[] };
const received = (dedupKey: string) => pd.events.filter((e) => (e.body as Sent).dedup_key === dedupKey);

describe('PagerDuty escalation', () => {
  it('full ladder to a PagerDuty page with context: signal, actions with results and output, links; routing key never in history', async () => {
    demo.state.fault = 'stubborn'; // restarts answer 200 but the service stays unhealthy
    const id = await fire(paging(), 'pd-ladder');
    const final = (await handle(id).result()) as IncidentStatus;
    expect(final.status).toBe('escalated');
    const timeline = await handle(id).query(timelineQuery);
    const t = text(timeline);
    expect(t).toContain('moving on to step 2/2 (restart again)');
    expect(t).toContain('handed over to on-call');
    expect(t).toContain(`paging PagerDuty (dedup_key ${final.incidentId})`);
    expect(t).toContain(`PagerDuty accepted the page: 202 Event processed (dedup_key ${final.incidentId})`);

    const alerts = pd.alertsFor(final.incidentId);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ status: 'triggered', severity: 'critical', routingKey: ROUTING_KEY });
    const [ev] = received(final.incidentId);
    expect(ev!.status).toBe(202);
    const body = ev!.body as Sent;
    if (process.env.MEDIC_PD_SAMPLE) writeFileSync(process.env.MEDIC_PD_SAMPLE, JSON.stringify(body, null, 2)); // for the docs
    expect(body).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: final.incidentId });
    expect(body.payload).toMatchObject({ source: 'pd-ladder', severity: 'critical', component: 'pd-ladder', group: 'pd-1', class: 'PdAlert1' });
    expect(body.payload.summary).toMatch(/^\[medic\] PdAlert1 on pd-ladder: all 2 step\(s\) tried; last: verification failed$/);
    const details = body.payload.custom_details as {
      triggering_signal: { labels: Record<string, string> };
      actions_tried: { step: string; result: string; http_status: number; output_excerpt: string }[];
      verification: { message: string }[];
      gates_blocked: unknown[];
    };
    expect(details.triggering_signal.labels).toMatchObject({ alertname: 'PdAlert1', service: 'pd-ladder', team: 'payments' });
    expect(details.actions_tried.map((a) => [a.step, a.result, a.http_status])).toEqual([['restart', 'succeeded', 200], ['restart again', 'succeeded', 200]]);
    expect(details.actions_tried[0]!.output_excerpt).toContain('"restarted":true');
    expect(details.verification.some((v) => v.message.startsWith('verification failed'))).toBe(true);
    expect(details.gates_blocked).toEqual([]);
    expect(body.links).toEqual([
      { href: SLACK_LINK, text: 'Slack incident thread' },
      { href: `${UI}/namespaces/default/workflows/${encodeURIComponent(id)}`, text: 'Temporal workflow (full history)' },
      { href: 'https://runbooks.example/demo-down', text: 'Runbook (pd-1)' },
    ]);
    // what was sent is in the timeline; the routing key is not (nor anywhere in history)
    const sentEntry = timeline.find(isKind('page.sending'))!;
    expect(sentEntry.data.pagerduty.summary).toBe(body.payload.summary);
    const history = await handle(id).fetchHistory();
    // payloads are base64 JSON: decode every one and look inside
    const decoded = [...JSON.stringify(history).matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
    expect(decoded.length).toBeGreaterThan(10);
    expect(decoded.some((d) => d.includes(ROUTING_KEY))).toBe(false);
    expect(decoded.some((d) => d.includes('"routingKeySecret":"PD_ROUTING_KEY"'))).toBe(true);
    demo.state.fault = 'none';
  });

  it('a gate that blocked is in the page; healing after the page sends resolve with the same dedup_key', async () => {
    const alertname = paging({ holdAfterEscalation: '5m', steps: [{ ...step('wide'), targets: ['{{labels.service}}-a', '{{labels.service}}-b'] }] });
    const id = await fire(alertname, 'pd-heal');
    const paged = await until(() => handle(id).query(timelineQuery), (t) => text(t).includes('PagerDuty accepted the page'), 'the page');
    const incidentId = (await handle(id).describe()).workflowId + ':';
    const dedupKey = pd.events.map((e) => (e.body as Sent).dedup_key).find((k) => k?.startsWith(incidentId))!;
    const body = received(dedupKey)[0]!.body as Sent;
    expect((body.payload.custom_details.gates_blocked as { message: string }[])[0]!.message).toContain('above the blast radius of 1');
    expect(text(paged)).not.toContain('resolving');
    await fire(alertname, 'pd-heal', 'resolved');
    const final = (await handle(id).result()) as IncidentStatus;
    expect(final.status).toBe('resolved');
    expect(final.outcome).toMatch(/^alert resolved after escalation/);
    expect(received(dedupKey).map((e) => [(e.body as Sent).event_action, e.status])).toEqual([['trigger', 202], ['resolve', 202]]);
    expect(pd.alertsFor(dedupKey)).toHaveLength(1);
    expect(pd.alertsFor(dedupKey)[0]!.status).toBe('resolved');
    expect(text(await handle(id).query(timelineQuery))).toContain(`PagerDuty accepted the resolve: 202 Event processed`);
  });

  it('PagerDuty outage then 429s, then recovery: the incident goes on meanwhile, exactly one alert, nothing lost', async () => {
    demo.state.fault = 'stubborn';
    pd.state.outage = true;
    const id = await fire(paging({ holdAfterEscalation: '1s' }), 'pd-outage');
    // the incident is not stalled by the page being retried: it ends its escalation hold
    const ended = await until(() => handle(id).query(timelineQuery), (t) => t.some((e) => e.kind === 'resolution'), 'the incident to end its hold');
    expect(text(ended)).not.toContain('PagerDuty accepted');
    const incidentId = ended.find(isKind('page.sending'))!.data.pagerduty.dedupKey;
    await until(() => received(incidentId).filter((e) => e.status === 503).length, (c) => c >= 2, 'two refused attempts');
    pd.state.outage = false;
    pd.state.throttleNext = 5; // one whole attempt (pdjs tries 4 times) and one more request are throttled
    const final = (await handle(id).result()) as IncidentStatus;
    expect(final.status).toBe('escalated');
    const statuses = received(incidentId).map((e) => e.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(pd.alertsFor(incidentId)).toHaveLength(1);
    expect(pd.alertsFor(incidentId)[0]!.log).toHaveLength(1);
    // nothing lost: what PagerDuty finally accepted is what the timeline says was sent
    const timeline = await handle(id).query(timelineQuery);
    const sent = timeline.find(isKind('page.sending'))!.data.pagerduty as unknown as { summary: string; customDetails: unknown };
    const accepted = received(incidentId).find((e) => e.status === 202)!.body as Sent;
    expect(accepted.payload.summary).toBe(sent.summary);
    expect(accepted.payload.custom_details).toEqual(sent.customDetails);
    expect(text(timeline)).toContain('PagerDuty accepted the page: 202');
    demo.state.fault = 'none';
  });

  it('a medic worker process pages through config alone: MEDIC_PAGERDUTY_SERVER + the CA in NODE_EXTRA_CA_CERTS', async () => {
    const q = `${taskQueue}-proc`;
    const alertname = paging({ holdAfterEscalation: '1s' });
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        MEDIC_TEMPORAL_ADDRESS: env.address,
        MEDIC_TEMPORAL_TASK_QUEUE: q,
        MEDIC_WORKFLOW_BUNDLE: BUNDLE_PATH,
        MEDIC_LOG_LEVEL: 'warn',
        MEDIC_IDENTITY_KEY: TEST_IDENTITY_KEY_TEXT,
        MEDIC_PAGERDUTY_SERVER: pd.server,
        MEDIC_SECRET_PD_ROUTING_KEY: ROUTING_KEY,
        NODE_EXTRA_CA_CERTS: pd.certs.caPath,
        // the worker runs only playbooks it loaded itself: this test's, from files
        MEDIC_PLAYBOOKS: playbookDir([playbooks[playbooks.length - 1]!]),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    demo.state.fault = 'stubborn';
    const r = await ingestAlerts({ ...deps(), taskQueue: q }, [firingAlert({ alertname, service: 'pd-proc', severity: 'warning' })]);
    const id = r.incidents[0]!.workflowId;
    const final = (await handle(id).result()) as IncidentStatus;
    expect(final.status).toBe('escalated');
    expect(text(await handle(id).query(timelineQuery))).toContain('PagerDuty accepted the page: 202');
    expect(pd.alertsFor(final.incidentId)).toHaveLength(1);
    expect(pd.alertsFor(final.incidentId)[0]!.severity).toBe('warning');
    demo.state.fault = 'none';
  });
});
