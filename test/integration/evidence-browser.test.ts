// An escalated incident's thread on the Slack stand-in's web page (headless Chromium), with its
// evidence packs (OOMKilled pod, events, node pressure, last log lines from VictoriaLogs, what
// changed with the likely cause) collected from a real kube-apiserver, and the PagerDuty page it
// sent with the pack in custom_details; the root message names a similar past incident from the
// incident store (same OOMKilled signature on the same Deployment) and what fixed it. The screenshot goes to docs/img/evidence-thread.png, the
// page's payload to test-results/evidence-browser/pagerduty-payload.json. Then hostile alert
// data through the real HTTP intake: refused Kubernetes names are not queried, log selector
// values stay quoted, Slack text is escaped, and the incident goes on.
import { Agent } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { victoriaLogsSource } from '../../activities/evidence/logs.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import type { EvidencePack } from '../../src/evidence/schema.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { openIncidentStore, type IncidentStore } from '../../src/store/store.js';
import type { IncidentStatus, PublishInput } from '../../workflows/contracts.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { useSlackMedicInBrowser } from '../support/browser.js';
import { startCrashingWeb } from '../support/evidence-fixtures.js';
import { perFile, testPlaybook } from '../support/fixtures.js';
import { SLACK_INTAKE_TOKEN, U, waitUntil } from '../support/slack.js';

const OUT = fileURLToPath(new URL('../../test-results/evidence-browser/', import.meta.url));
const SHOT = fileURLToPath(new URL('../../docs/img/evidence-thread.png', import.meta.url));
const ROUTING_KEY = 'EV1DENCEPAGER0UT1NGKEY0123456789';
const NS = 'shop';
const web = perFile(() => startCrashingWeb(NS, 'node-mem'));
let pd: PagerDutyStandIn;
let agent: Agent;
let store: IncidentStore;

// Last week's incident of the same kind, healed by raising the memory limit: what the store holds
// after a real run (its status and timeline as the store sink records them).
const PAST = 'incident:evidence-oom:0a1b2c3d4e5f:5eed5eed';
async function seedPastIncident(s: IncidentStore): Promise<void> {
  const at = Date.now() - 7 * 86_400_000;
  const labels = { alertname: 'WebOOM', service: 'web', namespace: NS, deployment: 'web' };
  const incident = {
    incidentId: PAST, workflowId: PAST.slice(0, -9), playbook: 'evidence-oom', alertname: 'WebOOM', service: 'web', severity: 'critical', target: 'web',
    alertsReceived: 1, startedAt: at, acted: true, escalationSent: false, status: 'resolved', outcome: 'healed by step 1/2 (raise memory limit)', endedAt: at + 240_000,
    signature: 'OOMKilled deployment/shop/web',
  } as unknown as IncidentStatus;
  const entries: PublishInput['entries'] = [
    { seq: 0, at, kind: 'alert.received', message: 'WebOOM firing', data: { labels, status: 'firing', source: 'alertmanager' } },
    { seq: 1, at: at + 1_000, kind: 'action.started', step: 0, message: 'started', data: { idempotencyKey: `${PAST}:step-0:try-1`, stepName: 'raise memory limit', try: 1, dryRun: false } },
    { seq: 2, at: at + 2_000, kind: 'action.succeeded', step: 0, message: 'succeeded', data: { dryRun: false, output: {} } },
    { seq: 3, at: at + 200_000, kind: 'verification.passed', step: 0, message: 'verified', data: {} },
    { seq: 4, at: at + 240_000, kind: 'resolution', message: 'resolved', data: { status: 'resolved', outcome: 'healed by step 1/2 (raise memory limit)' } },
  ];
  await s.record({ incident, refs: {}, entries });
}

beforeAll(async () => {
  [pd, store] = await Promise.all([startPagerDutyStandIn(), openIncidentStore({ path: join(mkdtempSync(join(tmpdir(), 'medic-evidence-')), 'store.db') })]);
  await seedPastIncident(store);
  agent = new Agent({ ca: pd.certs.ca });
}, 120_000);
afterAll(async () => {
  agent?.destroy();
  await pd?.close();
  await store?.close();
});
const ui = useSlackMedicInBrowser(OUT, () => ({
  secrets: { PD_KEY: ROUTING_KEY },
  pagerduty: { server: pd.server, agent, throttlePauseMs: 20 },
  worker: { kubernetes: web.kube, evidence: { logs: victoriaLogsSource({ url: web.logs.url }) } },
  store,
}));

