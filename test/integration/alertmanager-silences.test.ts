// Silences and true scope against the real provisioned Alertmanager, through the real intake:
// Alertmanager notifies medic's webhook, medic silences the incident's alerts while it acts and
// verifies (exact matchers from hostile grouping labels), a re-fire during verification joins the
// incident, the silence is expired when it heals; with webhook max_alerts, the alerts Alertmanager
// left out of the notification count in the incident's scope and its blast-radius gate. With an
// incident store, a later incident of the same group shows the healed one as similar, with its fix.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAlertmanager } from '../../dev/prometheus-stack.js';
import { freePort } from '../../dev/ports.js';
import { incidentWorkflowId } from '../../src/playbooks/match.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import type { AlertmanagerSilence } from '../../activities/alertmanager.js';
import { firingAlert, testPlaybook } from '../support/fixtures.js';
import { openIncidentStore, type IncidentStore } from '../../src/store/store.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';

let m: Medic;
let am: { url: string; stop(): Promise<void> };
let dir: string;
let store: IncidentStore;

beforeAll(async () => {
  const port = await freePort();
  dir = await mkdtemp(join(tmpdir(), 'medic-am-'));
  store = await openIncidentStore({ path: join(dir, 'store.db') });
  m = await startMedic({ alertmanagerUrl: `http://127.0.0.1:${port}`, pagerduty: true, store });
  am = await startAlertmanager(dir, port, {
    route: { receiver: 'medic', group_by: ['alertname', 'service'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
    receivers: [
      {
        name: 'medic',
        // max_alerts: a notification carries at most 2 alerts; the rest are counted in truncatedAlerts.
        webhook_configs: [{ url: `${m.url}/webhooks/alertmanager`, send_resolved: true, max_alerts: 2, http_config: { authorization: { type: 'Bearer', credentials: TOKENS.intake } } }],
      },
    ],
  });
}, 60_000);
afterAll(async () => {
  await am?.stop();
  await m?.stop();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const amPost = async (alerts: Record<string, string>[]): Promise<void> => {
  const res = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts.map((labels) => ({ labels, annotations: { summary: 'test' } }))) });
  expect(res.status).toBe(200);
};
const amGet = async <T>(path: string): Promise<T> => (await (await fetch(`${am.url}/api/v2${path}`)).json()) as T;
const playbook = (over: Partial<PlaybookInput>): ReturnType<typeof testPlaybook> => {
  const pb = testPlaybook({ name: 'x', match: {}, groupBy: ['alertname', 'service'], steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate` } }], ...over } as PlaybookInput);
  m.playbooks.push(pb);
  return pb;
};

it('silences the incident while it acts and verifies (exact matchers, comment links it, createdBy medic), attaches a re-fire, expires the silence when healed; the next incident shows it as similar', async () => {
  const pb = playbook({
    name: 'am-silence',
    match: { alertname: 'SilenceMe', labels: { team: 'pay' } },
    silence: { duration: '2m', snooze: ['1h'] },
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${m.demo.url}/remediate` },
        verification: { http: { url: `${m.demo.url}/healthz` }, window: '2s', interval: '500ms', deadline: '30s' },
      },
    ],
  });
  // Hostile: as a regex, `pay.*` would also silence the bystander's alert.
  const labels = { alertname: 'SilenceMe', service: 'pay.*', team: 'pay', severity: 'critical' };
  const bystander = { alertname: 'SilenceMe', service: 'pay-bystander', severity: 'critical' };
  const wf = incidentWorkflowId(pb, firingAlert(labels));
  await amPost([labels, bystander]);

  const during = await m.waitFor(wf, (s) => s.status === 'verifying' && s.silence?.id !== undefined, 30_000);
  const silence = (await amGet<AlertmanagerSilence[]>('/silences')).find((s) => s.id === during.silence!.id)!;
  expect(silence).toMatchObject({ status: { state: 'active' }, createdBy: 'medic' });
  expect(silence.comment).toContain(during.incidentId);
  expect(silence.matchers).toEqual([
    { name: 'alertname', value: 'SilenceMe', isRegex: false, isEqual: true },
    { name: 'service', value: 'pay.*', isRegex: false, isEqual: true },
  ]);
  const alerts = await amGet<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }[]>('/alerts');
  expect(alerts.find((a) => a.labels.service === 'pay.*')!.status).toMatchObject({ state: 'suppressed', silencedBy: [silence.id] });
  expect(alerts.find((a) => a.labels.service === 'pay-bystander')!.status).toMatchObject({ state: 'active', silencedBy: [] });

  // A re-fire during the verification window joins this incident.
  const refire = await m.postAlerts('firing', labels);
  expect(refire.status).toBe(202);
  expect(await incidentIdFrom(refire)).toBe(wf);

  const done = await m.waitFor(wf, (s) => s.phase === 'done', 30_000);
  expect(done.status).toBe('resolved');
  const deadline = Date.now() + 10_000;
  while ((await amGet<AlertmanagerSilence[]>('/silences')).find((s) => s.id === silence.id)!.status.state !== 'expired') {
    if (Date.now() > deadline) throw new Error('the silence was not expired');
    await new Promise((r) => setTimeout(r, 200));
  }
  const kinds = (await m.timeline(wf)).map((e) => e.kind);
  expect(kinds.filter((k) => k === 'control.silenced')).toHaveLength(1);
  expect(kinds).toContain('control.silenceExpired');
  expect(kinds.filter((k) => k === 'alert.received').length).toBeGreaterThanOrEqual(2);
  // Exactly one medic silence for this incident, ever (a retry finds it by its comment).
  expect((await amGet<AlertmanagerSilence[]>('/silences')).filter((s) => s.comment.includes(during.incidentId))).toHaveLength(1);

  // It fires again after healing (once the run has closed): a new incident, which shows the
  // healed one as similar, at open.
  await m.env.client.workflow.getHandle(wf).result();
  const again = await m.postAlerts('firing', labels);
  expect(await incidentIdFrom(again)).toBe(wf);
  const next = await m.waitFor(wf, (x) => x.incidentId !== done.incidentId && (x.similar?.length ?? 0) > 0, 30_000);
  expect(next.similar![0]).toMatchObject({ incidentId: done.incidentId, fix: { step: 'restart', successRate: 1, runs: 1 }, postmortem: `/api/incidents/${encodeURIComponent(done.incidentId)}/postmortem` });
  expect(next.tryWhatWorked).toEqual({ step: 'restart', index: 0, successRate: 1 });
  expect((await m.timeline(wf)).some((e) => e.kind === 'alert.similar')).toBe(true);
}, 90_000);

