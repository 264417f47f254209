// Verification probes over the Kubernetes API (read-only): a rollout finished, pods ready, a node
// drained. Each answers ok + one line of evidence for the timeline; the workflow's verification
// loop runs them until they hold for the window.
import type { V1DaemonSet, V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { call, requestOptions, type KubeClients } from './client.js';
import { skipReason } from './nodes.js';
import type { WorkloadKind } from './workloads.js';

export type K8sCheck =
  | { check: 'rollout-finished'; kind: WorkloadKind; namespace?: string; name: string }
  | { check: 'pods-ready'; namespace?: string; selector: string; minReady: number }
  | { check: 'node-drained'; node: string };

export interface K8sProbeResult {
  ok: boolean;
  evidence: string;
}

/** `kubectl rollout status` for a Deployment: the controller saw the latest spec, every replica
 * runs the new template, no old replicas linger, and all new ones are available. */
export function deploymentRollout(d: V1Deployment): K8sProbeResult {
  const want = d.spec?.replicas ?? 1;
  const st = d.status ?? {};
  const where = `Deployment ${d.metadata?.namespace}/${d.metadata?.name}`;
  const counts = `${st.updatedReplicas ?? 0} updated, ${st.availableReplicas ?? 0} available, ${st.replicas ?? 0} total of ${want}`;
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return { ok: false, evidence: `${where}: waiting for the controller to observe generation ${d.metadata?.generation}` };
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { ok: false, evidence: `${where}: rollout exceeded its progress deadline (${counts})` };
  const ok = (st.updatedReplicas ?? 0) === want && (st.replicas ?? 0) === want && (st.availableReplicas ?? 0) === want;
  return { ok, evidence: `${where}: ${ok ? 'rollout finished' : 'rollout in progress'} (${counts})` };
}

export function statefulSetRollout(s: V1StatefulSet): K8sProbeResult {
  const want = s.spec?.replicas ?? 1;
  const st = s.status ?? { replicas: 0 };
  const where = `StatefulSet ${s.metadata?.namespace}/${s.metadata?.name}`;
  if ((st.observedGeneration ?? 0) < (s.metadata?.generation ?? 0)) return { ok: false, evidence: `${where}: waiting for the controller to observe generation ${s.metadata?.generation}` };
  const counts = `${st.updatedReplicas ?? 0} updated, ${st.readyReplicas ?? 0} ready, ${st.availableReplicas ?? 0} available of ${want}`;
  const ok = (st.updatedReplicas ?? 0) === want && (st.readyReplicas ?? 0) === want && (st.availableReplicas ?? 0) === want && st.currentRevision === st.updateRevision;
  return { ok, evidence: `${where}: ${ok ? 'rollout finished' : 'rollout in progress'} (${counts})` };
}

export function daemonSetRollout(ds: V1DaemonSet): K8sProbeResult {
  const st = ds.status ?? { desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
  const where = `DaemonSet ${ds.metadata?.namespace}/${ds.metadata?.name}`;
  if ((st.observedGeneration ?? 0) < (ds.metadata?.generation ?? 0)) return { ok: false, evidence: `${where}: waiting for the controller to observe generation ${ds.metadata?.generation}` };
  const want = st.desiredNumberScheduled;
  const ok = (st.updatedNumberScheduled ?? 0) === want && (st.numberAvailable ?? 0) === want;
  return { ok, evidence: `${where}: ${ok ? 'rollout finished' : 'rollout in progress'} (${st.updatedNumberScheduled ?? 0} updated, ${st.numberAvailable ?? 0} available of ${want})` };
}

export const podReady = (p: V1Pod): boolean => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export function createProbes(c: KubeClients, defaultNamespace: string, requestTimeoutMs: number) {
  const opts = () => requestOptions(requestTimeoutMs);

  async function rolloutFinished(kind: WorkloadKind, namespace: string, name: string): Promise<K8sProbeResult> {
    const p = { namespace, name };
    const what = `get ${kind} ${namespace}/${name}`;
    if (kind === 'Deployment') return deploymentRollout(await call(what, () => c.apps.readNamespacedDeployment(p, opts())));
    if (kind === 'StatefulSet') return statefulSetRollout(await call(what, () => c.apps.readNamespacedStatefulSet(p, opts())));
    return daemonSetRollout(await call(what, () => c.apps.readNamespacedDaemonSet(p, opts())));
  }

  async function podsReady(namespace: string, selector: string, minReady: number): Promise<K8sProbeResult> {
    const pods = (await call(`list pods in ${namespace}`, () => c.core.listNamespacedPod({ namespace, labelSelector: selector }, opts()))).items;
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
    const notReady = live.filter((p) => !podReady(p)).map((p) => `${p.metadata?.name} (${p.status?.phase ?? 'Unknown'})`);
    const ready = live.length - notReady.length;
    const ok = ready >= minReady && notReady.length === 0;
    return { ok, evidence: `pods ${namespace}/${selector}: ${ready}/${live.length} ready (need ≥ ${minReady})${notReady.length > 0 ? `; not ready: ${notReady.slice(0, 5).join(', ')}` : ''}` };
  }

  async function nodeDrained(node: string): Promise<K8sProbeResult> {
    const pods = (await call(`list pods on Node ${node}`, () => c.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }, opts()))).items;
    // Terminating pods still count: a drain is done when they are gone.
    const left = pods.filter((p) => skipReason(p) === undefined || skipReason(p) === 'already terminating');
    const names = left.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}${p.metadata?.deletionTimestamp ? ' (terminating)' : ''}`);
    return { ok: left.length === 0, evidence: `Node ${node}: ${left.length === 0 ? 'drained' : `${left.length} pod(s) left: ${names.slice(0, 5).join(', ')}`}` };
  }

  /** A probe that cannot read its object (gone, forbidden, API down) is a failing probe, not a
   * failed workflow: the verification loop asks again until its deadline. */
  async function k8sProbe(input: { check: K8sCheck }): Promise<K8sProbeResult> {
    const ch = input.check;
    try {
      if (ch.check === 'rollout-finished') return await rolloutFinished(ch.kind, ch.namespace || defaultNamespace, ch.name);
      if (ch.check === 'pods-ready') return await podsReady(ch.namespace || defaultNamespace, ch.selector, ch.minReady);
      return await nodeDrained(ch.node);
    } catch (err) {
      return { ok: false, evidence: err instanceof Error ? err.message : String(err) };
    }
  }

  return { k8sProbe };
}
