// Shared set-up for test/workflow/*: one Java time-skipping test server, one demo service and one
// medic worker per test file, plus small helpers to start incidents and watch them.
//
// Time skipping is locked except while a test awaits `handle.result()` or `env.sleep()`; while
// locked, workflow time runs at wall-clock speed, so tests poll queries in real time to catch a
// workflow in a given state, then skip.
import type { MedicWorker } from '../../src/temporal/worker.js';
import type { IncomingMessage } from 'node:http';
import type { WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService, type Fault } from '../../dev/demo-service.js';
import { withFingerprint } from '../../src/intake/ingest.js';
import { incidentWorkflowId, targetOf } from '../../src/playbooks/match.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import {
  alertSignal,
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
} from '../../workflows/contracts.js';
import type { incidentWorkflow } from '../../workflows/incident.js';
import { firingAlert, registerPlaybooks } from './fixtures.js';
import { playbookRef } from '../../src/playbooks/hash.js';
import { incidentIdSuffix } from '../../workflows/playbook-source.js';
import { medicWorker, timeSkippingEnv, uniqueQueue } from './temporal.js';

export interface WorkflowHarness {
  env: TestWorkflowEnvironment;
  demo: DemoService;
  worker: MedicWorker;
  taskQueue: string;
  close(): Promise<void>;
}

export async function workflowHarness(name: string): Promise<WorkflowHarness> {
  const env = await timeSkippingEnv();
  const closers: (() => Promise<void>)[] = [() => env.teardown()];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const demo = await startDemoService();
    closers.push(() => demo.close());
    const taskQueue = uniqueQueue(name);
    const worker = await medicWorker(env, taskQueue);
    const running = worker.run();
    closers.push(async () => {
      worker.shutdown();
      await running;
    });
    return { env, demo, worker, taskQueue, close };
  } catch (err) {
    await close();
    throw err;
  }
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
  opts: Pick<IncidentInput, 'requestedBy' | 'options' | 'overflow'> = {},
): Promise<StartedIncident> {
  const alert = withFingerprint(firingAlert());
  const workflowId = incidentWorkflowId(playbook, alert);
  registerPlaybooks(playbook); // the test's playbooks are the ones its worker loaded
  const input: IncidentInput = { playbookRef: playbookRef(playbook), alert, target: targetOf(playbook, alert), ...opts };
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
      last = await handle.query(statusQuery);
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

export const timeline = (handle: IncidentHandle): Promise<TimelineEntry[]> => handle.query(timelineQuery);

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
