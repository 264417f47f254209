// Node actions: cordon, uncordon, and drain through the Eviction API (policy/v1), which lets
// PodDisruptionBudgets refuse an eviction (429) — those pods are retried until the deadline.
import { ApplicationFailure } from '@temporalio/activity';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { apiStatusOf, call, k8sError, requestOptions, type KubeClients } from './client.js';
import { heartbeat, sleep, type K8sActionResult } from './changes.js';
import { stampedPatch, type Plan } from './stamped-patch.js';
import type { ActionCommon } from './workloads.js';
import type { NodeSelector } from '../../src/playbooks/allow-kubernetes.js';
import { describeSelector, selectorMatches } from '../../src/policy/targets.js';

export interface NodeInput extends ActionCommon {
  node: string;
  /** The playbook's allow.kubernetes.nodeSelector: a Node whose live labels do not match is
   * refused before anything is written. */
  nodeSelector?: NodeSelector;
}

export interface DrainInput extends NodeInput {
  /** Also evict pods no controller will recreate (like `kubectl drain --force`). */
  force?: boolean;
  /** Overrides each pod's terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number;
}

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

const podName = (p: V1Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;
const controllerOf = (p: V1Pod) => p.metadata?.ownerReferences?.find((o) => o.controller);

/** Why drain leaves a pod alone, or undefined when it must be evicted. */
export function skipReason(p: V1Pod): string | undefined {
  if (p.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) return 'mirror pod';
  if (controllerOf(p)?.kind === 'DaemonSet') return 'DaemonSet-managed';
  if (p.metadata?.deletionTimestamp) return 'already terminating';
  return undefined;
}

/** The API server omits spec.unschedulable when false: show it as false, not null. */
function schedulable(r: K8sActionResult): K8sActionResult {
  const changes = r.changes.map((c) => (c.path === 'spec.unschedulable' ? { ...c, before: c.before ?? false, after: c.after ?? false } : c));
  return { ...r, changes, summary: r.summary.replace(/spec\.unschedulable null → true/, 'spec.unschedulable false → true').replace(/spec\.unschedulable true → null/, 'spec.unschedulable true → false') };
}

export function createNodeActions(c: KubeClients, requestTimeoutMs: number, pollMs: { initial: number; max: number }) {
  const opts = (patch?: 'merge' | 'json') => requestOptions(requestTimeoutMs, patch);
  const dry = (dryRun: boolean) => (dryRun ? { dryRun: 'All' } : {});

  /** Refuses a Node outside the playbook's node selector (read in the same request the patch is
   * guarded by: the patch carries that resourceVersion, so a relabel in between makes it re-read). */
  const admitted = (input: NodeInput, n: V1Node): void => {
    if (!input.nodeSelector || selectorMatches(input.nodeSelector, n.metadata?.labels ?? {})) return;
    const labels = Object.entries(n.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    throw ApplicationFailure.create({
      type: 'KubernetesTargetRefused',
      nonRetryable: true,
      message: `target refused: node ${JSON.stringify(input.node)} does not match allow.kubernetes.nodeSelector ${describeSelector(input.nodeSelector)} (its labels: ${labels.slice(0, 300) || 'none'}); nothing changed`,
      details: [{ refusal: { path: 'params.node', value: input.node, rule: `does not match allow.kubernetes.nodeSelector ${describeSelector(input.nodeSelector)}` } }],
    });
  };

  const nodePatch = (input: NodeInput, op: string, plan: (before: V1Node) => Plan) =>
    stampedPatch<V1Node>({
      op,
      object: `Node ${input.node}`,
      idempotencyKey: input.idempotencyKey,
      dryRun: input.dryRun,
      roots: [['spec']],
      read: () => call(`get Node ${input.node}`, () => c.core.readNode({ name: input.node }, opts())),
      patch: (body, type, dryRun) => c.core.patchNode({ name: input.node, body, ...dry(dryRun) }, opts(type)),
      plan: (before) => {
        admitted(input, before);
        return plan(before);
      },
    });

  const k8sCordon = async (input: NodeInput): Promise<K8sActionResult> =>
    schedulable(await nodePatch(input, 'cordon', (n) => (n.spec?.unschedulable ? { noop: 'already cordoned' } : { merge: { spec: { unschedulable: true } } })));

  const k8sUncordon = async (input: NodeInput): Promise<K8sActionResult> =>
    schedulable(await nodePatch(input, 'uncordon', (n) => (n.spec?.unschedulable ? { merge: { spec: { unschedulable: false } } } : { noop: 'not cordoned' })));

  async function podsOn(node: string): Promise<V1Pod[]> {
    const list = await call(`list pods on Node ${node}`, () => c.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }, opts()));
    return list.items;
  }

