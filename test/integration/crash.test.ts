// Crash test: kill -9 the worker process while an action activity is in flight, start another
// worker, and the incident still completes with the action applied exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_IDENTITY_KEY_TEXT } from '../support/identity.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, healthyAgain, remediateStep, silentLog } from '../support/fixtures.js';
import { BUNDLE_PATH, ROOT } from '../support/paths.js';
import { devServerEnv, uniqueQueue } from '../support/temporal.js';
import { playbookDir } from '../support/worker-process.js';

let env: TestWorkflowEnvironment;
let demo: DemoService;
const workers: ChildProcess[] = [];
const taskQueue = uniqueQueue('crash');

/** `playbooks`: the directory the worker loads its playbooks from (it runs no others). */
function startWorkerProcess(playbooks: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      MEDIC_TEMPORAL_ADDRESS: env.address,
      MEDIC_TEMPORAL_TASK_QUEUE: taskQueue,
      MEDIC_WORKFLOW_BUNDLE: BUNDLE_PATH,
      MEDIC_LOG_LEVEL: 'warn',
      MEDIC_IDENTITY_KEY: TEST_IDENTITY_KEY_TEXT,
      MEDIC_PLAYBOOKS: playbooks,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  workers.push(child);
  return child;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  env = await devServerEnv();
  // The remediation takes 2 s, so the worker can be killed while the request is in flight.
  demo = await startDemoService(0, { remediateDelayMs: 2_000 });
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await demo?.close();
  await env?.teardown();
});

it('kill -9 of the worker mid-action: a new worker finishes the incident, the action applied once', async () => {
  const playbook = demoPlaybook(demo.url, {
    steps: [remediateStep(demo.url, { timeout: '4s', retries: 5, verification: healthyAgain(demo.url, '1s', '30s') })],
  });
  demo.state.fault = 'outage';
  const dir = playbookDir([playbook]);
  const first = startWorkerProcess(dir);
  const { incidents } = await ingestAlerts(
    { client: env.client, taskQueue, playbooks: () => [playbook], log: silentLog },
    [firingAlert()],
  );
  const workflowId = incidents[0]!.workflowId;

  await until(() => Object.keys(demo.state.requests).length > 0, 60_000, 'the action request to reach the demo service');
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  expect(first.signalCode).toBe('SIGKILL');

  startWorkerProcess(dir);
  const final = (await env.client.workflow.getHandle(workflowId).result()) as IncidentStatus;
  expect(final.status).toBe('resolved');

  const keys = Object.keys(demo.state.requests);
  expect(keys).toHaveLength(1); // one logical action, one idempotency key
  const key = keys[0]!;
  expect(key).toMatch(/^incident:demo-down:[0-9a-f]{12}:[0-9a-f]{16}:step-0:try-1$/);
  expect(demo.state.requests[key]).toBeGreaterThanOrEqual(2); // the retry really happened…
  expect(demo.state.applied).toEqual({ [key]: 1 }); // …and was not applied twice
}, 120_000);
