// Builds the medic worker: every activity from its real client, the workflow code either from a
// pre-built bundle (tests, production) or from source (development). The governor runs on its
// own task queue with its own workflow-task slots: incidents call it from local activities that
// hold their workflow task, so with one shared pool a burst of new incidents could take every
// slot and starve the governor they are waiting for.
// For the same reason the governor worker stops only after the incident worker has: an incident
// worker drains (waits for its local activities) before it stops, and a governor Update sent
// by one of them needs a governor worker to run it. Stopped together, the governor worker (idle,
// so at once) left that Update with no poller, and the drain waited on a retrying local
// activity for up to its 5 min schedule-to-close. So SIGINT/SIGTERM must reach us, not the SDK's
// runtime, which would stop every worker at once (see installRuntimeLogger, src/worker.ts).
import { createRequire } from 'node:module';
import type { Client } from '@temporalio/client';
import { SSMClient } from '@aws-sdk/client-ssm';
import { EC2Client } from '@aws-sdk/client-ec2';
import { bundleWorkflowCode, Runtime, Worker, type Logger as TemporalLogger, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { governorTaskQueue } from '../../workflows/contracts.js';
import { createActivities } from '../../activities/index.js';
import type { IncidentSink } from '../sinks/sink.js';
import { createSlackSink, type SlackSinkDeps } from '../sinks/slack/sink.js';
import type { ActivityDeps } from '../../activities/index.js';
import { NO_TRACING, type WorkerTracing } from '../tracing.js';
import type { KubernetesDeps } from '../../activities/kubernetes.js';
import type { AnsibleDeps } from '../../activities/ansible.js';
import type { Playbook } from '../playbooks/schema.js';
import { buildIdOf, deploymentOptions, promoteToCurrent, type Promotion, type Versioning } from './versioning.js';
import { present } from '../present.js';

const require = createRequire(import.meta.url);
export const WORKFLOWS_PATH = require.resolve('../../workflows/index.ts');
/** Workflow interceptors bundled with the workflow code (tracing; inert unless a workflow was started traced). */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../../workflows/tracing.ts')];
/** What every workflow bundle is built from: tests, `npm run bundle`, the Docker image, and here. */
export const BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES };

export interface WorkerOptions {
  connection: NativeConnection;
  /** OpenTelemetry (src/tracing.ts) when configured; else workflow spans are dropped. */
  tracing?: WorkerTracing;
  client: Client;
  namespace?: string;
  taskQueue: string;
  /** Pre-built bundle code, or the path of a bundle file (production); else bundled from source. */
  workflowBundle?: WorkflowBundleOption;
  /** Where bundling from source reports (webpack's summary); default: the SDK runtime's logger. */
  bundleLogger?: TemporalLogger;
  secrets?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
  identity?: string;
  /** Where incident timelines are published (Slack thread, audit log, …). */
  sinks?: IncidentSink[];
  /** PagerDuty Events API host and trust (the local stand-in in tests and the demo). */
  pagerduty?: ActivityDeps['pagerduty'];
  /** Default Prometheus for PromQL verification. */
  prometheusUrl?: string;
  /** The OPA policy gate's backends (config opa: activities/opa.ts opaServer, opaWasm). */
  opa?: ActivityDeps['opa'];
  /** The incident store, read for similar past incidents. */
  store?: ActivityDeps['store'];
  /** Alertmanager for silences tied to incidents (playbook `silence`). */
  alertmanagerUrl?: string;
  /** Incident threads in Slack: added to `sinks` when configured. */
  slack?: SlackSinkDeps;
  /** AWS SSM endpoint override (tests: moto); region and credentials come from the AWS chain. */
  awsEndpoint?: string;
  /** Kubernetes API clients (config kubernetes); absent: kubernetes steps fail as not configured. */
  kubernetes?: KubernetesDeps;
  /** ansible-playbook and its playbook directory and inventory (config ansible); absent: ansible steps fail as not configured. */
  ansible?: AnsibleDeps;
  /** What chaos drills may break (config drills.targets). */
  drillTargets?: ActivityDeps['drillTargets'];
  /** The weekly digest's store, Slack client and SLOs (src/digest/). */
  digest?: ActivityDeps['digest'];
  /** Evidence sources: a log store, medic's earlier actions (the store), deployment markers. */
  evidence?: ActivityDeps['evidence'];
  /** Checks the app's signature on decide/take/resolve Updates (config identityKey); absent:
   * every such Update is refused as unsigned. */
  identityKey?: Buffer;
  /** The playbooks (and runbooks, as playbooks) this worker loaded itself: the only ones its
   * incidents run (src/playbooks/registry.ts). Absent: none, so every incident escalates. */
  playbooks?: () => readonly Playbook[];
  /** Sticky cache and local-activity slots (config temporal.*); absent: SDK defaults. */
  cache?: { maxCachedWorkflows?: number; stickyTimeoutMs?: number; maxConcurrentLocalActivities?: number };
  /** Worker versioning (config temporal.versioning, src/temporal/versioning.ts); absent: off. */
  versioning?: Versioning;
  /** Told where this build stands once versioned workers poll (logged by src/worker.ts). */
  onPromotion?: (p: Promotion) => void;
}

