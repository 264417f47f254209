// Chaos-drill side effects: check a drill may run (target marked drillable, kill switch off),
// inject its fault, watch for medic's incident and its outcome, revert, and post the report into
// the incident's thread and timeline through the incident sinks. Targets come from the worker's
// config only, so a drill's input can never point at anything not marked drillable.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DrillScenario, DrillTarget } from '../src/drills/schema.js';
import { refuseTarget } from '../src/drills/targets.js';
import { stepSequenceOf } from '../src/simulate/sequence.js';
import { mttrOverhead } from '../src/drills/overhead.js';
import { createSsmActivities } from './ssm.js';
import { requestOptions, type KubeClients } from './kubernetes/client.js';
import type { IncidentSink } from '../src/sinks/sink.js';
import {
  governorStateQuery,
  governorWorkflowId,
  INCIDENT_WORKFLOW_TYPE,
  statusQuery,
  timelineQuery,
  type TimelineEntry,
  queryChecked,
} from '../workflows/contracts.js';
import { drillReportSignal, sinkRefsQuery, type DrillReport } from '../workflows/contracts-drill.js';
import { entry as newEntry, groupOf } from '../workflows/contracts-timeline.js';
import { formatDrillReport } from '../src/drills/report.js';

export interface DrillDeps {
  client: Client;
  taskQueue: string;
  targets: Record<string, DrillTarget>;
  fetch: typeof globalThis.fetch;
  secret: (name: string) => string | undefined;
  ssm: SSMClient;
  sinks: IncidentSink[];
  /** Kubernetes API clients (the worker's); absent: drills on Deployments are refused. */
  kube?: KubeClients;
  /** How often the watchers look (tests: faster). */
  pollMs?: number;
}

export interface IncidentSeen {
  workflowId: string;
  incidentId: string;
  startedAt: number;
}

export interface IncidentEnd {
  status: string;
  outcome?: string;
  /** When it resolved, or first showed as escalated; undefined while it still runs. */
  endedAt?: number;
  steps: DrillReport['steps'];
  /** medic's own share of the heal, or why there is none (src/drills/overhead.ts). */
  overhead?: DrillReport['overhead'];
  overheadUnknown?: string;
}

const BEFORE = 'medic.dev/drill-replicas-before';
const refused = (message: string): ApplicationFailure => ApplicationFailure.create({ type: 'DrillRefused', nonRetryable: true, message });

/** The drill's target if it may be broken; refuses with a clear reason otherwise. */
export function drillableTarget(targets: Record<string, DrillTarget>, scenario: Pick<DrillScenario, 'target' | 'fault' | 'name'>): DrillTarget {
  const why = refuseTarget(targets, scenario);
  if (why) throw refused(why);
  return targets[scenario.target]!;
}

