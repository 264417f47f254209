// Scale-out: two medic workers (each with its own connection and identity, as two processes or
// pods would be) poll one task queue on a Temporal dev server. A burst of incidents through the
// real HTTP intake is spread over both — workflow tasks and activities — and every incident
// completes; the governor (one per queue) serves incidents running on either worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeConnection } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { buildServer } from '../../src/server/app.js';
import { createMedicWorker, type MedicWorker } from '../../src/temporal/worker.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { demoPlaybook, knownPlaybooks, silentLog } from '../support/fixtures.js';
import { devServerEnv, uniqueQueue, workflowBundle } from '../support/temporal.js';

const INCIDENTS = 12;
const TOKEN = 'intake-token-0123456789';
const taskQueue = uniqueQueue('scale');

let env: TestWorkflowEnvironment;
let demo: DemoService;
let server: FastifyInstance;
let url: string;
const connections: NativeConnection[] = [];
const workers: MedicWorker[] = [];
const runs: Promise<void>[] = [];

beforeAll(async () => {
  env = await devServerEnv();
  demo = await startDemoService();
  for (const identity of ['medic-worker-a', 'medic-worker-b']) {
    const connection = await NativeConnection.connect({ address: env.address });
    connections.push(connection);
    const worker = await createMedicWorker({ connection, client: env.client, taskQueue, identity, workflowBundle: await workflowBundle(), playbooks: knownPlaybooks });
    workers.push(worker);
    runs.push(worker.run());
  }
  const config = ConfigSchema.parse({ http: { port: 0 }, temporal: { taskQueue }, intake: { alertmanagerToken: TOKEN } });
  // limits high enough that the burst is not queued behind the global concurrency budget
  const playbook = demoPlaybook(demo.url, { limits: { maxConcurrentGlobal: 50, maxActionsPerHourGlobal: 500, maxTargetsPerWindow: { targets: 500, window: '1h' } } });
  server = await buildServer({ config, client: env.client, log: silentLog, playbooks: () => [playbook] });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server?.close();
  for (const w of workers) w.shutdown();
  await Promise.allSettled(runs);
  for (const c of connections) await c.close();
  await demo?.close();
  await env?.teardown();
});

async function openIncidents(prefix: string, n: number): Promise<string[]> {
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(alertmanagerPayload('firing', { alertname: 'DemoServiceDown', service: `${prefix}-${i}`, severity: 'critical' }, new Date().toISOString())),
      }),
    ),
  );
  const ids: string[] = [];
  for (const res of responses) {
    expect(res.status).toBe(202);
    const body = (await res.json()) as { incidents: { workflowId: string }[] };
    ids.push(body.incidents[0]!.workflowId);
  }
  expect(new Set(ids).size).toBe(n);
  return ids;
}

describe('two medic workers on one task queue', () => {
  it(`spread a burst of ${INCIDENTS} incidents over both workers, and every incident completes`, async () => {
    const started = Date.now();
    const ids = await openIncidents('shop', INCIDENTS);

    const results = (await Promise.all(ids.map((id) => env.client.workflow.getHandle(id).result()))) as IncidentStatus[];
    const elapsed = Date.now() - started;
    for (const r of results) {
      expect(r.status).toBe('resolved');
      expect(r.outcome).toMatch(/healed by step 1\/1/);
    }
    // the demo service applied one remediation per incident: nothing ran twice on the two workers
    expect(Object.keys(demo.state.applied)).toHaveLength(INCIDENTS);
    expect(Object.values(demo.state.applied).every((n) => n === 1)).toBe(true);

    // who did the work, from each incident's history
    const workflowTasks: Record<string, number> = {};
    const activities: Record<string, number> = {};
    const incidentsTouched: Record<string, Set<string>> = {};
    for (const id of ids) {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      for (const e of history.events ?? []) {
        const wft = e.workflowTaskCompletedEventAttributes?.identity;
        const act = e.activityTaskStartedEventAttributes?.identity;
        if (wft) {
          workflowTasks[wft] = (workflowTasks[wft] ?? 0) + 1;
          (incidentsTouched[wft] ??= new Set()).add(id);
        }
        if (act) activities[act] = (activities[act] ?? 0) + 1;
      }
    }
    const figures = {
      incidents: INCIDENTS,
      elapsedMs: elapsed,
      incidentsPerWorker: Object.fromEntries(Object.entries(incidentsTouched).map(([k, v]) => [k, v.size])),
      workflowTasks,
      activities,
    };
    console.log(`scale-out: ${JSON.stringify(figures)}`);
    expect(Object.keys(workflowTasks).sort()).toEqual(['medic-worker-a', 'medic-worker-b']);
    expect(Object.keys(activities).sort()).toEqual(['medic-worker-a', 'medic-worker-b']);
  }, 240_000);

  it('a worker stopped mid-burst (rolling upgrade, scale-in): its incidents finish on the other one', async () => {
    const ids = await openIncidents('cart', 6);
    // let the incidents get going on both workers (actions run, verification windows open) …
    await new Promise((r) => setTimeout(r, 1_500));
    const [a, b] = workers;
    a!.shutdown();
    await runs[0];
    expect(a!.states()).toEqual({ incidents: 'STOPPED', governor: 'STOPPED' });
    expect(b!.states()).toEqual({ incidents: 'RUNNING', governor: 'RUNNING' });
    // … and every one of them still completes, on the worker that is left
    const results = (await Promise.all(ids.map((id) => env.client.workflow.getHandle(id).result()))) as IncidentStatus[];
    for (const r of results) expect(r.status).toBe('resolved');
    let moved = 0; // incidents worker A had started that worker B finished
    for (const id of ids) {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      const tasks = (history.events ?? []).map((e) => e.workflowTaskCompletedEventAttributes?.identity).filter((x): x is string => !!x);
      expect(tasks.at(-1)).toBe('medic-worker-b');
      if (tasks.includes('medic-worker-a')) moved += 1;
    }
    console.log(`scale-out: worker A stopped mid-burst; ${moved} of ${ids.length} incidents moved to worker B and finished there`);
    expect(moved).toBeGreaterThan(0);
    for (const id of ids) {
      const applied = Object.entries(demo.state.applied).filter(([key]) => key.startsWith(id));
      expect(applied.map(([, n]) => n), id).toEqual([1]);
    }
  }, 240_000);
});