/** The incident worker and the governor worker, run and stopped together. */
export interface MedicWorker {
  run(): Promise<void>;
  runUntil<R>(fnOrPromise: Promise<R> | (() => Promise<R>)): Promise<R>;
  shutdown(): void;
  /** Worker states (incident queue, governor queue): both RUNNING when the worker polls. */
  states(): { incidents: string; governor: string };
  /** The build id of the workflow code this worker runs (medic's version + the bundle's hash). */
  buildId: string;
}

export async function createMedicWorker(o: WorkerOptions): Promise<MedicWorker> {
  const secrets = o.secrets ?? {};
  const activities = createActivities({
    client: o.client,
    taskQueue: o.taskQueue,
    fetch: o.fetch ?? globalThis.fetch,
    secret: (name) => secrets[name],
    sinks: [...(o.sinks ?? []), ...(o.slack ? [createSlackSink(o.slack)] : [])],
    ...present(o, ['pagerduty', 'prometheusUrl', 'opa', 'alertmanagerUrl', 'store', 'kubernetes', 'ansible', 'drillTargets', 'digest', 'evidence', 'identityKey', 'playbooks']),
    ssm: new SSMClient(o.awsEndpoint ? { endpoint: o.awsEndpoint } : {}),
    ec2: new EC2Client(o.awsEndpoint ? { endpoint: o.awsEndpoint } : {}),
  });
  // Bundle once for both workers (bundling takes seconds).
  const workflowBundle = o.workflowBundle ?? { code: (await bundleWorkflowCode({ ...BUNDLE_OPTIONS, logger: o.bundleLogger ?? Runtime.instance().logger })).code };
  const buildId = await buildIdOf(workflowBundle);
  const versioned = (role: 'incidents' | 'governor') => {
    const options = deploymentOptions(o.versioning, buildId, role);
    return options ? { workerDeploymentOptions: options } : {};
  };
  const common = {
    connection: o.connection,
    namespace: o.namespace ?? 'default',
    workflowBundle,
    ...(o.identity ? { identity: o.identity } : {}),
    // tracing: workflow spans leave through the `exporter` sink, activities get spans of their own
    sinks: (o.tracing ?? NO_TRACING).sinks,
    interceptors: { activity: (o.tracing ?? NO_TRACING).activityInterceptors },
    ...(o.cache?.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: o.cache.maxCachedWorkflows } : {}),
    ...(o.cache?.stickyTimeoutMs !== undefined ? { stickyQueueScheduleToStartTimeout: o.cache.stickyTimeoutMs } : {}),
    ...(o.cache?.maxConcurrentLocalActivities !== undefined ? { maxConcurrentLocalActivityExecutions: o.cache.maxConcurrentLocalActivities } : {}),
  };
  const incidents = await Worker.create({ ...common, ...versioned('incidents'), taskQueue: o.taskQueue, activities });
  const governor = await Worker.create({ ...common, ...versioned('governor'), taskQueue: governorTaskQueue(o.taskQueue) });
  // Versioned: once both workers poll, this build becomes the deployment's current version.
  let promotion: Promotion | undefined;
  const promote = async (): Promise<void> => {
    if (!o.versioning || o.versioning.mode === 'off' || promotion) return;
    const stopped = new AbortController();
    const poll = setInterval(() => incidents.getState() !== 'RUNNING' && stopped.abort(), 500);
    try {
      promotion = await promoteToCurrent(o.client, { namespace: common.namespace, deploymentName: o.versioning.deploymentName, buildId, signal: stopped.signal });
      o.onPromotion?.(promotion);
    } finally {
      clearInterval(poll);
    }
  };
  const stop = (w: Worker): void => {
    if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    async run() {
      const results = await Promise.allSettled([
        incidents.run().finally(() => stop(governor)), // drained: nothing needs the governor now
        governor.run().finally(() => stop(incidents)), // a failed governor worker: incidents cannot go on
        promote().catch((err: unknown) => {
          stop(incidents); // a worker that cannot take its place would run no new incident
          throw err;
        }),
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    // runUntil stops the incident worker first and the governor worker once it has stopped.
    // Versioned: the work starts once this build is current (promoted while both workers poll).
    runUntil: (fnOrPromise) =>
      governor.runUntil(
        incidents.runUntil(async () => {
          await promote();
          return typeof fnOrPromise === 'function' ? fnOrPromise() : fnOrPromise;
        }),
      ),
    /** Stops the incident worker; the governor worker follows once the incident worker has stopped (see run). */
    shutdown() {
      stop(incidents);
    },
    states: () => ({ incidents: incidents.getState(), governor: governor.getState() }),
    buildId,
  };
}
