// Builds the medic worker: every activity from its real client, the workflow code either from a
// pre-built bundle (tests, production) or from source (development).
import { createRequire } from 'node:module';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import type { IncidentSink } from '../../activities/publish.js';
import { createSlackSink, type SlackSinkDeps } from '../../activities/slack.js';
import type { ActivityDeps } from '../../activities/index.js';

const require = createRequire(import.meta.url);
export const WORKFLOWS_PATH = require.resolve('../../workflows/index.ts');

export interface WorkerOptions {
  connection: NativeConnection;
  client: Client;
  namespace?: string;
  taskQueue: string;
  /** Pre-built bundle code, or the path of a bundle file (production); else bundled from source. */
  workflowBundle?: WorkflowBundleOption;
  secrets?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
  identity?: string;
  /** Where incident timelines are published (Slack thread, audit log, …). */
  sinks?: IncidentSink[];
  /** PagerDuty Events API host and trust (the local stand-in in tests and the demo). */
  pagerduty?: ActivityDeps['pagerduty'];
  /** Incident threads in Slack: added to `sinks` when configured. */
  slack?: SlackSinkDeps;
}

export async function createMedicWorker(o: WorkerOptions): Promise<Worker> {
  const secrets = o.secrets ?? {};
  const activities = createActivities({
    client: o.client,
    taskQueue: o.taskQueue,
    fetch: o.fetch ?? globalThis.fetch,
    secret: (name) => secrets[name],
    sinks: [...(o.sinks ?? []), ...(o.slack ? [createSlackSink(o.slack)] : [])],
    ...(o.pagerduty ? { pagerduty: o.pagerduty } : {}),
  });
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace ?? 'default',
    taskQueue: o.taskQueue,
    activities,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