export function createDrillActivities(deps: DrillDeps) {
  const pollMs = deps.pollMs ?? 1_000;
  const ssm = createSsmActivities({ ssm: deps.ssm });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const heartbeat = (d?: unknown): void => {
    try {
      Context.current().heartbeat(d);
    } catch {
      // outside an activity (direct calls)
    }
  };

  async function demoFault(t: Extract<DrillTarget, { kind: 'demo-service' }>, body: { fault: string; latencyMs?: number }): Promise<string> {
    const token = t.tokenSecret ? deps.secret(t.tokenSecret) : undefined;
    if (t.tokenSecret && token === undefined) throw refused(`secret ${t.tokenSecret} is not configured (set MEDIC_SECRET_${t.tokenSecret})`);
    const res = await deps.fetch(`${t.url.replace(/\/$/, '')}/admin/fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`demo service fault switch answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return `demo service ${t.url}: fault ${body.fault}${body.latencyMs !== undefined ? ` (${body.latencyMs}ms)` : ''}`;
  }

  async function shell(t: Extract<DrillTarget, { kind: 'ssm-instance' }>, command: string, key: string): Promise<string> {
    const r = await ssm.ssmRunCommand({
      documentName: 'AWS-RunShellScript',
      parameters: { commands: [command] },
      instanceIds: [t.instanceId],
      targets: [],
      idempotencyKey: key,
      dryRun: false,
      timeoutMs: 120_000,
    });
    return `${r.summary}${r.commandId ? ` (command ${r.commandId})` : ''}`;
  }

  const kube = (): KubeClients => {
    if (!deps.kube) throw refused("Kubernetes is not configured for this worker: drills on Deployments need the worker's Kubernetes credentials");
    return deps.kube;
  };
  type K8sTarget = Extract<DrillTarget, { kind: 'kubernetes-deployment' }>;
  // The replica count before the drill is kept on the Deployment itself, so a retried inject
  // never records 0 as "before" and the revert survives a worker restart.
  // Merge patches (get + patch on deployments, as deploy/kubernetes/rbac.yaml grants).
  const patch = (t: K8sTarget, body: object) =>
    kube().apps.patchNamespacedDeployment({ name: t.name, namespace: t.namespace, body }, requestOptions(15_000, 'merge'));
  async function scaleToZero(t: K8sTarget): Promise<string> {
    const d = await kube().apps.readNamespacedDeployment({ name: t.name, namespace: t.namespace });
    const before = d.metadata?.annotations?.[BEFORE] ?? String(d.spec?.replicas ?? 1);
    await patch(t, { metadata: { annotations: { [BEFORE]: before } }, spec: { replicas: 0 } });
    return `Deployment ${t.namespace}/${t.name} scaled from ${before} to 0 replicas`;
  }
  async function scaleBack(t: K8sTarget): Promise<string> {
    const d = await kube().apps.readNamespacedDeployment({ name: t.name, namespace: t.namespace });
    const before = d.metadata?.annotations?.[BEFORE];
    if (before === undefined) return `Deployment ${t.namespace}/${t.name}: nothing to revert`;
    await patch(t, { metadata: { annotations: { [BEFORE]: null } }, spec: { replicas: Number(before) } });
    return `Deployment ${t.namespace}/${t.name} scaled back to ${before} replicas`;
  }
  async function deletePod(t: K8sTarget): Promise<string> {
    const d = await kube().apps.readNamespacedDeployment({ name: t.name, namespace: t.namespace });
    const labelSelector = Object.entries(d.spec?.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const pods = await kube().core.listNamespacedPod({ namespace: t.namespace, labelSelector });
    const victim = pods.items.find((p) => !p.metadata?.deletionTimestamp);
    if (!victim?.metadata?.name) throw new Error(`Deployment ${t.namespace}/${t.name} has no pod to delete (selector ${labelSelector})`);
    await kube().core.deleteNamespacedPod({ name: victim.metadata.name, namespace: t.namespace });
    return `pod ${t.namespace}/${victim.metadata.name} of Deployment ${t.name} deleted`;
  }

  return {
    /** Refuses a drill whose target is not drillable, or while the kill switch is on. */
    async drillPreflight({ scenario }: { scenario: DrillScenario }): Promise<{ target: string }> {
      drillableTarget(deps.targets, scenario);
      try {
        const gov = await queryChecked(deps.client.workflow.getHandle(governorWorkflowId(deps.taskQueue)), governorStateQuery);
        if (gov.pause.paused) {
          throw refused(`drill ${scenario.name}: the kill switch is on (paused by ${gov.pause.by ?? '?'}${gov.pause.reason ? `: ${gov.pause.reason}` : ''}); no drills while automation is paused`);
        }
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // no governor yet: nothing paused
      }
      return { target: scenario.target };
    },

    async drillInject({ scenario, key }: { scenario: DrillScenario; key: string }): Promise<{ injectedAt: number; summary: string }> {
      const t = drillableTarget(deps.targets, scenario);
      const f = scenario.fault;
      const injectedAt = Date.now();
      if (f.kind === 'demo-fault' && t.kind === 'demo-service') {
        return { injectedAt, summary: await demoFault(t, { fault: f.fault, ...(f.latencyMs !== undefined ? { latencyMs: f.latencyMs } : {}) }) };
      }
      if (f.kind === 'ssm-fill-disk' && t.kind === 'ssm-instance') {
        return { injectedAt, summary: await shell(t, `fallocate -l ${f.sizeMb}M ${f.path}`, `${key}:fill`) };
      }
      if (t.kind === 'kubernetes-deployment' && (f.kind === 'k8s-scale-to-zero' || f.kind === 'k8s-delete-pod')) {
        return { injectedAt, summary: f.kind === 'k8s-scale-to-zero' ? await scaleToZero(t) : await deletePod(t) };
      }
      throw refused(`drill ${scenario.name}: fault ${f.kind} does not apply to ${t.kind}`);
    },

    async drillRevert({ scenario, key }: { scenario: DrillScenario; key: string }): Promise<string> {
      const t = drillableTarget(deps.targets, scenario);
      if (t.kind === 'demo-service') return demoFault(t, { fault: 'none' });
      if (t.kind === 'ssm-instance' && scenario.fault.kind === 'ssm-fill-disk') return shell(t, `rm -f ${scenario.fault.path}`, `${key}:revert`);
      if (t.kind === 'kubernetes-deployment' && scenario.fault.kind === 'k8s-scale-to-zero') return scaleBack(t);
      return 'nothing to revert';
    },

    /** The incident of the expected playbook opened since the fault, or undefined after timeoutMs. */
    async drillAwaitIncident({ playbook, since, timeoutMs }: { playbook: string; since: number; timeoutMs: number }): Promise<IncidentSeen | undefined> {
      const deadline = Date.now() + timeoutMs;
      // Visibility stores start times at second precision: look from the second before.
      const after = new Date(Math.floor(since / 1000) * 1000 - 1000).toISOString();
      const query = `WorkflowType = '${INCIDENT_WORKFLOW_TYPE}' AND StartTime >= '${after}'`;
      for (;;) {
        heartbeat({ watching: playbook });
        for await (const wf of deps.client.workflow.list({ query })) {
          if (wf.taskQueue !== deps.taskQueue) continue;
          const s = await queryChecked(deps.client.workflow.getHandle(wf.workflowId, wf.runId), statusQuery).catch(() => undefined);
          if (s?.playbook === playbook && s.startedAt >= since - 1_000) return { workflowId: wf.workflowId, incidentId: s.incidentId, startedAt: s.startedAt };
        }
        if (Date.now() >= deadline) return undefined;
        await sleep(pollMs);
      }
    },

    /** Waits until the incident resolved or escalated (or timeoutMs passed) and reads its steps. */
    async drillAwaitOutcome({ workflowId, timeoutMs }: { workflowId: string; timeoutMs: number }): Promise<IncidentEnd> {
      const handle = deps.client.workflow.getHandle(workflowId);
      const deadline = Date.now() + Math.max(0, timeoutMs);
      for (;;) {
        heartbeat({ workflowId });
        const s = await queryChecked(handle, statusQuery);
        const done = s.status === 'resolved' || s.status === 'escalated';
        if (done || Date.now() >= deadline) {
          const timeline = await queryChecked(handle, timelineQuery);
          const escalatedAt = timeline.find((e) => groupOf(e.kind) === 'escalation')?.at;
          const endedAt = s.status === 'resolved' ? s.endedAt : s.status === 'escalated' ? escalatedAt : undefined;
          const o = mttrOverhead(timeline);
          return {
            status: s.status,
            ...(s.outcome ? { outcome: s.outcome } : {}),
            ...(endedAt !== undefined ? { endedAt } : {}),
            steps: stepSequenceOf(timeline),
            ...('overhead' in o ? { overhead: o.overhead } : { overheadUnknown: o.unknown }),
          };
        }
        await sleep(pollMs);
      }
    },

    /** The report as the incident's last timeline entry, through every incident sink (Slack thread, store, audit). */
    async drillPublish({ report }: { report: DrillReport }): Promise<boolean> {
      if (!report.incident) return false;
      const handle = deps.client.workflow.getHandle(report.incident.workflowId);
      if ((await handle.describe()).status.name === 'RUNNING') {
        // Resolved and winding down: wait for its last entries, then post after them.
        if ((await queryChecked(handle, statusQuery)).status === 'resolved') await handle.result();
        else {
          // Still open (escalated, holding): the incident notes it itself, in order with its own entries.
          await handle.signal(drillReportSignal, { message: formatDrillReport(report), report });
          return true;
        }
      }
      const [incident, timeline, refs] = await Promise.all([queryChecked(handle, statusQuery), queryChecked(handle, timelineQuery), queryChecked(handle, sinkRefsQuery)]);
      const seq = timeline.length > 0 ? timeline[timeline.length - 1]!.seq + 1 : 0;
      const entry = { ...newEntry.drillReport({ message: formatDrillReport(report), data: { drill: report } }), seq, at: Date.now() } as TimelineEntry;
      const failures: string[] = [];
      let next = { ...refs };
      for (const sink of deps.sinks) {
        try {
          next = { ...next, ...((await sink.publish({ incident, entries: [entry], refs: next })) ?? {}) };
        } catch (err) {
          failures.push(`${sink.name}: ${(err as Error).message}`);
        }
      }
      if (failures.length > 0) throw new Error(`publishing the drill report failed for ${failures.join('; ')}`);
      return deps.sinks.length > 0;
    },
  };
}

export type DrillActivities = ReturnType<typeof createDrillActivities>;