const playbook = (demo: string): Playbook =>
  testPlaybook({
    name: 'evidence-oom',
    match: { alertname: 'WebOOM' },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    holdAfterEscalation: '10m',
    allow: { kubernetes: { namespaces: [NS], names: { Deployment: ['web'] } } },
    evidence: {
      kubernetes: { namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' },
      logs: { selector: { namespace: '{{labels.namespace}}', app: '{{labels.service}}' }, lines: 12 },
      timeout: '3s',
    },
    steps: [
      { name: 'raise memory limit', action: 'http', params: { method: 'POST', url: `${demo}/remediate`, expectStatus: [200] }, when: 'evidence.oomKilled and changed.image within 30m', dryRun: true },
      { name: 'restart', action: 'http', params: { method: 'POST', url: `${demo}/remediate`, expectStatus: [200] }, when: 'not evidence.oomKilled', dryRun: true },
    ],
    escalation: [{ kind: 'pagerduty', routingKeySecret: 'PD_KEY' }],
  });
const packs = (t: { kind: string; data: unknown }[]): EvidencePack[] => t.flatMap((e) => (e.kind === 'control.evidence' ? [(e.data as { evidence: EvidencePack }).evidence] : []));

describe('evidence in an escalated incident’s thread and page', () => {
  it('shows the evidence and what changed in the thread, and pages PagerDuty with the pack', async () => {
    const pb = playbook(ui.m.demo.url);
    const id = await ui.m.start(pb, { labels: { alertname: 'WebOOM', service: 'web', namespace: NS, deployment: 'web' } });
    const trigger = await waitUntil('the PagerDuty trigger', () => pd.events.find((e) => (e.body as { event_action?: string }).event_action === 'trigger' && JSON.stringify(e.body).includes('OOMKilled')), 60_000);
    await waitUntil('the escalation snapshot in the thread', () => ui.m.threadOf(id).filter((m) => JSON.stringify(m.blocks ?? []).includes('Evidence at escalation')).length > 0, 60_000);
    const t = await ui.m.timeline(id);
    expect(packs(t).map((p) => p.moment)).toEqual(expect.arrayContaining(['open', 'after-step', 'escalation']));
    // Step 1's condition held on the evidence (OOMKilled, a new image 0m before): it ran (dry).
    expect(t.map((e) => e.message)).toContainEqual(expect.stringMatching(/^step 1\/2 \(raise memory limit\) dry run: POST /));
    expect(await ui.m.status(id)).toMatchObject({ status: 'escalated' });
    // The evidence's signature found last week's incident; the root message shows it and its fix.
    expect((await ui.m.status(id)).similar?.[0]).toMatchObject({ incidentId: PAST, fix: { step: 'raise memory limit', successRate: 1 } });
    await waitUntil('the similar incident on the root message', () => JSON.stringify(ui.m.rootOf(id)?.blocks ?? []).includes('Similar past incidents'), 30_000);

    const details = (trigger.body as { payload: { custom_details: Record<string, unknown> } }).payload.custom_details;
    expect(trigger.status).toBe(202);
    expect(details).toMatchObject({
      evidence: { moment: 'open', kubernetes: { target: { name: 'web' } }, logs: { source: 'victorialogs' } },
      what_changed: { likely_cause: { kind: 'image', what: 'Deployment shop/web revision 2' } },
    });
    expect(Buffer.byteLength(JSON.stringify(trigger.body))).toBeLessThan(512 * 1024);
    await mkdir(OUT, { recursive: true });
    await writeFile(join(OUT, 'pagerduty-payload.json'), JSON.stringify(trigger.body, null, 2));

    // Tall enough for the whole thread: the page scrolls inside its message pane.
    const page = await ui.browser.newPage({ viewport: { width: 1280, height: 3_000 } });
    await page.goto(`${ui.m.slack.url}/?user=${U.bob}`);
    await page.getByText('Escalated').first().waitFor();
    await page.getByText('Evidence at escalation').first().waitFor();
    await page.getByText(/likely cause/).first().waitFor();
    await page.getByText('OOMKilled').first().waitFor();
    await page.getByText('Similar past incidents').first().waitFor();
    await page.screenshot({ path: SHOT, fullPage: true });
    console.log(`screenshot: ${SHOT}`);
    await page.close();
    await ui.m.env.client.workflow.getHandle(id).terminate('test done');
  });

  it('hostile labels through the real intake: refused names are not queried, values stay quoted, the incident goes on', async () => {
    const pb = playbook(ui.m.demo.url);
    if (!ui.m.playbooks.some((p) => p.name === pb.name)) ui.m.playbooks.push(pb);
    const labels = { alertname: 'WebOOM', severity: 'critical', service: 'web"} | delete <!channel>', namespace: 'kube-system', deployment: 'web' };
    const res = await fetch(`${ui.m.url}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SLACK_INTAKE_TOKEN}` },
      body: JSON.stringify(alertmanagerPayload('firing', labels, new Date().toISOString())),
    });
    expect(res.status).toBeLessThan(300);
    const { incidents } = (await res.json()) as { incidents: { workflowId: string }[] };
    const id = incidents[0]!.workflowId;
    const open = await waitUntil('the opening evidence', async () => packs(await ui.m.timeline(id)).find((p) => p.moment === 'open'), 60_000);
    expect(open.kubernetes).toBeUndefined();
    expect(open.missing).toContainEqual({ part: 'kubernetes', reason: expect.stringMatching(/^refused, not queried: evidence\.kubernetes\.namespace value "kube-system" is a system namespace/) });
    expect(open.logs).toMatchObject({ query: expect.stringContaining('{namespace="kube-system",app="web\\"} | delete <!channel>"}'), lines: [] });
    // The incident went on past its evidence: step 1's condition did not hold, step 2 ran (dry).
    await waitUntil('step 2 ran', async () => (await ui.m.timeline(id)).some((e) => e.kind === 'action.succeeded'), 60_000);
    const thread = await waitUntil('the evidence in the thread', () => {
      const text = JSON.stringify(ui.m.threadOf(id).map((m) => m.blocks));
      return text.includes('Evidence at open') && text;
    });
    expect(thread).toContain('&lt;!channel&gt;');
    expect(thread).not.toContain('<!channel>');
    await ui.m.env.client.workflow.getHandle(id).terminate('test done');
  });
});
