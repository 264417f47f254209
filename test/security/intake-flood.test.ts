// Intake flooding, sent as an attacker (or a runaway monitor) would: through the real HTTP intake
// of a real medic (Temporal dev server, worker, Fastify). Rate limits answer 429 + Retry-After;
// oversize requests are refused whole with the field and the limit named; distinct groups past
// the playbook's open-incident cap go to its one overflow incident, which records every extra
// alert and escalates — medic never acts on them; refusals are in the audit log.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditSink } from '../../activities/audit.js';
import { auditLog, openAuditDb, type StoredRecord } from '../../src/audit/log.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import type { IngestResult } from '../../src/intake/ingest.js';
import { demoPlaybook } from '../support/fixtures.js';
import { startMedic, TOKENS, type Medic } from '../support/medic.js';
import { pollUntil } from '../support/poll.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

const RATE = 2;
const BURST = 6;
const CAP = 3;
const OVERFLOW = 'incident:flood:overflow';
const auditPath = join(mkdtempSync(join(tmpdir(), 'medic-flood-')), 'audit.db');

let m: Medic;
let auditDb: Database;
beforeAll(async () => {
  auditDb = openAuditDb(auditPath);
  m = await startMedic({
    bodyLimitBytes: 8 * 1024 * 1024, // so the intake limits, not the body limit, refuse
    intakeLimits: { requestsPerSecond: RATE, burst: BURST, maxOpenIncidentsPerPlaybook: CAP },
    sinks: [createAuditSink(auditDb)], // the worker publishes timelines to it
    audit: auditLog(auditDb), // the server records its refusals in it
  });
  // Incidents hold at an approval nobody can give: they stay open and never act.
  m.playbooks.push(
    demoPlaybook(m.demo.url, {
      name: 'flood',
      match: { alertname: 'FloodAlert' },
      steps: [{ name: 'guarded restart', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate` }, requiresApproval: true, approvers: ['nobody'] }],
    }),
  );
});
afterAll(async () => {
  await m?.stop();
  auditDb?.close();
});

type Labels = Record<string, string>;
const flood = (service: string, extra: Labels = {}): Labels => ({ alertname: 'FloodAlert', service, severity: 'critical', ...extra });

function body(status: 'firing' | 'resolved', alerts: Labels[]): string {
  const base = alertmanagerPayload(status, alerts[0]!, new Date().toISOString());
  return JSON.stringify({ ...base, alerts: alerts.map((labels) => ({ ...base.alerts[0]!, labels })) });
}

const post = (payload: string, token: string = TOKENS.intake): Promise<Response> =>
  fetch(`${m.url}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: payload,
  });

/** Like Alertmanager: a 429 is retried after its Retry-After. */
async function deliver(payload: string): Promise<Response> {
  for (let i = 0; i < 20; i++) {
    const res = await post(payload);
    if (res.status !== 429) return res;
    await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
  }
  throw new Error('still rate-limited after 20 tries');
}

const queue = (): string => m.config.temporal.taskQueue;
const countRunning = async (prefix: string): Promise<number> =>
  (await m.env.client.workflow.count(`WorkflowType = 'incidentWorkflow' AND TaskQueue = '${queue()}' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH '${prefix}'`)).count;

async function incidentIdsOf(prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of m.env.client.workflow.list({ query: `WorkflowType = 'incidentWorkflow' AND TaskQueue = '${queue()}' AND WorkflowId STARTS_WITH '${prefix}'` })) ids.push(wf.workflowId);
  return ids;
}

const audit = (): StoredRecord[] => {
  const db = openAuditDb(auditPath, { readonly: true });
  try {
    return auditLog(db).entries();
  } finally {
    db.close();
  }
};

describe('intake rate limits', () => {
  it('a burst over the rate gets 429 with Retry-After, even without a token; a later request is accepted; the refusals are audited', async () => {
    const unmatched = body('firing', [{ alertname: 'NoPlaybookForThis', service: 'burst' }]);
    const t0 = Date.now();
    const responses = await Promise.all(Array.from({ length: 3 * BURST }, () => post(unmatched)));
    const elapsedS = (Date.now() - t0) / 1000;
    const statuses = responses.map((r) => r.status);
    const accepted = statuses.filter((s) => s === 202).length;
    expect(statuses.filter((s) => s !== 202 && s !== 429)).toEqual([]);
    expect(accepted).toBeGreaterThanOrEqual(BURST - 1);
    expect(accepted).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsedS));
    const refused = responses.find((r) => r.status === 429)!;
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(((await refused.json()) as { error: string }).error).toBe(
      `rate limit: address 127.0.0.1 is over intake.limits.requestsPerSecond = ${RATE} (burst ${BURST}); retry after ${retryAfter} s`,
    );

    // An attacker without the token is limited before authentication (no HMAC work for it).
    const anonymous = await post(unmatched, 'not-the-token-at-all');
    expect(anonymous.status).toBe(429);
    expect(anonymous.headers.get('retry-after')).toMatch(/^\d+$/);

    await new Promise((r) => setTimeout(r, Number(anonymous.headers.get('retry-after')) * 1000));
    const later = await post(unmatched);
    expect(later.status).toBe(202);
    expect(((await later.json()) as IngestResult).unmatched).toBe(1);

    const limited = audit().filter((e) => e.kind === 'intake-rate-limited');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]).toMatchObject({ who: 'address 127.0.0.1', why: `over intake.limits.requestsPerSecond = ${RATE} (burst ${BURST})` });
  });
});

