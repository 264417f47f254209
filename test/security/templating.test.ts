// Attacks through alert data on typed templating (issue 11, items 3–5), sent as an attacker would:
// Alertmanager webhooks posted to medic's real intake, a real Temporal dev server and worker, the
// real demo service as the HTTP target (bearer token + HMAC verification on) and a real Prometheus.
// Each test asserts what reached the target, that the verification was not fooled, and that the
// timeline names the field, the value and the rule.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { createAuditSink } from '../../activities/audit.js';
import { auditLog, openAuditDb } from '../../src/audit/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';
import { slackGraph } from '../../src/graphs/incident-graph.js';
import { loadPlaybooks } from '../../src/playbooks/load.js';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';
import type { IncidentStatus, TimelineEntry } from '../../workflows/contracts.js';
import { remediateStep } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';
import { ROOT } from '../support/paths.js';

const API_TOKEN = 'traffic-api-token-7f3a9c2e5b1d';
const HMAC_KEY = 'traffic-hmac-key-0a1b2c3d4e5f';

let m: Medic;
let traffic: DemoService;
let audit: Database;

beforeAll(async () => {
  audit = openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-sec-render-')), 'audit.db'));
  m = await startMedic({ secrets: { TRAFFIC_API_TOKEN: API_TOKEN, TRAFFIC_HMAC_KEY: HMAC_KEY }, sinks: [createAuditSink(audit)] });
  traffic = await startDemoService(0, { token: API_TOKEN, hmacKey: HMAC_KEY });
}, 120_000);
afterAll(async () => {
  await traffic?.close();
  await m?.stop();
  audit?.close();
});

/** The audit log's records of one incident (written by the worker's audit sink, in the background). */
async function audited(incidentId: string, includes: string): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const whats = auditLog(audit).entries().filter((e) => e.incidentId === incidentId).map((e) => e.what);
    if (whats.some((w) => w.includes(includes)) || Date.now() > deadline) return whats;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An Alertmanager webhook as Alertmanager would send it, with the attacker's labels and generatorURL. */
async function fire(labels: Record<string, string>, generatorURL?: string): Promise<string> {
  const payload = alertmanagerPayload('firing', labels, new Date().toISOString());
  if (generatorURL) payload.alerts[0]!.generatorURL = generatorURL;
  const res = await fetch(`${m.url}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.intake}` },
    body: JSON.stringify(payload),
  });
  expect(res.status).toBe(202);
  return incidentIdFrom(res);
}

/** The timeline once it holds an entry containing `text` (entries arrive as the workflow runs). */
async function timelineWith(id: string, text: string): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const t = messages(await m.timeline(id));
    if (t.some((x) => x.includes(text)) || Date.now() > deadline) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const ended = (s: IncidentStatus): boolean => s.status === 'escalated' || s.status === 'resolved';
const messages = (t: TimelineEntry[]): string[] => t.map((e) => e.message);
/** The server runs only `pb` from now on. */
const serveOnly = (pb: Playbook): void => void m.playbooks.splice(0, m.playbooks.length, pb);
/** A playbook that escalates after a 1 s hold (these tests end at escalation). */
const quickEscalating = (input: Omit<PlaybookInput, 'holdAfterEscalation'>): Playbook => PlaybookSchema.parse({ holdAfterEscalation: '1s', ...input });

/** The shipped playbook, loaded the way medic loads it (MEDIC_PB_* from the environment), with
 * the verification shortened for a test. */
async function lbWeightShift(): Promise<Playbook> {
  const { playbooks, problems } = await loadPlaybooks([join(ROOT, 'playbooks', 'lb-weight-shift.yaml')], {
    env: { MEDIC_PB_TRAFFIC_API_URL: traffic.url, MEDIC_PB_PUBLIC_URL: traffic.url },
    allow: [],
  });
  expect(problems).toEqual([]);
  const pb = playbooks[0]!;
  const step = pb.steps[0]!;
  step.verification = { ...step.verification!, window: '1s', interval: '250ms', deadline: '10s' };
  return { ...pb, holdAfterEscalation: '1s' };
}

