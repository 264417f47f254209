// Worker versioning on a real Temporal dev server (config temporal.versioning: pinned): a rolling
// deploy from build A to build B. Build ids come from the bundle's content; a starting worker makes
// its build the deployment's current version; a new incident runs on B while one that A started
// stays on A — with A's workers gone, B never takes its tasks (no new code on an old history), and
// a worker of build A coming back finishes them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeConnection } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { buildServer } from '../../src/server/app.js';
import { createMedicWorker, type MedicWorker } from '../../src/temporal/worker.js';
import { workflowBuildId, MEDIC_VERSION } from '../../src/version.js';
import { alertSignal } from '../../workflows/contracts.js';
import { demoPlaybook, firingAlert, knownPlaybooks, remediateStep, silentLog } from '../support/fixtures.js';
import { TEST_IDENTITY_KEY } from '../support/identity.js';
import { pollUntil } from '../support/poll.js';
import { devServerEnv, uniqueQueue, workflowBundle } from '../support/temporal.js';

const TOKEN = 'intake-token-0123456789';
const taskQueue = uniqueQueue('versioned');
const deploymentName = uniqueQueue('medic').replace(/[^A-Za-z0-9_-]/g, '-');

let env: TestWorkflowEnvironment;
let demo: DemoService;
let server: FastifyInstance;
let url: string;
let codeA: string;
let codeB: string;
const running: { worker: MedicWorker; run: Promise<void>; connection: NativeConnection }[] = [];

async function startWorker(code: string, identity: string): Promise<MedicWorker> {
  const connection = await NativeConnection.connect({ address: env.address });
  const worker = await createMedicWorker({
    connection,
    client: env.client,
    taskQueue,
    identity,
    workflowBundle: { code },
    playbooks: knownPlaybooks,
    identityKey: TEST_IDENTITY_KEY,
    versioning: { mode: 'pinned', deploymentName },
  });
  running.push({ worker, run: worker.run(), connection });
  return worker;
}

async function stopWorker(worker: MedicWorker): Promise<void> {
  const entry = running.find((r) => r.worker === worker)!;
  worker.shutdown();
  await entry.run;
  await entry.connection.close();
  running.splice(running.indexOf(entry), 1);
}

async function currentBuildId(): Promise<string | undefined> {
  try {
    const res = await env.client.workflowService.describeWorkerDeployment({ namespace: 'default', deploymentName });
    return res.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId ?? undefined;
  } catch {
    return undefined; // not created yet: no versioned poller seen
  }
}

/** The build an incident's workflow is pinned to, and its versioning behavior. */
async function versioningOf(workflowId: string): Promise<{ buildId?: string; behavior?: unknown }> {
  const d = await env.client.workflow.getHandle(workflowId).describe();
  const info = d.raw.workflowExecutionInfo?.versioningInfo;
  return { buildId: info?.deploymentVersion?.buildId ?? undefined, behavior: info?.behavior ?? undefined };
}

async function openIncident(service: string): Promise<string> {
  const res = await fetch(`${url}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(alertmanagerPayload('firing', { alertname: 'DemoServiceDown', service, severity: 'critical' }, new Date().toISOString())),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { incidents: { workflowId: string }[] }).incidents[0]!.workflowId;
}

const identitiesOf = async (workflowId: string): Promise<string[]> => {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return [...new Set((history.events ?? []).map((e) => e.workflowTaskCompletedEventAttributes?.identity).filter((i): i is string => !!i))];
};

beforeAll(async () => {
  env = await devServerEnv();
  demo = await startDemoService();
  codeA = (await workflowBundle()).code;
  // (prepended: the bundle ends with its inline source map, which the SDK parses)
  codeB = `// build B: any change to the workflow code is a new build\n${codeA}`;
  const config = ConfigSchema.parse({ http: { port: 0 }, temporal: { taskQueue }, intake: { alertmanagerToken: TOKEN } });
  // The verification never holds (a path the demo service does not serve): incidents stay open.
  const playbook = demoPlaybook(demo.url, {
    steps: [
      remediateStep(demo.url, { timeout: '5s', verification: { http: { url: `${demo.url}/never-healthy` }, window: '2s', interval: '2s', deadline: '10m' } }),
    ],
  });
  server = await buildServer({ config, client: env.client, log: silentLog, playbooks: () => [playbook] });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
  for (const r of [...running]) await stopWorker(r.worker).catch(() => undefined);
  await demo?.close();
  await env?.teardown();
});

describe('worker versioning (pinned): a rolling deploy from build A to build B', () => {
  it('build ids come from the bundle content and medic’s version', () => {
    expect(workflowBuildId(codeA).startsWith(`${MEDIC_VERSION}-`)).toBe(true);
    expect(workflowBuildId(codeA).slice(MEDIC_VERSION.length + 1)).toMatch(/^[0-9a-f]{16}$/);
    expect(workflowBuildId(codeA)).toBe(workflowBuildId(`${codeA}`));
    expect(workflowBuildId(codeB)).not.toBe(workflowBuildId(codeA));
  });

  it('old incidents stay on the build that started them; new ones go to the newest build', async () => {
    const workerA = await startWorker(codeA, 'worker-a');
    expect(workerA.buildId).toBe(workflowBuildId(codeA));
    await pollUntil(async () => (await currentBuildId()) === workerA.buildId, (ok) => ok, 'build A current', 60_000);

    const incidentA = await openIncident('shop');
    await pollUntil(async () => (await identitiesOf(incidentA)).length > 0, (ok) => ok, 'incident A running', 30_000);
    expect(await versioningOf(incidentA)).toMatchObject({ buildId: workerA.buildId });

    // Rolling deploy: build B starts and takes over as current; build A's worker goes away.
    const workerB = await startWorker(codeB, 'worker-b');
    await pollUntil(async () => (await currentBuildId()) === workerB.buildId, (ok) => ok, 'build B current', 60_000);
    await stopWorker(workerA);

    const incidentB = await openIncident('cart');
    await pollUntil(async () => (await identitiesOf(incidentB)).length > 0, (ok) => ok, 'incident B running', 30_000);
    expect(await versioningOf(incidentB)).toMatchObject({ buildId: workerB.buildId });
    expect(await identitiesOf(incidentB)).toEqual(['worker-b']);

    // A new event for the old incident: with no worker of build A, build B never takes its task.
    await env.client.workflow.getHandle(incidentA).signal(alertSignal, [firingAlert({ service: 'shop' })]);
    // The signal's task and two verification timers' tasks (2 s interval) go unanswered meanwhile.
    await new Promise((r) => setTimeout(r, 4_500));
    expect(await identitiesOf(incidentA)).toEqual(['worker-a']);
    expect(await versioningOf(incidentA)).toMatchObject({ buildId: workflowBuildId(codeA) });

    // Build A's worker back (the previous Deployment kept until its incidents drain): it takes the task.
    await startWorker(codeA, 'worker-a2');
    await pollUntil(async () => (await identitiesOf(incidentA)).includes('worker-a2'), (ok) => ok, 'incident A continued on build A', 60_000);
    expect(await identitiesOf(incidentA)).not.toContain('worker-b');
    // … and build B stays current: a worker of an older build does not take the deployment back.
    expect(await currentBuildId()).toBe(workerB.buildId);
  }, 300_000);
});