  /** One eviction: 'evicted', 'gone' (404), or the PodDisruptionBudget's refusal (429). */
  async function evict(p: V1Pod, input: DrainInput): Promise<{ outcome: 'evicted' | 'gone' } | { outcome: 'blocked'; why: string }> {
    const name = p.metadata?.name ?? '';
    const namespace = p.metadata?.namespace ?? '';
    try {
      await c.core.createNamespacedPodEviction(
        {
          name,
          namespace,
          ...dry(input.dryRun),
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name, namespace },
            // The delete the eviction makes carries the dry run too, explicitly.
            deleteOptions: {
              ...(input.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: input.gracePeriodSeconds } : {}),
              ...(input.dryRun ? { dryRun: ['All'] } : {}),
            },
          },
        },
        opts(),
      );
      return { outcome: 'evicted' };
    } catch (err) {
      const api = apiStatusOf(err);
      if (api?.code === 404) return { outcome: 'gone' };
      if (api?.code === 429) {
        const cause = api.status.details?.causes?.find((x) => x.message)?.message;
        return { outcome: 'blocked', why: cause ?? api.status.message ?? 'too many requests' };
      }
      throw k8sError(`create pods/eviction ${namespace}/${name}`, err);
    }
  }

  /** `kubectl drain`: cordon, then evict every pod on the node except DaemonSet-managed and mirror
   * pods. Evictions a PodDisruptionBudget refuses are retried with backoff until the deadline
   * (timeoutMs), then the drain fails naming the pods and budgets. Safe to repeat: the cordon is
   * stamped, and evicting an evicted pod finds it terminating or gone. */
  async function k8sDrain(input: DrainInput): Promise<K8sActionResult> {
    const started = Date.now();
    const deadline = started + input.timeoutMs;
    const cordon = await k8sCordon(input);
    const pods = await podsOn(input.node);
    const skipped = pods.flatMap((p) => {
      const why = skipReason(p);
      return why ? [`${podName(p)} (${why})`] : [];
    });
    let pending = pods.filter((p) => skipReason(p) === undefined);
    const unmanaged = pending.filter((p) => !controllerOf(p));
    if (unmanaged.length > 0 && !input.force) {
      throw ApplicationFailure.create({
        type: 'KubernetesDrainRefused',
        nonRetryable: true,
        message: `drain Node ${input.node}: ${unmanaged.length} pod(s) not managed by a controller would be lost: ${unmanaged.map(podName).join(', ')} (set force: true to evict them anyway)`,
      });
    }
    const evicted: string[] = [];
    let delay = pollMs.initial;
    for (;;) {
      const blocked: string[] = [];
      const still: V1Pod[] = [];
      for (const p of pending) {
        heartbeat({ evicted: evicted.length, pending: pending.length });
        const r = await evict(p, input);
        if (r.outcome === 'blocked') {
          blocked.push(`${podName(p)} (${r.why})`);
          still.push(p);
        } else evicted.push(`${podName(p)}${r.outcome === 'gone' ? ' (already gone)' : ''}`);
      }
      pending = still;
      const base = { durationMs: Date.now() - started, dryRun: input.dryRun, object: `Node ${input.node}`, changes: cordon.changes, evicted, skipped };
      if (pending.length === 0 || input.dryRun) {
        const verb = input.dryRun ? 'dry run: would drain' : 'drain';
        const blockedText = blocked.length > 0 ? `; blocked by a PodDisruptionBudget: ${blocked.join(', ')}` : '';
        return {
          ...base,
          alreadyDone: cordon.alreadyDone && evicted.length === 0,
          summary: `${verb} Node ${input.node}: ${cordon.changes.length > 0 ? 'cordoned' : 'was cordoned'}; evicted ${evicted.length} pod(s)${skipped.length > 0 ? `, left ${skipped.length} (${skipped.join(', ')})` : ''}${blockedText}`,
        };
      }
      if (Date.now() + delay > deadline) {
        throw ApplicationFailure.create({
          type: 'KubernetesDrainTimeout',
          nonRetryable: true,
          message: `drain Node ${input.node}: ${pending.length} pod(s) still blocked by a PodDisruptionBudget after ${Math.round((Date.now() - started) / 1000)}s: ${blocked.join(', ')} (evicted ${evicted.length}; the node stays cordoned)`,
          details: [{ ...base, blocked }],
        });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, pollMs.max);
    }
  }

  return { k8sCordon, k8sUncordon, k8sDrain };
}