describe('HTTP path injection (playbooks/lb-weight-shift.yaml, service label into the URL path)', () => {
  beforeAll(async () => {
    serveOnly(await lbWeightShift());
  });

  it('service=../../admin and service=a/b?x= are each encoded into one path segment; the signed request reaches only that path', async () => {
    traffic.state.log.length = 0;
    const ids = await Promise.all([
      fire({ alertname: 'PoolUnhealthy', service: '../../admin', pool: 'p1', severity: 'critical' }),
      fire({ alertname: 'PoolUnhealthy', service: 'a/b?x=', pool: 'p2', severity: 'critical' }),
    ]);
    const finals = await Promise.all(ids.map((id) => m.waitFor(id, ended, 90_000)));
    expect(finals.map((f) => f.status)).toEqual(['resolved', 'resolved']);
    const requests = traffic.state.log.map((e) => `${e.method} ${e.url}`);
    expect(requests.sort()).toEqual([
      'PUT /v1/services/..%2F..%2Fadmin/pools/p1/weight',
      'PUT /v1/services/a%2Fb%3Fx%3D/pools/p2/weight',
    ]);
    expect(traffic.state.log.every((e) => e.signed === true)).toBe(true);
    // The target saw the values as one segment each: nothing reached /admin, no query was added.
    expect(traffic.state.weights).toEqual({
      '../../admin/p1': { weight: 0, reason: expect.stringContaining(': PoolUnhealthy') },
      'a/b?x=/p2': { weight: 0, reason: expect.stringContaining(': PoolUnhealthy') },
    });
    expect(traffic.state.fault).toBe('none');
  });

  it('a signed request redirected to another path is rejected by the receiver (the HMAC covers method + path)', async () => {
    const signed = traffic.state.log.find((e) => e.url === '/v1/services/a%2Fb%3Fx%3D/pools/p2/weight')!;
    expect(signed).toBeDefined();
    const headers = Object.fromEntries(
      ['authorization', 'content-type', 'x-signature', 'x-signature-timestamp', 'idempotency-key'].map((h) => [h, String(signed.headers[h])]),
    );
    const replayed = await fetch(`${traffic.url}/v1/services/web/pools/p1/weight`, { method: 'PUT', headers, body: signed.body });
    expect(replayed.status).toBe(401);
    expect(traffic.state.weights['web/p1']).toBeUndefined();
    // The same request to its own path still verifies (the check is not simply refusing everything).
    const same = await fetch(`${traffic.url}${signed.url}`, { method: 'PUT', headers, body: signed.body });
    expect(same.status).toBe(200);
  });

  it('service=.. is refused: nothing is sent, the step fails naming the field, the value and the rule', async () => {
    traffic.state.log.length = 0;
    const id = await fire({ alertname: 'PoolUnhealthy', service: '..', pool: 'p3', severity: 'critical' });
    const final = await m.waitFor(id, ended, 60_000);
    expect(final.status).toBe('escalated');
    expect(traffic.state.log).toEqual([]);
    const refused = messages(await m.timeline(id)).find((t) => t.includes('failed: refused'));
    expect(refused).toBe(
      'step 1/1 (shift-weight-away) failed: refused, nothing was sent: params.url: label `service` value `..` renders a `.` or `..` URL path segment, which would change the path',
    );
    expect(final.escalationReason).toContain('refused, nothing was sent');
    expect(await audited(final.incidentId, 'failed: refused')).toContain(refused);
  });
});

describe('a step needing approval', () => {
  it('with a refused value asks nobody to approve: it fails at once, nothing sent', async () => {
    const pb = await lbWeightShift();
    serveOnly({ ...pb, steps: [{ ...pb.steps[0]!, requiresApproval: true, approvers: ['alice'] }] });
    traffic.state.log.length = 0;
    const id = await fire({ alertname: 'RegionHealthCheckFailing', service: '.', pool: 'p4', severity: 'critical' });
    const final = await m.waitFor(id, ended, 60_000);
    expect(final.status).toBe('escalated');
    expect(final.pendingApproval).toBeUndefined();
    const timeline = messages(await m.timeline(id));
    expect(timeline.some((t) => t.startsWith('approval needed'))).toBe(false);
    expect(timeline).toContain(
      'step 1/1 (shift-weight-away) failed: refused, nothing was sent: params.url: label `service` value `.` renders a `.` or `..` URL path segment, which would change the path',
    );
    expect(traffic.state.log).toEqual([]);
  });
});