describe('intake size limits: refused whole, the field and the limit named, nothing started', () => {
  it('10,001 alerts in one request', async () => {
    const before = await incidentIdsOf('incident:flood:');
    const res = await deliver(body('firing', Array.from({ length: 10_001 }, (_, i) => flood(`huge-${i}`))));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: 'Alertmanager webhook over intake limits: refused whole, none of its 10001 alerts was accepted',
      issues: [{ path: 'alerts', message: '10001 alerts in one request; the limit is intake.limits.maxAlertsPerRequest = 1000' }],
    });
    await new Promise((r) => setTimeout(r, 1_000)); // visibility is eventually consistent
    expect(await incidentIdsOf('incident:flood:')).toEqual(before);
    const refusal = audit().find((e) => e.kind === 'intake-refused' && e.why.includes('maxAlertsPerRequest'));
    expect(refusal).toMatchObject({ who: 'credential bearer token, address 127.0.0.1', target: '/webhooks/alertmanager' });
  });

  it('a 70 KB label value, with a valid alert beside it: neither is accepted', async () => {
    const res = await deliver(body('firing', [flood('valid-neighbour'), flood('long-label', { description: 'x'.repeat(70 * 1024) })]));
    expect(res.status).toBe(413);
    const r = (await res.json()) as { error: string; issues: { path: string; message: string }[] };
    expect(r.error).toContain('none of its 2 alerts was accepted');
    expect(r.issues).toEqual([{ path: 'alerts.1.labels.description', message: 'value is 71680 bytes; the limit is intake.limits.maxLabelBytes = 1024' }]);
    await new Promise((r) => setTimeout(r, 1_000));
    const list = (await m.api('GET', '/api/incidents?all=true', TOKENS.alice)).body.incidents as { service: string }[];
    expect(list.filter((i) => i.service === 'valid-neighbour' || i.service === 'long-label')).toEqual([]);
    expect(audit().some((e) => e.kind === 'intake-refused' && e.why.includes('alerts.1.labels.description: value is 71680 bytes'))).toBe(true);
  });

  it('500 labels on one alert, and a label name of 10 KB', async () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`l${i}`, 'v']));
    const res = await deliver(body('firing', [flood('many-labels', many)]));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { issues: unknown[] }).issues).toEqual([{ path: 'alerts.0.labels', message: '503 labels; the limit is intake.limits.maxLabelsPerAlert = 64' }]);

    const longName = await deliver(body('firing', [flood('long-name', { ['n'.repeat(10_240)]: 'v' })]));
    expect(longName.status).toBe(413);
    const [issue] = ((await longName.json()) as { issues: { path: string; message: string }[] }).issues;
    expect(issue).toEqual({ path: 'alerts.0.labels', message: `name \`${'n'.repeat(40)}…\` is 10240 bytes; the limit is intake.limits.maxLabelNameBytes = 128` });
    await new Promise((r) => setTimeout(r, 1_000));
    const list = (await m.api('GET', '/api/incidents?all=true', TOKENS.alice)).body.incidents as { service: string }[];
    expect(list.filter((i) => i.service === 'many-labels' || i.service === 'long-name')).toEqual([]);
  });
});

