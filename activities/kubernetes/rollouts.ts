// Argo Rollouts (CRD argoproj.io/v1alpha1 Rollout): pause and abort, as the kubectl-argo-rollouts
// plugin does them — pause merges spec.paused=true; abort merges status.abort=true through the
// status subresource, falling back to the main resource when the CRD has none.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { apiStatusOf, call, k8sError, requestOptions, type KubeClients } from './client.js';
import { describeChanges, diffObjects, ownStamp, stampAnnotations, type K8sActionResult } from './changes.js';
import { stampedPatch } from './stamped-patch.js';
import type { ActionCommon } from './workloads.js';

export interface RolloutInput extends ActionCommon {
  namespace?: string;
  name: string;
}

export interface Rollout {
  metadata?: V1ObjectMeta;
  spec?: { paused?: boolean } & Record<string, unknown>;
  status?: { abort?: boolean; phase?: string } & Record<string, unknown>;
}

const GVR = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

export function createRolloutActions(c: KubeClients, defaultNamespace: string, requestTimeoutMs: number) {
  const opts = (patch?: 'merge' | 'json') => requestOptions(requestTimeoutMs, patch);
  const dry = (dryRun: boolean) => (dryRun ? { dryRun: 'All' } : {});
  const ref = (input: RolloutInput) => ({ ...GVR, namespace: input.namespace || defaultNamespace, name: input.name });
  const label = (input: RolloutInput) => `Rollout ${input.namespace || defaultNamespace}/${input.name}`;
  const read = (input: RolloutInput): Promise<Rollout> =>
    call(`get ${label(input)}`, () => c.custom.getNamespacedCustomObject(ref(input), opts()) as Promise<Rollout>);

  const k8sRolloutPause = (input: RolloutInput): Promise<K8sActionResult> =>
    stampedPatch<Rollout>({
      op: 'pause',
      object: label(input),
      idempotencyKey: input.idempotencyKey,
      dryRun: input.dryRun,
      roots: [['spec', 'paused']],
      read: () => read(input),
      patch: (body, _type, dryRun) => c.custom.patchNamespacedCustomObject({ ...ref(input), body, ...dry(dryRun) }, opts('merge')) as Promise<Rollout>,
      plan: (r) => (r.spec?.paused ? { noop: 'already paused' } : { merge: { spec: { paused: true } } }),
    });

  /** The status subresource ignores metadata, so the stamp is a second patch, sent only after the
   * abort landed: a crash in between leaves status.abort=true, which the retry sees as done. */
  async function k8sRolloutAbort(input: RolloutInput): Promise<K8sActionResult> {
    const started = Date.now();
    const object = label(input);
    const before = await read(input);
    const base = { dryRun: input.dryRun, object };
    const earlier = ownStamp(before.metadata?.annotations, input.idempotencyKey);
    if (earlier && !input.dryRun) {
      return { ...base, alreadyDone: true, durationMs: Date.now() - started, changes: earlier.changes, summary: `abort ${object}: already done by an earlier attempt of this step at ${earlier.at}; not repeated` };
    }
    if (before.status?.abort === true) {
      return { ...base, alreadyDone: true, durationMs: Date.now() - started, changes: [], summary: `abort ${object}: already aborted; nothing to do` };
    }
    const body = { status: { abort: true } };
    let after: Rollout;
    try {
      after = (await c.custom.patchNamespacedCustomObjectStatus({ ...ref(input), body, ...dry(input.dryRun) }, opts('merge'))) as Rollout;
    } catch (err) {
      if (apiStatusOf(err)?.code !== 404) throw k8sError(`patch ${object}/status`, err);
      after = await call(`patch ${object}`, () => c.custom.patchNamespacedCustomObject({ ...ref(input), body, ...dry(input.dryRun) }, opts('merge')) as Promise<Rollout>);
    }
    const changes = diffObjects(before, after, [['status', 'abort']]);
    if (!input.dryRun) {
      const stamp = stampAnnotations(input.idempotencyKey, 'abort', changes);
      await call(`patch ${object}`, () => c.custom.patchNamespacedCustomObject({ ...ref(input), body: { metadata: { annotations: stamp } } }, opts('merge')));
    }
    return { ...base, alreadyDone: false, durationMs: Date.now() - started, changes, summary: `${input.dryRun ? 'dry run: would ' : ''}abort ${object}: ${describeChanges(changes)}` };
  }

  return { k8sRolloutPause, k8sRolloutAbort };
}
