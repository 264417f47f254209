// Stop and restart the Temporal dev server (persistent SQLite, --db-filename) in the middle of
// incidents: one with its action in flight at the target, one waiting for approval. The same
// worker and clients reconnect by themselves; both incidents carry on in the same runs and
// resolve, each action applied once (counted at the target).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { signedUpdates, TEST_IDENTITY_KEY } from '../support/identity.js';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { startTemporalDevServer, type DevServer } from '../../dev/temporal-dev-server.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { createMedicWorker, type MedicWorker } from '../../src/temporal/worker.js';
import { statusQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, knownPlaybooks, silentLog } from '../support/fixtures.js';
import { ROOT } from '../support/paths.js';
import { uniqueQueue, workflowBundle } from '../support/temporal.js';

const DOWN_MS = 5_000;
const dir = mkdtempSync(join(tmpdir(), 'medic-temporal-restart-'));
const dbFile = join(dir, 'temporal.db');
const cleanup: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve(get()).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

it('Temporal dev server stopped and restarted mid-incident: incidents continue to resolution', async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') }); // one runtime per test file (forks pool)
  let server: DevServer = await startTemporalDevServer({ root: ROOT, dbFile, ui: false });
  cleanup.push(() => server.stop());
  const { address } = server;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address });
  cleanup.push(() => connection.close(), () => nativeConnection.close());
  const taskQueue = uniqueQueue('restart');
  const worker: MedicWorker = await createMedicWorker({ connection: nativeConnection, client, taskQueue, workflowBundle: await workflowBundle(), identityKey: TEST_IDENTITY_KEY, playbooks: knownPlaybooks });
  const running = worker.run();
  cleanup.push(async () => {
    worker.shutdown();
    await running.catch(() => undefined);
  });
  // The action takes 3 s at the target, so the server goes down while it is in flight.
  const acting: DemoService = await startDemoService(0, { remediateDelayMs: 3_000 });
  const approving: DemoService = await startDemoService();
  cleanup.push(() => acting.close(), () => approving.close());
  acting.state.fault = 'outage';
  approving.state.fault = 'outage';
  const verification = (d: DemoService) => ({ http: { url: `${d.url}/healthz` }, window: '2s', interval: '250ms', deadline: '2m' });
  const actingPb = demoPlaybook(acting.url, {
    name: 'restart-acting',
    match: { alertname: 'RestartActing' },
    steps: [{ name: 'restart', action: 'http', params: { method: 'POST', url: `${acting.url}/remediate`, expectStatus: [200] }, timeout: '5s', retries: 20, verification: verification(acting) }],
  });
  const approvingPb = demoPlaybook(approving.url, {
    name: 'restart-approving',
    match: { alertname: 'RestartApproving' },
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${approving.url}/remediate`, expectStatus: [200] },
        requiresApproval: true,
        approvers: ['alice'],
        verification: verification(approving),
      },
    ],
  });
  const ingest = { client, taskQueue, playbooks: () => [actingPb, approvingPb], log: silentLog };
  const { incidents } = await ingestAlerts(ingest, [firingAlert({ alertname: 'RestartActing' }), firingAlert({ alertname: 'RestartApproving' })]);
  const [actingId, approvingId] = ['restart-acting', 'restart-approving'].map((p) => incidents.find((i) => i.playbook === p)!.workflowId) as [string, string];
  const runsBefore = await Promise.all([actingId, approvingId].map(async (id) => (await client.workflow.getHandle(id).describe()).runId));

  await until('the approval request', async () => ((await client.workflow.getHandle(approvingId).query(statusQuery)).status === 'awaiting_approval' ? true : undefined));
  await until('the action to reach its target', () => (Object.keys(acting.state.requests).length > 0 ? true : undefined));

  const stoppedAt = Date.now();
  await server.stop();
  expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
  await sleep(DOWN_MS);
  server = await startTemporalDevServer({ root: ROOT, dbFile, ui: false, port: Number(address.split(':')[1]) });
  expect(server.address, 'restarted on the same address').toBe(address);
  const restartedIn = Date.now() - stoppedAt;

  // Same runs (state came back from SQLite, not restarted), and they go on.
  const runsAfter = await Promise.all([actingId, approvingId].map(async (id) => (await client.workflow.getHandle(id).describe()).runId));
  expect(runsAfter).toEqual(runsBefore);
  await until('the approval, through the reconnected client', () =>
    signedUpdates(client).decide(approvingId, { decision: 'approve', user: 'alice' }),
  );
  const finals = (await Promise.all([actingId, approvingId].map((id) => client.workflow.getHandle(id).result()))) as IncidentStatus[];
  expect(finals.map((f) => f.status)).toEqual(['resolved', 'resolved']);
  expect(Object.values(acting.state.applied)).toEqual([1]);
  expect(Object.values(approving.state.applied)).toEqual([1]);
  console.log(
    [
      'Temporal dev server restart figures',
      `  server down → answering again: ${(restartedIn / 1000).toFixed(1)} s (kept down ${DOWN_MS / 1000} s)`,
      `  incidents: 2 (one mid-action, one awaiting approval), resolved 2, lost 0, actions applied twice 0`,
      `  requests at the target for the in-flight action: ${Object.values(acting.state.requests)[0]} (retried after the restart, applied once)`,
    ].join('\n'),
  );
}, 240_000);