describe('open incidents per playbook', () => {
  it(`more distinct groups than the cap (${CAP}): ${CAP} real incidents, one overflow incident that records the rest and escalates; nothing acts`, async () => {
    const first = await deliver(body('firing', [0, 1, 2, 3, 4].map((i) => flood(`flood-${i}`))));
    expect(first.status).toBe(202);
    const r1 = (await first.json()) as IngestResult;
    expect(r1.incidents).toHaveLength(CAP);
    expect(r1.overflowed).toEqual([
      {
        workflowId: OVERFLOW,
        playbook: 'flood',
        alerts: 2,
        groups: [expect.stringMatching(/^incident:flood:[0-9a-f]{12}$/), expect.stringMatching(/^incident:flood:[0-9a-f]{12}$/)],
        reason: `playbook flood has ${CAP} open incidents (intake.limits.maxOpenIncidentsPerPlaybook = ${CAP})`,
      },
    ]);
    const real = r1.incidents.map((i) => i.workflowId);

    // More new groups, and a repeat of an admitted one (it reaches its own incident).
    const second = await deliver(body('firing', [flood('flood-5'), flood('flood-6'), flood('flood-0')]));
    const r2 = (await second.json()) as IngestResult;
    expect(r2.incidents.map((i) => i.workflowId)).toEqual([real[0]]);
    expect(r2.overflowed.map((o) => [o.workflowId, o.alerts])).toEqual([[OVERFLOW, 2]]);

    // The number of real incident workflows is the cap (Temporal visibility, polled until settled).
    await pollUntil(() => countRunning('incident:flood:'), (n) => n === CAP + 1, 'visibility to list the incidents', 10_000);
    expect((await incidentIdsOf('incident:flood:')).sort()).toEqual([...real, OVERFLOW].sort());

    // The overflow incident counted and recorded every extra alert, with its labels, and escalated.
    const over = await m.waitFor(OVERFLOW, (s) => s.alertsReceived === 4 && s.status === 'escalated');
    expect(Object.keys(over.fingerprints)).toHaveLength(4);
    const timeline = await m.timeline(OVERFLOW);
    const recorded = timeline.filter((e) => groupOf(e.kind) === 'alert' && e.message.includes('over the open-incident cap; would have opened incident:flood:'));
    expect(recorded.map((e) => (e.data as { labels: Labels }).labels.service).sort()).toEqual(['flood-3', 'flood-4', 'flood-5', 'flood-6']);
    expect(timeline.some((e) => groupOf(e.kind) === 'escalation' && e.message.includes(`playbook flood has ${CAP} open incidents`) && e.message.includes('medic acts on none of them'))).toBe(true);
    expect(timeline.some((e) => groupOf(e.kind) === 'escalation' && e.message.startsWith('escalating: alert flood'))).toBe(true);
    expect(timeline.some((e) => groupOf(e.kind) === 'action')).toBe(false);
    // ... and through the normal publish path into the audit log.
    await pollUntil(
      () => audit().filter((e) => e.incidentId?.startsWith(`${OVERFLOW}:`) && e.what.includes('would have opened')).length,
      (n) => n === 4,
      'the overflow incident timeline in the audit log',
      20_000,
    );
    expect(Object.keys(m.demo.state.applied)).toHaveLength(0); // nothing acted, anywhere

    // A resolved alert of an overflowed group reaches the overflow incident.
    const resolved = await deliver(body('resolved', [flood('flood-3')]));
    expect(((await resolved.json()) as IngestResult).overflowed.map((o) => o.workflowId)).toEqual([OVERFLOW]);
    await m.waitFor(OVERFLOW, (s) => Object.values(s.fingerprints).filter((st) => st === 'resolved').length === 1);

    // When a real incident ends, its slot is free: the next new group opens a real incident.
    const end = await deliver(body('resolved', [flood('flood-0')]));
    expect(((await end.json()) as IngestResult).incidents.map((i) => i.workflowId)).toEqual([real[0]]);
    await m.env.client.workflow.getHandle(real[0]!).result();
    const next = await pollUntil(
      async () => (await (await deliver(body('firing', [flood('flood-7')]))).json()) as IngestResult,
      (r) => r.incidents.length === 1,
      'a freed slot to be used by a new group',
      15_000,
    );
    expect(next.overflowed).toEqual([]);
    await pollUntil(() => countRunning('incident:flood:'), (n) => n === CAP + 1, 'visibility to settle', 10_000);
  });
});