describe('second-order secrets: {{secret.X}} arriving in a label value is never resolved', () => {
  it('label service={{secret.TRAFFIC_API_TOKEN}} reaches a header and the path as text; the token goes only where the playbook wrote it', async () => {
    /** PUT of a pool's weight on the traffic API, the label in the path and a header, the token where the playbook puts it. */
    const poolWeight = (pool: string, body: string) => ({
      method: 'PUT' as const,
      url: `${traffic.url}/v1/services/{{labels.service}}/pools/${pool}/weight`,
      headers: { authorization: 'Bearer {{secret.TRAFFIC_API_TOKEN}}', 'x-requested-for': 'service {{labels.service}}' },
      body,
    });
    serveOnly(
      quickEscalating({
        name: 'secret-echo',
        match: { alertname: 'SecretEcho' },
        steps: [
          {
            name: 'notify',
            action: 'http',
            params: { ...poolWeight('p9', '{"weight": 0, "reason": "{{labels.service}}"}'), hmac: { secret: 'TRAFFIC_HMAC_KEY' } },
          },
        ],
        escalation: [
          {
            kind: 'webhook',
            request: poolWeight('escalated', '{"weight": 0}'),
          },
        ],
      }),
    );
    traffic.state.log.length = 0;
    const id = await fire({ alertname: 'SecretEcho', service: '{{secret.TRAFFIC_API_TOKEN}}', severity: 'warning' });
    const final = await m.waitFor(id, ended, 60_000);
    expect(final.status).toBe('resolved');
    expect(traffic.state.log).toHaveLength(1);
    const [req] = traffic.state.log;
    expect(req!.url).toBe('/v1/services/%7B%7Bsecret.TRAFFIC_API_TOKEN%7D%7D/pools/p9/weight');
    expect(req!.headers['x-requested-for']).toBe('service {{secret.TRAFFIC_API_TOKEN}}');
    expect(JSON.parse(req!.body!)).toEqual({ weight: 0, reason: '{{secret.TRAFFIC_API_TOKEN}}' });
    // The token is where the playbook put it (authorization) and nowhere else in the request.
    const { authorization, ...rest } = req!.headers;
    expect(authorization).toBe(`Bearer ${API_TOKEN}`);
    expect(JSON.stringify({ url: req!.url, body: req!.body, rest })).not.toContain(API_TOKEN);
    // Nor in workflow history (the secret reference travels as a name).
    const history = JSON.stringify(await m.env.client.workflow.getHandle(id).fetchHistory(), (k, v: unknown) =>
      typeof v === 'string' && k === 'data' ? Buffer.from(v, 'base64').toString('utf8') : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
    );
    expect(history).toContain('TRAFFIC_API_TOKEN');
    expect(history).not.toContain(API_TOKEN);
  });

  it('a CR/LF in a label bound for a header is refused before anything is sent, by the step and by the webhook rung', async () => {
    traffic.state.log.length = 0;
    const id = await fire({ alertname: 'SecretEcho', service: 'x\r\nx-admin: true', severity: 'warning' });
    const final = await m.waitFor(id, ended, 60_000);
    expect(final.status).toBe('escalated');
    expect(traffic.state.log).toEqual([]);
    const timeline = await timelineWith(id, 'escalation webhook refused');
    expect(timeline).toContain(
      'step 1/1 (notify) failed: refused, nothing was sent: params.headers.x-requested-for: label `service` value `x\\r\\nx-admin: true` contains a line break or control character, which an HTTP header value may not',
    );
    expect(timeline).toContain(
      'escalation webhook refused, nothing was sent: escalation.0.request.headers.x-requested-for: label `service` value `x\\r\\nx-admin: true` contains a line break or control character, which an HTTP header value may not',
    );
    expect(traffic.state.log).toEqual([]);
  });
});