it('max_alerts: alerts Alertmanager left out count in the true scope; more targets than the blast radius escalates instead of acting', async () => {
  const pb = playbook({
    name: 'am-scope',
    match: { alertname: 'ScopeMe' },
    scope: { targetLabels: ['instance'] },
    limits: { blastRadius: 3 },
    holdAfterEscalation: '1s',
    escalation: [{ kind: 'pagerduty', routingKeySecret: 'PD_ROUTING_KEY' }],
  });
  const five = [1, 2, 3, 4, 5].map((n) => ({ alertname: 'ScopeMe', service: 'scope', instance: `i-${n}`, severity: 'critical' }));
  const wf = incidentWorkflowId(pb, firingAlert(five[0]!));
  await amPost(five);

  const s = await m.waitFor(wf, (x) => x.phase === 'done', 30_000);
  expect(s.coverage).toEqual({ alerts: 5, truncated: 3, targets: { seen: 2, atMost: 5 } });
  const timeline = await m.timeline(wf);
  const blocked = timeline.find((e) => e.kind === 'gate.blocked');
  expect(blocked?.message).toContain('the incident covers up to 5 targets (2 seen, up to 3 more in alerts Alertmanager left out of a capped notification), above the blast radius of 3');
  expect(timeline.some((e) => e.kind === 'action.started')).toBe(false);
  const page = m.pd!.events.find((e) => (e.body as { dedup_key?: string }).dedup_key === s.incidentId)!.body as { payload: { custom_details: { scope: unknown } } };
  expect(page.payload.custom_details.scope).toEqual({
    summary: '5 alerts (3 left out of a capped Alertmanager notification), 2–5 distinct targets',
    alerts: 5,
    alerts_left_out_by_alertmanager: 3,
    targets_seen: 2,
    targets_at_most: 5,
  });
}, 60_000);
