// Shared set-up for test/workflow/*: one Java time-skipping test server, one demo service and one
// medic worker per test file, plus small helpers to start incidents and watch them. With a
// FakeWorld (test/support/fake-activities.ts) the worker's outside activities are plain functions.
//
// Time skipping is locked except while a test awaits `handle.result()` or `env.sleep()`; while
// locked, workflow time runs at wall-clock speed, so tests poll queries in real time to catch a
// workflow in a given state, then skip.
import { Agent } from 'node:https';
import { afterAll, beforeAll } from 'vitest';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import type { MedicWorker } from '../../src/temporal/worker.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import type { IncomingMessage } from 'node:http';
import type { WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService, type Fault } from '../../dev/demo-service.js';
import { withFingerprint } from '../../src/intake/ingest.js';
import { incidentWorkflowId, targetOf } from '../../src/playbooks/match.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import {
  alertSignal,
  governorTaskQueue,
  SearchAttributes,
  statusQuery,
  timelineQuery,
  type Alert,
  type IncidentInput,
  type IncidentStatus,
  type TimelineEntry,
  type TimelineGroup,
  type TimelineKind,
  groupOf,
  queryChecked,
} from '../../workflows/contracts.js';
import type { incidentWorkflow } from '../../workflows/incident.js';
import type { FakeWorld } from './fake-activities.js';
import { firingAlert, knownPlaybooks, registerPlaybooks } from './fixtures.js';
import { TEST_IDENTITY_KEY } from './identity.js';
import { playbookRef } from '../../src/playbooks/hash.js';
import { incidentIdSuffix } from '../../workflows/playbook-source.js';
import { medicWorker, timeSkippingEnv, uniqueQueue, workflowBundle } from './temporal.js';

export interface WorkflowHarness {
  env: TestWorkflowEnvironment;
  demo: DemoService;
  worker: MedicWorker;
  taskQueue: string;
  /** With `pagerduty`: the Events API stand-in the worker pages (through pdjs, over HTTPS). */
  pd?: PagerDutyStandIn;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Plain functions for the outside activities (the demo service and stand-ins are then unused). */
  world?: FakeWorld;
  /** Start the PagerDuty stand-in and let the worker page it. */
  pagerduty?: boolean;
  secrets?: Record<string, string>;
  /** More worker options (e.g. `slack`: the Slack sink, for the outbox test). */
  extra?: Parameters<typeof medicWorker>[4];
}

/** The incident and governor workers with the world's plain functions over the real activities. */
async function fakeWorldWorker(env: TestWorkflowEnvironment, taskQueue: string, world: FakeWorld): Promise<MedicWorker> {
  const real = createActivities({
    client: env.client,
    taskQueue,
    fetch: () => Promise.reject(new Error('a workflow test reaches nothing over HTTP')),
    secret: () => undefined,
    identityKey: TEST_IDENTITY_KEY,
    playbooks: knownPlaybooks,
  });
  const common = { connection: env.nativeConnection, namespace: env.namespace ?? 'default', workflowBundle: await workflowBundle() };
  const incidents = await Worker.create({ ...common, taskQueue, activities: { ...real, ...world.activities } });
  const governor = await Worker.create({ ...common, taskQueue: governorTaskQueue(taskQueue) });
  const stop = (w: Worker): void => {
    if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    buildId: 'workflow-harness (unversioned)',
    // as createMedicWorker: the governor stops once the incident worker has drained
    run: async () => void (await Promise.all([incidents.run().finally(() => stop(governor)), governor.run()])),
    runUntil: (p) => governor.runUntil(incidents.runUntil(p)),
    shutdown: () => stop(incidents),
    states: () => ({ incidents: incidents.getState(), governor: governor.getState() }),
  };
}

