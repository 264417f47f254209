// KPIs across processes: a medic worker *process* (src/worker.ts, configured by env alone) runs
// incidents on a real Temporal dev server and writes the incident store; medic's HTTP server in
// this process serves /metrics from its own connection to that store. After a handful of
// incidents the new KPIs (time to detect, false positives, approvals pending and latency, actions
// by type and result, resolved by a person) match what was run — on SQLite and on PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUpdates } from '../support/identity.js';
import { TEST_IDENTITY_KEY_TEXT } from '../support/identity.js';
import { ConfigSchema } from '../../src/config.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook, PlaybookInput } from '../../src/playbooks/schema.js';
import { buildMetricsServer } from '../../src/server/metrics.js';
import { medicRegistry } from '../../src/store/metrics.js';
import type { IncidentStore } from '../../src/store/store.js';
import { statusQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { demoRestartStep, useDevServerAndDemo } from '../support/demo-stack.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { BUNDLE_PATH, ROOT } from '../support/paths.js';
import { STORE_BACKENDS } from '../support/stores.js';
import { uniqueQueue } from '../support/temporal.js';
import { playbookDir } from '../support/worker-process.js';

const dev = useDevServerAndDemo();

describe.each(STORE_BACKENDS)('KPIs on /metrics from a worker process ($name)', (backend) => {
  let store: IncidentStore;
  let closeBackend: () => Promise<void>;
  let worker: ChildProcess | undefined;
  const taskQueue = uniqueQueue(`kpi-${backend.name}`);
  const playbooks: Playbook[] = [];

  let where: Record<string, string>;
  beforeAll(async () => {
    const started = await backend.start();
    closeBackend = started.close;
    store = await started.open(); // the server's own connection
    where = 'path' in started.config && started.config.path ? { MEDIC_STORE_PATH: started.config.path } : { MEDIC_STORE_URL: String((started.config as { url: string }).url) };
  });
  /** The worker process loads its playbooks at start (it runs no others): start it once they exist. */
  const startWorker = (): void => {
    worker = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker.ts')], {
      cwd: ROOT,
      env: { ...process.env, MEDIC_TEMPORAL_ADDRESS: dev.env.address, MEDIC_TEMPORAL_TASK_QUEUE: taskQueue, MEDIC_WORKFLOW_BUNDLE: BUNDLE_PATH, MEDIC_LOG_LEVEL: 'warn', MEDIC_IDENTITY_KEY: TEST_IDENTITY_KEY_TEXT, MEDIC_PLAYBOOKS: playbookDir(playbooks), ...where },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  };
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
    await store?.close();
    await closeBackend?.();
  });

  const step = (extra: Record<string, unknown> = {}) => demoRestartStep(dev.demo.url, extra);
  let n = 0;
  function playbook(overrides: Partial<PlaybookInput>): string {
    const alertname = `Kpi${backend.name}${++n}`;
    playbooks.push(demoPlaybook(dev.demo.url, { name: `kpi-${backend.name}-${n}`, match: { alertname }, steps: [step()], holdAfterEscalation: '5m', ...overrides }));
    return alertname;
  }
  const send = async (alertname: string, status: 'firing' | 'resolved' = 'firing', startedAgoMs = 0): Promise<string> => {
    const alert = firingAlert({ alertname, service: `svc-${alertname}` }, status);
    const now = Date.now();
    const r = await ingestAlerts({ client: dev.env.client, taskQueue, playbooks: () => playbooks, log: silentLog }, [
      { ...alert, startsAt: new Date(now - startedAgoMs).toISOString(), receivedAt: now },
    ]);
    return r.incidents[0]!.workflowId;
  };
  const handle = (id: string) => dev.env.client.workflow.getHandle(id);
  const result = async (id: string) => (await handle(id).result()) as IncidentStatus;
  async function until(id: string, ok: (s: IncidentStatus) => boolean, ms = 60_000): Promise<IncidentStatus> {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        const s = await handle(id).query(statusQuery);
        if (ok(s)) return s;
      } catch {
        // not picked up by the worker process yet
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting on ${id}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('after a few incidents /metrics has TTD, false positives, approvals pending/latency, actions by type/result, resolved by a person', async () => {
    const pb = {
      healed: playbook({}),
      approved: playbook({ steps: [step({ requiresApproval: true, approvers: ['alice'] })] }),
      noisy: playbook({ steps: [step({ requiresApproval: true, approvers: ['bob'] })] }),
      failing: playbook({ steps: [step({ params: { method: 'POST', url: `${dev.demo.url}/remediate`, expectStatus: [204] }, verification: undefined })] }),
      dry: playbook({ steps: [step({ dryRun: true })] }),
      pending: playbook({ steps: [step({ requiresApproval: true, approvers: ['dave'] })] }),
    };
    startWorker();

    // 1. detected 30 s after it started; the restart heals it
    dev.demo.state.fault = 'outage';
    const healed = await result(await send(pb.healed, 'firing', 30_000));
    expect(healed.status).toBe('resolved');

    // 2. needs approval: alice approves after ~1.5 s; then it heals
    dev.demo.state.fault = 'outage';
    const approvedId = await send(pb.approved);
    const asked = await until(approvedId, (s) => s.status === 'awaiting_approval');
    await new Promise((r) => setTimeout(r, 1_500));
    const decided = await signedUpdates(dev.env.client).decide(approvedId, { decision: 'approve', user: 'alice' });
    const approved = await result(approvedId);
    expect(approved.status).toBe('resolved');
    const latency = (decided.at - asked.pendingApproval!.requestedAt) / 1000;
    expect(latency).toBeGreaterThanOrEqual(1.5);

    // 3. the alert resolves by itself while the step waits for approval: a false positive
    const noisy = pb.noisy;
    const noisyId = await send(noisy);
    await until(noisyId, (s) => s.status === 'awaiting_approval');
    await send(noisy, 'resolved');
    expect((await result(noisyId)).outcome).toBe('alert resolved before medic acted');

    // 4. the restart fails (unexpected status): escalates; a person resolves it
    const failing = await send(pb.failing);
    await until(failing, (s) => s.status === 'escalated' && s.escalationSent);
    await signedUpdates(dev.env.client).resolve(failing, { user: 'carol', reason: 'fixed by hand' });
    const byHuman = await result(failing);
    expect(byHuman).toMatchObject({ status: 'resolved', outcome: 'resolved by carol: fixed by hand' });

    // 5. a dry-run step: escalates at once and stays open (holdAfterEscalation 5m)
    const dry = await send(pb.dry);
    await until(dry, (s) => s.status === 'escalated' && s.escalationSent);

    // 6. awaiting approval, left pending
    const pendingId = await send(pb.pending);
    await until(pendingId, (s) => s.status === 'awaiting_approval');
    dev.demo.state.fault = 'none';

    const config = ConfigSchema.parse({ http: { port: 0 }, temporal: { taskQueue }, intake: { alertmanagerToken: 'intake-token-0123456789' } });
    // /metrics is served by the metrics listener (never the public one), from the store's KPI counters
    const server = buildMetricsServer({ config, registry: medicRegistry(store), log: silentLog });
    try {
      const scrape = async (): Promise<(series: string) => number> => {
        const res = await server.inject({ method: 'GET', url: '/metrics' });
        expect(res.statusCode).toBe(200);
        return (series) => {
          const line = res.body.split('\n').find((l) => l.startsWith(`${series} `));
          if (!line) throw new Error(`no ${series} in /metrics`);
          return Number(line.slice(series.length + 1));
        };
      };
      // the worker process publishes in the background: wait until the pending request reached the store
      let value = await scrape();
      for (let i = 0; value('medic_approvals_pending') !== 1 || value('medic_incidents_open') !== 2; i++) {
        if (i > 200) throw new Error(`store did not catch up: pending ${value('medic_approvals_pending')}, open ${value('medic_incidents_open')}`);
        await new Promise((r) => setTimeout(r, 100));
        value = await scrape();
      }

      expect(value('medic_incidents_total{outcome="auto_resolved"}')).toBe(2);
      expect(value('medic_incidents_total{outcome="resolved_before_action"}')).toBe(1);
      expect(value('medic_incidents_total{outcome="resolved_by_human"}')).toBe(1);
      expect(value('medic_incidents_total{outcome="escalated"}')).toBe(0);
      expect(value('medic_incidents_escalated_total')).toBe(1); // the one a person resolved after escalation
      expect(value('medic_false_positives_total')).toBe(1);

      // TTD: every incident has one (Alertmanager startsAt → received); the first started 30 s before
      expect(value('medic_incident_time_to_detect_seconds_count')).toBe(6);
      expect(value('medic_incident_time_to_detect_seconds_sum')).toBe(30);
      expect(value('medic_incident_time_to_detect_seconds_bucket{le="1"}')).toBe(5);
      expect(value('medic_incident_time_to_detect_seconds_bucket{le="15"}')).toBe(5);
      expect(value('medic_incident_time_to_detect_seconds_bucket{le="30"}')).toBe(6);

      // approvals: one approved after ~1.5 s, one still pending; the false positive's request never got an answer
      expect(value('medic_approvals_pending')).toBe(1);
      expect(value('medic_approval_latency_seconds_count{decision="approve"}')).toBe(1);
      expect(value('medic_approval_latency_seconds_sum{decision="approve"}')).toBeCloseTo(latency, 2);
      expect(value('medic_approval_latency_seconds_bucket{le="10",decision="approve"}')).toBe(1);

      // actions by type and result: two restarts healed, one failed, one dry run
      expect(value('medic_actions_total{type="http",result="succeeded"}')).toBe(2);
      expect(value('medic_actions_total{type="http",result="failed"}')).toBe(1);
      expect(value('medic_actions_total{type="http",result="dry run"}')).toBe(1);

      // MTTR now includes the incident a person resolved
      expect(value('medic_incident_time_to_recover_seconds_count')).toBe(3);
    } finally {
      await server.close();
      for (const id of [dry, pendingId]) await handle(id).terminate('test done').catch(() => undefined);
    }
  });
});
