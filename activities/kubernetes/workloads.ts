// Workload actions: rollout restart (Deployment/StatefulSet/DaemonSet), scale within bounds, roll
// a Deployment back to its previous revision, delete a pod.
import { ApplicationFailure } from '@temporalio/activity';
import type { V1DaemonSet, V1Deployment, V1PodTemplateSpec, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import { apiStatusOf, call, callOrNotFound, isNotFound, k8sError, requestOptions, type KubeClients } from './client.js';
import { firstScheduledMs, ownStamp, stampAnnotations, type K8sActionResult } from './changes.js';
import { stampedPatch, type Plan } from './stamped-patch.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;

/** Every action's common input: the workflow's key (incident + step + try), dry run, deadline. */
export interface ActionCommon {
  idempotencyKey: string;
  dryRun: boolean;
  timeoutMs: number;
}

export interface WorkloadRef {
  kind: WorkloadKind;
  /** Default: the configured namespace. */
  namespace?: string;
  name: string;
}

export interface ScaleInput extends ActionCommon {
  kind: 'Deployment' | 'StatefulSet';
  namespace?: string;
  name: string;
  /** Absolute target, or a change relative to the current replicas. Exactly one. */
  replicas?: number;
  by?: number;
  min: number;
  max: number;
}

export interface RollbackInput extends ActionCommon {
  namespace?: string;
  name: string;
  /** Default: the revision before the current one (like `kubectl rollout undo`). */
  toRevision?: number;
}

export interface DeletePodInput extends ActionCommon {
  namespace?: string;
  name: string;
}

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const REVISION = 'deployment.kubernetes.io/revision';
const WORKLOAD_ROOTS = [['spec'], ['metadata', 'labels'], ['metadata', 'annotations']];

export function createWorkloadActions(c: KubeClients, defaultNamespace: string, requestTimeoutMs: number) {
  const ns = (n?: string): string => n || defaultNamespace;
  const opts = (patch?: 'merge' | 'json') => requestOptions(requestTimeoutMs, patch);
  const dry = (dryRun: boolean) => (dryRun ? { dryRun: 'All' } : {});

  function readWorkload(kind: WorkloadKind, namespace: string, name: string): Promise<Workload> {
    const what = `get ${kind} ${namespace}/${name}`;
    const p = { namespace, name };
    if (kind === 'Deployment') return call(what, () => c.apps.readNamespacedDeployment(p, opts()));
    if (kind === 'StatefulSet') return call(what, () => c.apps.readNamespacedStatefulSet(p, opts()));
    return call(what, () => c.apps.readNamespacedDaemonSet(p, opts()));
  }

  /** Errors are wrapped by stampedPatch (it needs the raw 409 to re-read). */
  function patchWorkload(kind: WorkloadKind, namespace: string, name: string, body: unknown, type: 'merge' | 'json', dryRun: boolean): Promise<Workload> {
    const p = { namespace, name, body, ...dry(dryRun) };
    if (kind === 'Deployment') return c.apps.patchNamespacedDeployment(p, opts(type));
    if (kind === 'StatefulSet') return c.apps.patchNamespacedStatefulSet(p, opts(type));
    return c.apps.patchNamespacedDaemonSet(p, opts(type));
  }

  const workload = (ref: WorkloadRef, o: ActionCommon, op: string, plan: (before: Workload) => Plan) => {
    const namespace = ns(ref.namespace);
    return stampedPatch<Workload>({
      op,
      object: `${ref.kind} ${namespace}/${ref.name}`,
      idempotencyKey: o.idempotencyKey,
      dryRun: o.dryRun,
      roots: WORKLOAD_ROOTS,
      read: () => readWorkload(ref.kind, namespace, ref.name),
      patch: (body, type, dryRun) => patchWorkload(ref.kind, namespace, ref.name, body, type, dryRun),
      plan,
    });
  };

  /** `kubectl rollout restart`: a new restartedAt in the pod template starts a rolling update. */
  function k8sRestart(input: WorkloadRef & ActionCommon): Promise<K8sActionResult> {
    return workload(input, input, 'restart', () => ({
      merge: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: new Date().toISOString() } } } } },
    }));
  }

  async function k8sScale(input: ScaleInput): Promise<K8sActionResult> {
    if ((input.replicas === undefined) === (input.by === undefined)) {
      throw ApplicationFailure.create({ type: 'KubernetesBadInput', nonRetryable: true, message: 'scale needs exactly one of replicas or by' });
    }
    return workload(input, input, 'scale', (before) => {
      const current = before.spec && 'replicas' in before.spec ? (before.spec.replicas ?? 1) : 1;
      const target = input.replicas ?? current + (input.by ?? 0);
      if (target < input.min || target > input.max) {
        throw ApplicationFailure.create({
          type: 'KubernetesScaleOutOfBounds',
          nonRetryable: true,
          message: `scale ${input.kind} ${ns(input.namespace)}/${input.name} to ${target} refused: outside the playbook's bounds [${input.min}, ${input.max}] (currently ${current})`,
          details: [{ current, target, min: input.min, max: input.max }],
        });
      }
      if (target === current) return { noop: `already at ${current} replicas` };
      return { merge: { spec: { replicas: target } } };
    });
  }

  /** `kubectl rollout undo`: the pod template of the ReplicaSet at the previous revision (or
   * toRevision) becomes the Deployment's template again. */
  async function k8sRollback(input: RollbackInput): Promise<K8sActionResult> {
    const namespace = ns(input.namespace);
    const ref: WorkloadRef = { kind: 'Deployment', namespace, name: input.name };
    const deployment = (await readWorkload('Deployment', namespace, input.name)) as V1Deployment;
    const uid = deployment.metadata?.uid;
    // A retried attempt whose patch got through: answered by the stamp in stampedPatch, before
    // the ReplicaSets (whose revisions have moved on) are looked at.
    const owned = !input.dryRun && ownStamp(deployment.metadata?.annotations, input.idempotencyKey)
      ? []
      : (await call(`list replicasets in ${namespace}`, () => c.apps.listNamespacedReplicaSet({ namespace }, opts()))).items.filter((rs) =>
          rs.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller),
        );
    const revisionOf = (rs: V1ReplicaSet): number => Number(rs.metadata?.annotations?.[REVISION] ?? NaN);
    return workload(ref, input, 'rollback', (before) => {
      const current = Number(before.metadata?.annotations?.[REVISION] ?? NaN);
      const candidates = owned.filter((rs) => Number.isFinite(revisionOf(rs)) && revisionOf(rs) !== current);
      const target =
        input.toRevision !== undefined
          ? candidates.find((rs) => revisionOf(rs) === input.toRevision)
          : candidates.filter((rs) => revisionOf(rs) < current).sort((a, b) => revisionOf(b) - revisionOf(a))[0];
      if (!target?.spec?.template) {
        const which = input.toRevision !== undefined ? `revision ${input.toRevision}` : `a revision before ${current}`;
        throw ApplicationFailure.create({
          type: 'KubernetesNoRevision',
          nonRetryable: true,
          message: `rollback Deployment ${namespace}/${input.name}: no ReplicaSet with ${which} (revisions: ${owned.map(revisionOf).sort((a, b) => a - b).join(', ') || 'none'})`,
        });
      }
      const template = withoutHashLabel(target.spec.template);
      const intended = { ...before, spec: { ...before.spec, template } };
      return { json: [{ op: 'replace', path: '/spec/template', value: template }], intended };
    });
  }

  /** Deletes one pod. The stamp goes on the pod first (same resourceVersion guard): it records the
   * intent on that very pod (its uid), and the delete that follows is preconditioned on the uid.
   * The stamp alone never counts as done: a retry that finds it on a pod that is not terminating
   * (the earlier attempt died between stamp and delete) deletes it now. Done means the stamped pod
   * is terminating, gone (404, or the uid precondition fails), or replaced by a pod of the same
   * name created after this step began (a StatefulSet's), which is left alone. */
  async function k8sDeletePod(input: DeletePodInput): Promise<K8sActionResult> {
    const started = Date.now();
    const namespace = ns(input.namespace);
    const object = `Pod ${namespace}/${input.name}`;
    const done = (summary: string, alreadyDone: boolean, before: unknown = null, after: unknown = null): K8sActionResult => ({
      summary: `${input.dryRun && !alreadyDone ? 'dry run: would ' : ''}${summary}`,
      durationMs: Date.now() - started,
      dryRun: input.dryRun,
      alreadyDone,
      object,
      changes: before === after ? [] : [{ path: 'pod', before, after }],
    });
    const pod = await callOrNotFound(`get ${object}`, () => c.core.readNamespacedPod({ namespace, name: input.name }, opts()));
    if (!pod) return done(`delete ${object}: already gone`, true);
    const phase = pod.status?.phase ?? 'Unknown';
    const stamped = !input.dryRun && ownStamp(pod.metadata?.annotations, input.idempotencyKey) !== undefined;
    if (stamped && pod.metadata?.deletionTimestamp) {
      return done(`delete ${object}: already deleted by an earlier attempt of this step (terminating since ${iso(pod.metadata.deletionTimestamp)}); not repeated`, true);
    }
    if (!stamped) {
      const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : 0;
      if (!input.dryRun && created > firstScheduledMs()) {
        return done(`delete ${object}: the pod was recreated at ${iso(pod.metadata?.creationTimestamp)}, after this step began; not deleting the replacement`, true);
      }
      if (pod.metadata?.deletionTimestamp) return done(`delete ${object}: already terminating since ${iso(pod.metadata.deletionTimestamp)}`, true);
    }
    const uid = pod.metadata?.uid;
    if (!input.dryRun && !stamped) {
      const stamp = stampAnnotations(input.idempotencyKey, 'delete-pod', [{ path: 'pod', before: phase, after: 'deleted' }]);
      await call(`patch ${object}`, () =>
        c.core.patchNamespacedPod(
          { namespace, name: input.name, body: { metadata: { resourceVersion: pod.metadata?.resourceVersion, annotations: stamp } } },
          opts('merge'),
        ),
      );
    }
    try {
      // With a body, the API server takes the options from it (a dryRun query parameter would be
      // ignored and the pod really deleted): dryRun goes in the body too.
      const body = { preconditions: { uid }, ...(input.dryRun ? { dryRun: ['All'] } : {}) };
      await c.core.deleteNamespacedPod({ namespace, name: input.name, ...dry(input.dryRun), body }, opts());
    } catch (err) {
      if (isNotFound(err)) return done(`delete ${object}: already gone`, true);
      // 409 on the uid precondition: the pod of that name is another one now; ours is gone.
      if (apiStatusOf(err)?.code === 409 && /precondition/i.test(apiStatusOf(err)?.status.message ?? '')) {
        return done(`delete ${object}: the pod this step meant (uid ${uid}) is gone; a pod of the same name replaced it and is left alone`, true);
      }
      throw k8sError(`delete ${object}`, err);
    }
    const resumed = stamped ? '; the stamp was written by an earlier attempt whose delete had not landed' : '';
    return done(`delete ${object} (${phase})${resumed}`, false, phase, 'deleted');
  }

  return { k8sRestart, k8sScale, k8sRollback, k8sDeletePod, readWorkload };
}

/** The ReplicaSet's template without the pod-template-hash label the controller added. */
function withoutHashLabel(t: V1PodTemplateSpec): V1PodTemplateSpec {
  const labels = { ...t.metadata?.labels };
  delete labels['pod-template-hash'];
  return { ...t, metadata: { ...t.metadata, labels } };
}

const iso = (d: Date | string | undefined): string => (d ? new Date(d).toISOString() : 'unknown');