export async function workflowHarness(name: string, o: HarnessOptions = {}): Promise<WorkflowHarness> {
  const env = await timeSkippingEnv();
  const closers: (() => Promise<void>)[] = [() => env.teardown()];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const demo = await startDemoService();
    closers.push(() => demo.close());
    const pd = o.pagerduty ? await startPagerDutyStandIn() : undefined;
    const agent = pd ? new Agent({ ca: pd.certs.ca }) : undefined;
    if (pd && agent) {
      closers.push(() => pd.close());
      closers.push(async () => agent.destroy());
    }
    const taskQueue = uniqueQueue(name);
    const worker = o.world
      ? await fakeWorldWorker(env, taskQueue, o.world)
      : await medicWorker(env, taskQueue, o.secrets ?? {}, [], { ...o.extra, ...(pd && agent ? { pagerduty: { server: pd.server, agent, throttlePauseMs: 20 } } : {}) });
    const running = worker.run();
    closers.push(async () => {
      worker.shutdown();
      await running;
    });
    return { env, demo, worker, taskQueue, ...(pd ? { pd } : {}), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * workflowHarness started before the file's tests and closed after them (register at the top
 * level of a test file). The returned harness is usable inside tests: its fields read through.
 */
export function useWorkflowHarness(name: string, o: HarnessOptions = {}): WorkflowHarness {
  let h: WorkflowHarness | undefined;
  beforeAll(async () => {
    h = await workflowHarness(name, o);
  });
  afterAll(async () => {
    await h?.close();
  });
  const started = (): WorkflowHarness => {
    if (!h) throw new Error(`workflow harness ${name}: not started (used outside a test, or beforeAll failed)`);
    return h;
  };
  return {
    get env() {
      return started().env;
    },
    get demo() {
      return started().demo;
    },
    get worker() {
      return started().worker;
    },
    get taskQueue() {
      return started().taskQueue;
    },
    get pd() {
      return started().pd;
    },
    close: () => started().close(),
  };
}

export type IncidentHandle = WorkflowHandleWithSignaledRunId<typeof incidentWorkflow>;

export interface StartedIncident {
  handle: IncidentHandle;
  alert: Alert;
  firstRunId: string;
  /** Workflow id + 16 hex characters of SHA-256 over the whole first run id (workflows/playbook-source.ts). */
  incidentId: string;
}

/** Starts an incident the way src/intake/ingest.ts does (signalWithStart, same search attributes). */
export async function startIncident(
  h: WorkflowHarness,
  playbook: Playbook,
  opts: Pick<IncidentInput, 'requestedBy' | 'options' | 'overflow'> & { labels?: Record<string, string> } = {},
): Promise<StartedIncident> {
  const { labels, ...options } = opts;
  const alert = withFingerprint(firingAlert(labels));
  const workflowId = incidentWorkflowId(playbook, alert);
  registerPlaybooks(playbook); // the test's playbooks are the ones its worker loaded
  const input: IncidentInput = { playbookRef: playbookRef(playbook), alert, target: targetOf(playbook, alert), ...options };
  const handle = await h.env.client.workflow.signalWithStart<typeof incidentWorkflow, [Alert[]]>('incidentWorkflow', {
    workflowId,
    taskQueue: h.taskQueue,
    args: [input],
    signal: alertSignal,
    signalArgs: [[alert]],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: SearchAttributes.service, value: alert.labels.service ?? '' },
      { key: SearchAttributes.severity, value: alert.severity },
      { key: SearchAttributes.status, value: 'open' },
    ],
  });
  return { handle, alert, firstRunId: handle.signaledRunId, incidentId: `${workflowId}:${incidentIdSuffix(handle.signaledRunId)}` };
}

/** Polls the status query (in real time: time skipping stays locked) until `done` holds. */
export async function waitForStatus(
  handle: IncidentHandle,
  done: (s: IncidentStatus) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<IncidentStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: IncidentStatus | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await queryChecked(handle, statusQuery);
      if (done(last)) return last;
    } catch (err) {
      lastError = err; // the first workflow task may not have run yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out waiting for ${what}; last status: ${last ? `${last.status}/${last.phase}` : `none (${String(lastError)})`}`,
  );
}

export const timeline = (handle: IncidentHandle): Promise<TimelineEntry[]> => queryChecked(handle, timelineQuery);

/** Entries of a kind, or of a group of kinds (workflows/contracts-timeline.ts groupOf), whose message has `text`. */
export const entries = (t: TimelineEntry[], kind: TimelineKind | TimelineGroup, text?: string | RegExp): TimelineEntry[] =>
  t.filter(
    (e) =>
      (e.kind === kind || groupOf(e.kind) === kind) &&
      (text === undefined || (typeof text === 'string' ? e.message.includes(text) : text.test(e.message))),
  );

/** Remediations the demo service really applied for one incident (its keys start with the id). */
export const appliedFor = (demo: DemoService, incidentId: string): number =>
  Object.entries(demo.state.applied)
    .filter(([key]) => key.startsWith(`${incidentId}:`))
    .reduce((n, [, count]) => n + count, 0);

/** The message a rejected or failed update carries (the validator's reason). */
export async function updateRejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { message?: string; cause?: { message?: string } };
    return e.cause?.message ?? e.message ?? String(err);
  }
  throw new Error('expected the update to be rejected, but it was accepted');
}

export interface HealthScript {
  /** GET /healthz requests seen so far. */
  readonly probes: number;
  stop(): void;
}

/**
 * Makes the demo service's health follow a script over its probes: before the demo service answers
 * its n-th GET /healthz (1-based), its fault is set to `script(n)`. Verification probes come every
 * `interval` of workflow time, so probe numbers map to workflow time whether or not time skips.
 * The listener is prepended to the real HTTP server, so it runs before Fastify routes the request.
 */
export function healthScript(demo: DemoService, script: (probe: number) => Fault): HealthScript {
  let probes = 0;
  const server = demo.app.server;
  const listener = (req: IncomingMessage): void => {
    if (req.method !== 'GET' || !req.url?.startsWith('/healthz')) return;
    probes += 1;
    demo.state.fault = script(probes);
  };
  server.prependListener('request', listener);
  return {
    get probes() {
      return probes;
    },
    stop: () => void server.off('request', listener),
  };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
