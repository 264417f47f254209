// The audit sink on a real Temporal dev server and a real SQLite file: every timeline entry of an
// incident lands in the hash-chained log exactly once even when the publish activity is retried,
// approvals carry the approver, and kill-switch changes carry the operator.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signedUpdates } from '../support/identity.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Database } from 'better-sqlite3';
import { createAuditSink } from '../../activities/audit.js';
import { auditLog, openAuditDb, type AuditLog } from '../../src/audit/log.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { incidentsApi } from '../../src/incidents/api.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { statusQuery, timelineQuery, type IncidentStatus, type PublishInput } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, healthyAgain, remediateStep, silentLog } from '../support/fixtures.js';
import { devServerEnv, medicWorker, uniqueQueue, runWorker, type RunningWorker } from '../support/temporal.js';

// The real parts this file starts once (beforeAll) and stops (afterAll).
let env: TestWorkflowEnvironment, demo: DemoService, db: Database, log: AuditLog;
let worker: RunningWorker | undefined;
const taskQueue = uniqueQueue('audit');
let flakyCalls = 0;

beforeAll(async () => {
  [env, demo] = await Promise.all([devServerEnv(), startDemoService()]);
  db = openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-audit-it-')), 'audit.db'));
  log = auditLog(db);
  // A second sink that fails now and then: each failure makes the publish activity retry, so the
  // audit sink is handed the same entries again.
  const flaky = {
    name: 'flaky',
    async publish(_i: PublishInput) {
      if (++flakyCalls % 3 === 1) throw new Error('flaky sink down');
    },
  };
  worker = runWorker(await medicWorker(env, taskQueue, {}, [createAuditSink(db), flaky]));
});
afterAll(async () => {
  await worker?.stop();
  db?.close();
  await demo?.close();
  await env?.teardown();
});

it('writes every timeline entry once despite retries; the approval carries the approver; the chain verifies', async () => {
  demo.state.fault = 'outage';
  const pb = demoPlaybook(demo.url, {
    name: 'audited',
    steps: [remediateStep(demo.url, { requiresApproval: true, approvers: ['bob'], verification: healthyAgain(demo.url, '1s', '10s') })],
  });
  const r = await ingestAlerts({ client: env.client, taskQueue, playbooks: () => [pb], log: silentLog }, [firingAlert({ service: 'audited-svc' })]);
  const handle = env.client.workflow.getHandle(r.incidents[0]!.workflowId);
  for (let i = 0; (await handle.query(statusQuery)).status !== 'awaiting_approval'; i++) {
    if (i > 200) throw new Error('never asked for approval');
    await new Promise((res) => setTimeout(res, 50));
  }
  await signedUpdates(env.client).decide(handle.workflowId, { decision: 'approve', user: 'bob', reason: 'go ahead' });
  const final = (await handle.result()) as IncidentStatus;
  expect(final.status).toBe('resolved');
  const timeline = await handle.query(timelineQuery);
  expect(flakyCalls).toBeGreaterThan(1);

  const rows = log.entries().filter((e) => e.incidentId === final.incidentId);
  expect(rows.map((e) => e.seq)).toEqual(timeline.map((e) => e.seq)); // each once, in order
  expect(rows.map((e) => (e.data as { message: string }).message)).toEqual(timeline.map((e) => e.message));
  const approval = rows.find((e) => e.kind === 'approval' && e.after === 'approved')!;
  expect(approval).toMatchObject({ who: 'bob', why: 'go ahead', before: 'awaiting approval', target: 'audited-svc' });
  const action = rows.find((e) => e.kind === 'action' && e.before === 'started')!;
  expect(action).toMatchObject({ who: 'medic', after: 'succeeded (HTTP 200)', why: 'playbook audited' });
  expect(rows[rows.length - 1]).toMatchObject({ kind: 'resolution', after: 'resolved' });
  expect(log.verify()).toMatchObject({ ok: true });
});

it('kill-switch changes are audited with the operator, before and after', async () => {
  const api = incidentsApi(env.client, taskQueue, { audit: log });
  await api.setPaused(true, 'root', 'bad rollout');
  await api.setPaused(false, 'root');
  const ks = log.entries().filter((e) => e.kind === 'kill-switch');
  expect(ks.map((e) => [e.who, e.what, e.why, e.before, e.after])).toEqual([
    ['root', 'kill switch ON: all automation paused', 'bad rollout', 'running', 'paused'],
    ['root', 'kill switch OFF: automation resumed', '', 'paused', 'running'],
  ]);
  expect(ks[0]!.incidentId).toBeNull();
  expect(log.verify()).toMatchObject({ ok: true });
});
