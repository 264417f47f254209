// The governor under load: it continues-as-new often (tiny history budget) while incidents
// hammer it with admissions concurrently; no update is lost and its state carries over.
import type { MedicWorker } from '../../src/temporal/worker.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../src/dev/demo-service.js';
import { incidentsApi } from '../../src/incidents/api.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { governorTaskQueue, governorWorkflowId, type IncidentStatus } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { devServerEnv, medicWorker, uniqueQueue } from '../support/temporal.js';

let env: TestWorkflowEnvironment;
let demo: DemoService;
let worker: MedicWorker;
let running: Promise<void>;
const taskQueue = uniqueQueue('gov');

beforeAll(async () => {
  env = await devServerEnv();
  demo = await startDemoService();
  worker = await medicWorker(env, taskQueue);
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await demo?.close();
  await env?.teardown();
});

it('keeps every admission and its state across many continue-as-new runs', async () => {
  const id = governorWorkflowId(taskQueue);
  const first = await env.client.workflow.start('governorWorkflow', { workflowId: id, taskQueue: governorTaskQueue(taskQueue), args: [{ maxHistoryEvents: 40 }] });
  const api = incidentsApi(env.client, taskQueue);
  await api.setDeployment({ target: 'frozen-target', until: Date.now() + 3_600_000, by: 'release-bot' });

  const playbook = demoPlaybook(demo.url, { steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${demo.url}/remediate` } }] });
  const deps = { client: env.client, taskQueue, playbooks: () => [playbook], log: silentLog };
  const started = await Promise.all(Array.from({ length: 25 }, () => ingestAlerts(deps, [firingAlert()])));
  const results = await Promise.all(
    started.map((r) => env.client.workflow.getHandle(r.incidents[0]!.workflowId).result() as Promise<IncidentStatus>),
  );
  expect(results.map((r) => r.status)).toEqual(Array(25).fill('resolved'));
  expect(Object.keys(demo.state.applied)).toHaveLength(25);

  const now = await env.client.workflow.getHandle(id).describe();
  expect(now.runId).not.toBe(first.firstExecutionRunId); // it did continue as new
  const state = await api.governorState();
  expect(state.deployments['frozen-target']?.by).toBe('release-bot');
  expect(state.locks).toEqual({}); // every incident released its target
  expect(state.inFlight).toEqual({});
  expect(state.starts).toHaveLength(25); // all 25 admissions counted once
}, 120_000);