describe('PromQL injection and the incident graph, against a real Prometheus', () => {
  let stack: PrometheusStack;
  let stubborn: DemoService;
  const ATTACK = 'x"} or vector(1) or demo_up{job="x';
  const EVIL = 'count by (__name__) ({__name__=~".+"})';
  beforeAll(async () => {
    stubborn = await startDemoService();
    stubborn.state.fault = 'stubborn'; // a restart answers 200 but does not heal: demo_up stays 0
    stack = await startPrometheusStack({ scrapeTarget: new URL(stubborn.url).host, webhookUrl: 'http://127.0.0.1:9/none', webhookToken: 'x'.repeat(20), rules: [] });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = (await (await fetch(`${stack.prometheusUrl}/api/v1/query?query=demo_up`)).json()) as { data?: { result: unknown[] } };
      if ((r.data?.result.length ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error('Prometheus never scraped the demo service');
      await new Promise((res) => setTimeout(res, 250));
    }
    serveOnly(
      quickEscalating({
        name: 'promql-verified',
        match: { alertname: 'StubbornDown' },
        steps: [
          remediateStep(stubborn.url, {
            verification: {
              promql: { query: 'demo_up{job="{{labels.job}}"}', prometheusUrl: stack.prometheusUrl, maxNoData: 1 },
              // a fooled verification would pass its window well within the deadline
              window: '1s',
              interval: '250ms',
              deadline: '3s',
            },
          }),
        ],
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await stubborn?.close();
  });

  it('job=`x"} or vector(1) or demo_up{job="x` stays inside the label value: the verification is not fooled, the incident escalates', async () => {
    // The attack is real: the query the old rendering built passes against this Prometheus.
    const injected = `demo_up{job="${ATTACK}"}`;
    const raw = (await (await fetch(`${stack.prometheusUrl}/api/v1/query?query=${encodeURIComponent(injected)}`)).json()) as { data: { result: { value: [number, string] }[] } };
    expect(raw.data.result.map((r) => r.value[1])).toEqual(['1']);

    const graphURL = `${stack.prometheusUrl}/graph?g0.expr=${encodeURIComponent(EVIL)}&g0.tab=1`;
    const id = await fire({ alertname: 'StubbornDown', service: 'stubborn', job: ATTACK, severity: 'critical' }, graphURL);
    const final = await m.waitFor(id, ended, 60_000);
    expect(final.status).toBe('escalated');
    const timeline = messages(await m.timeline(id));
    expect(timeline.some((t) => t.startsWith('verified'))).toBe(false);
    expect(timeline).toContain(
      'verifying step 1/1 (restart): PromQL demo_up{job="x\\"} or vector(1) or demo_up{job=\\"x"} must pass for 1s (deadline 3s)',
    );
    expect(timeline.some((t) => t.startsWith('verification failed: not healthy for 1s within 3s'))).toBe(true);
    expect(stubborn.state.fault).toBe('stubborn');
  });

  it("the graph never runs the generatorURL's expression unless the playbook allow-lists it; the timeline says so", async () => {
    const graphURL = `${stack.prometheusUrl}/graph?g0.expr=${encodeURIComponent(EVIL)}&g0.tab=1`;
    const id = await fire({ alertname: 'StubbornDown', service: 'graphed', job: 'demo', severity: 'critical' }, graphURL);
    const status = await m.waitFor(id, (s) => s.status !== 'open', 30_000);
    expect(status.graphQuery).toBe('demo_up{job="demo"}');
    expect(messages(await m.timeline(id))).toContain(
      'incident graph: the alert\'s expression `count by (__name__) ({__name__=~".+"})` (generatorURL) is not in graph.alertExpressions of playbook promql-verified, so medic does not run it; graphing the playbook\'s `demo_up{job="demo"}` instead',
    );
    // The Slack sink's graph, with a fetch that records what it asks Prometheus.
    const asked: string[] = [];
    const recording: typeof fetch = (input, init) => {
      asked.push(new URL(String(input)).searchParams.get('query') ?? '');
      return fetch(input, init);
    };
    const g = await slackGraph(stack.prometheusUrl, recording)(status);
    expect(g?.png.length).toBeGreaterThan(1_000);
    expect(asked).toEqual(['demo_up{job="demo"}']);
    await m.waitFor(id, ended, 60_000);
  });
});
