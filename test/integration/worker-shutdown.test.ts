// Stopping a medic worker while incidents are calling the governor, on a Temporal dev server.
// Incidents call the governor (its own worker, its own task queue) through local activities, and
// the incident worker drains them before it stops. The governor worker used to be stopped at the
// same time: idle, it stopped at once, the Update those local activities had sent was left with no
// worker to run it, and the drain waited on them retrying (up to 5 min). The governor worker now
// stops only once the incident worker has.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IDENTITY_KEY_TEXT } from '../support/identity.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { ingestAlerts, type IngestDeps } from '../../src/intake/ingest.js';
import type { MedicWorker } from '../../src/temporal/worker.js';
import { governorWorkflowId } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { BUNDLE_PATH, ROOT } from '../support/paths.js';
import { devServerEnv, medicWorker, uniqueQueue } from '../support/temporal.js';
import { MEDIC_VERSION, workflowBuildId } from '../../src/version.js';

const { EventType } = temporal.api.enums.v1;
const STARTED = temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await devServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

function deps(taskQueue: string): IngestDeps {
  const playbook = demoPlaybook('http://127.0.0.1:9', {
    name: 'guarded',
    match: { alertname: 'ShutdownProbe' },
    // approval keeps the incidents waiting once admitted: nothing is acted on
    steps: [{ name: 'guarded', action: 'http', params: { method: 'POST', url: 'http://127.0.0.1:9/remediate' }, requiresApproval: true, approvers: ['bob'] }],
  });
  return { client: env.client, taskQueue, playbooks: () => [playbook], log: silentLog };
}

/** Starts a medic worker and waits until both of its workers poll. */
async function running(taskQueue: string): Promise<{ worker: MedicWorker; run: Promise<void> }> {
  const worker = await medicWorker(env, taskQueue);
  const run = worker.run();
  const deadline = Date.now() + 30_000;
  while (Object.values(worker.states()).some((s) => s !== 'RUNNING')) {
    if (Date.now() > deadline) throw new Error(`worker not running: ${JSON.stringify(worker.states())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { worker, run };
}

async function terminateAll(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => env.client.workflow.getHandle(id).terminate('test done').catch(() => undefined)));
}

describe('medic worker shutdown', () => {
  it('stops the incident worker first; the governor worker keeps running until it has stopped', async () => {
    const { worker, run } = await running(uniqueQueue('shutdown-order'));
    worker.shutdown();
    // Worker.shutdown() changes the state synchronously: before the fix both were STOPPING here.
    expect(worker.states().governor).toBe('RUNNING');
    expect(worker.states().incidents).not.toBe('RUNNING');
    await run;
    expect(worker.states()).toEqual({ incidents: 'STOPPED', governor: 'STOPPED' });
  });

  it('a governor Update a draining incident worker is waiting on is still served, and the worker stops promptly', async () => {
    const taskQueue = uniqueQueue('shutdown-drain');
    const { worker, run } = await running(taskQueue);
    const d = deps(taskQueue);
    const ids: string[] = [];
    try {
      // A burst of incidents: each one's workflow task after the playbook lookup runs
      // governorAdmit as a local activity (the first such call starts the governor).
      const opened = await Promise.all(
        Array.from({ length: 6 }, (_, i) => ingestAlerts(d, [firingAlert({ alertname: 'ShutdownProbe', service: `svc-${i}` })])),
      );
      ids.push(...opened.flatMap((r) => r.incidents.map((x) => x.workflowId)));
      expect(ids).toHaveLength(6);
      // Shut down while an incident worker holds a started workflow task (its governor call in flight).
      const deadline = Date.now() + 30_000;
      let holding: string | undefined;
      const governorStarted = () =>
        env.client.workflow.getHandle(governorWorkflowId(taskQueue)).describe().then(() => true, () => false);
      while (!holding && Date.now() < deadline) {
        if (!(await governorStarted())) continue;
        for (const id of ids) {
          const { raw } = await env.client.workflow.getHandle(id).describe();
          if (raw.pendingWorkflowTask?.state === STARTED) holding = id;
        }
      }
      expect(holding, 'no incident workflow task was seen started').toBeDefined();
      const t0 = Date.now();
      worker.shutdown();
      const outcome = await Promise.race([
        run.then(() => 'stopped'),
        new Promise((r) => setTimeout(() => r('still draining'), 25_000)),
      ]);
      const stopMs = Date.now() - t0;
      console.log(`worker stopped ${stopMs} ms after shutdown with ${holding} mid workflow task`);
      expect(outcome).toBe('stopped');
      // Every Update the governor saw was completed, none of its workflow tasks timed out.
      const history = await env.client.workflow.getHandle(governorWorkflowId(taskQueue)).fetchHistory();
      const count = (t: number) => (history.events ?? []).filter((e) => e.eventType === t).length;
      expect(count(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)).toBe(0);
      expect(count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)).toBe(count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED));
      expect(count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)).toBeGreaterThan(0);
    } finally {
      await terminateAll([...ids, governorWorkflowId(taskQueue)]);
      worker.shutdown();
      await run.catch(() => undefined);
    }
  });

  it('the worker process stops on SIGTERM in that order (the SDK runtime no longer stops both workers at once)', async () => {
    const taskQueue = uniqueQueue('shutdown-signal');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker.ts')], {
      cwd: ROOT,
      env: { ...process.env, MEDIC_TEMPORAL_ADDRESS: env.address, MEDIC_TEMPORAL_TASK_QUEUE: taskQueue, MEDIC_WORKFLOW_BUNDLE: BUNDLE_PATH, MEDIC_LOG_LEVEL: 'info', MEDIC_IDENTITY_KEY: TEST_IDENTITY_KEY_TEXT },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: { msg?: string; taskQueue?: string; state?: string; version?: string; buildId?: string }[] = [];
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const all = buffered.split('\n');
      buffered = all.pop() ?? '';
      for (const l of all) if (l.startsWith('{')) lines.push(JSON.parse(l) as (typeof lines)[number]);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!lines.some((l) => l.msg === 'medic worker running')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error('the worker process did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      // the version first, then the build id of the bundle it runs (docs/operations.md)
      expect(lines[0]).toMatchObject({ msg: 'medic worker starting', version: MEDIC_VERSION });
      expect(lines.find((l) => l.msg === 'medic worker running')).toMatchObject({ version: MEDIC_VERSION, buildId: workflowBuildId(readFileSync(BUNDLE_PATH, 'utf8')) });
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
      expect(code).toBe(0);
      const at = (queue: string, state: string): number => lines.findIndex((l) => l.taskQueue === queue && l.state === state);
      const order = { incidentsStopped: at(taskQueue, 'STOPPED'), governorStopping: at(`${taskQueue}/governor`, 'STOPPING') };
      expect(order.incidentsStopped).toBeGreaterThanOrEqual(0);
      expect(order.governorStopping).toBeGreaterThan(order.incidentsStopped);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
