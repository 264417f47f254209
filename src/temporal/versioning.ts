// Worker versioning (Temporal Worker Deployments). Every worker knows the build id of the workflow
// code it runs (src/version.ts: medic's version + a hash of the bundle). With versioning on, the
// worker polls as version <deploymentName>.<buildId>, and once its pollers are seen it makes that
// version the deployment's current one: new incidents start on it, while an incident started on
// an older build stays pinned to that build's workers to its end. So a rolling deploy never
// replays an older incident's history with new workflow code; the previous build's workers keep
// running until their incidents drain (docs/operations.md "Upgrades"); a worker of a retired build
// that starts again (to drain) serves its pinned incidents and does not take the deployment back.
// The governor is one workflow that lives forever (continue-as-new), so it is never pinned: it
// moves to the current build at its next task, and its changes stay patched (workflows/governor.ts).
import { readFile } from 'node:fs/promises';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { WorkerDeploymentOptions, WorkflowBundleOption } from '@temporalio/worker';
import { workflowBuildId } from '../version.js';

export type VersioningMode = 'off' | 'pinned' | 'auto-upgrade';

export interface Versioning {
  mode: VersioningMode;
  /** One name per medic installation on a namespace (config temporal.deploymentName). */
  deploymentName: string;
}

/** The bundle's code, read from its file when given as a path. */
export async function bundleCode(bundle: WorkflowBundleOption): Promise<string> {
  return 'code' in bundle ? bundle.code : readFile(bundle.codePath, 'utf8');
}

/** The build id of a workflow bundle (logged by every worker; its versioned identity when on). */
export async function buildIdOf(bundle: WorkflowBundleOption): Promise<string> {
  return workflowBuildId(await bundleCode(bundle));
}

/** Worker options for the incident or the governor worker; undefined while versioning is off. */
export function deploymentOptions(v: Versioning | undefined, buildId: string, role: 'incidents' | 'governor'): WorkerDeploymentOptions | undefined {
  if (!v || v.mode === 'off') return undefined;
  const behavior = role === 'governor' || v.mode === 'auto-upgrade' ? 'AUTO_UPGRADE' : 'PINNED';
  return { version: { deploymentName: v.deploymentName, buildId }, useWorkerVersioning: true, defaultVersioningBehavior: behavior };
}

const FAILED_PRECONDITION = 9;
const NOT_FOUND = 5;
const STATUS_CURRENT = 2;
const STATUS_DRAINING = 4;
const STATUS_DRAINED = 5;

export type Promotion = 'promoted' | 'already current' | 'retired';

/** Where `buildId` stands in the deployment: current, retired (was current once, superseded
 * since: a worker of it came back to finish its pinned incidents) or new. */
async function standing(client: Client, namespace: string, deploymentName: string, buildId: string): Promise<'current' | 'retired' | 'new'> {
  let info;
  try {
    info = (await client.workflowService.describeWorkerDeployment({ namespace, deploymentName })).workerDeploymentInfo;
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === NOT_FOUND) return 'new'; // no versioned poller seen yet
    throw err;
  }
  if (info?.routingConfig?.currentDeploymentVersion?.buildId === buildId) return 'current';
  const mine = info?.versionSummaries?.find((v) => v.deploymentVersion?.buildId === buildId);
  const status = mine?.status ?? 0;
  if (status === STATUS_CURRENT) return 'current';
  return status === STATUS_DRAINING || status === STATUS_DRAINED || mine?.firstActivationTime ? 'retired' : 'new';
}

/**
 * Makes `buildId` the deployment's current version, unless it already is or it is a retired
 * build (a worker of an older release started to drain its pinned incidents must not take new
 * ones back). The server refuses until it has seen this version's pollers on every task queue
 * the current version polls (the workers just started), so those refusals are retried until
 * `timeoutMs`; any other error is thrown at once.
 */
export async function promoteToCurrent(
  client: Client,
  o: { namespace: string; deploymentName: string; buildId: string; identity?: string; timeoutMs?: number; signal?: AbortSignal },
): Promise<Promotion> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    try {
      const now = await standing(client, o.namespace, o.deploymentName, o.buildId);
      if (now === 'current') return 'already current';
      if (now === 'retired') return 'retired';
      await client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: o.namespace,
        deploymentName: o.deploymentName,
        buildId: o.buildId,
        identity: o.identity ?? `medic-worker ${o.buildId}`,
      });
      return 'promoted';
    } catch (err) {
      const waiting = isGrpcServiceError(err) && (err.code === FAILED_PRECONDITION || err.code === NOT_FOUND);
      if (!waiting || Date.now() > deadline || o.signal?.aborted) {
        throw new Error(`could not make ${o.deploymentName}.${o.buildId} the current version: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
