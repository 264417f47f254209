// Kubernetes actuator: restart, delete pod, scale (bounded), roll back, cordon, drain (Eviction
// API, PodDisruptionBudgets respected), uncordon, Argo Rollouts pause/abort, and read-only
// verification probes. A factory over injected API clients (built once by the worker from a
// kubeconfig or the in-cluster service account; in tests, a ServiceAccount bound to the shipped
// deploy/kubernetes/rbac.yaml).
//
// Every mutating action stamps the object with the workflow's idempotency key (incident + step +
// the workflow's try) in the same patch, so a retried activity sees its stamp and does not act
// twice. Two cannot: delete-pod stamps first and counts only a terminating or gone pod as done
// (a stamp alone means the delete still has to be sent); rollout-abort aborts first and stamps
// after (status.abort=true is itself the proof). A dry run is the API server's own (dryRun=All);
// each returns what it changed.
import { ApplicationFailure } from '@temporalio/activity';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeClientsFrom, type KubeClients } from './kubernetes/client.js';
import { createNodeActions } from './kubernetes/nodes.js';
import { createProbes } from './kubernetes/probes.js';
import { createRolloutActions } from './kubernetes/rollouts.js';
import { createWorkloadActions, type WorkloadKind } from './kubernetes/workloads.js';
import { createGitopsActions, type GitopsMode } from './kubernetes/gitops.js';
import { createTrafficActions } from './kubernetes/traffic.js';
import type { ActionCommon } from './kubernetes/workloads.js';
import type { K8sActionResult, UndoSpec } from './kubernetes/changes.js';

export type { K8sActionResult, K8sChange, UndoPlan, UndoSpec } from './kubernetes/changes.js';
export type { K8sCheck, K8sProbeResult } from './kubernetes/probes.js';
export { STAMP, STAMP_DETAIL } from './kubernetes/changes.js';
export { kubeClientsFrom, type KubeClients } from './kubernetes/client.js';

export interface KubernetesDeps {
  clients: KubeClients;
  /** Namespace for steps that name none. */
  namespace: string;
  /** Deadline of one API request (default 15 s). */
  requestTimeoutMs?: number;
  /** Where Argo CD's Applications live (default "argocd"): a tracking id or instance label
   * without a namespace names an Application there. */
  argocdNamespace?: string;
  /** Drain: first wait between eviction rounds and its cap (backoff doubles in between). */
  pollMs?: { initial: number; max: number };
}

/** The credential medic acts with: the pod's ServiceAccount (in cluster), a kubeconfig file, or
 * the default chain ($KUBECONFIG, ~/.kube/config). */
export function loadKubeConfig(o: { kubeconfig?: string | undefined; inCluster?: boolean | undefined }): KubeConfig {
  const kc = new KubeConfig();
  if (o.inCluster) kc.loadFromCluster();
  else if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

/** Deps from a KubeConfig; the namespace defaults to the current context's, else "default". */
export function kubernetesDeps(kc: KubeConfig, namespace?: string): KubernetesDeps {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return { clients: kubeClientsFrom(kc), namespace: namespace ?? ctx?.namespace ?? 'default' };
}

/** A workload action's GitOps option (playbook `gitops`, `resumeAfter`). */
export interface GitopsInput {
  gitops?: GitopsMode;
  resumeAfterMs?: number;
}

function build(deps: KubernetesDeps) {
  const timeout = deps.requestTimeoutMs ?? 15_000;
  const w = createWorkloadActions(deps.clients, deps.namespace, timeout);
  const g = createGitopsActions(deps.clients, timeout, deps.argocdNamespace ?? 'argocd');
  const t = createTrafficActions(deps.clients, deps.namespace, timeout);
  /** Looks for the workload's GitOps owner first when the playbook asks (activities/kubernetes/gitops.ts). */
  const owned = async <I extends ActionCommon & GitopsInput & { namespace?: string; name: string }>(
    kind: WorkloadKind,
    input: I,
    act: ((i: I) => Promise<K8sActionResult>) | undefined,
    verb: string,
  ): Promise<K8sActionResult> => {
    if (!input.gitops) return act!(input);
    const ns = input.namespace || deps.namespace;
    const what = `${verb} ${kind} ${ns}/${input.name}`;
    const meta = (await w.readWorkload(kind, ns, input.name)).metadata;
    const ms = input.resumeAfterMs;
    const resumeAfter = ms === undefined ? undefined : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
    const reason = `medic: ${what} (incident ${input.idempotencyKey.replace(/:step-\d+:try-\d+$/, '')})`;
    return g.withGitops(what, meta, { ...input, gitops: input.gitops, reason, ...(resumeAfter ? { resumeAfter } : {}) }, act && (() => act(input)));
  };
  return {
    ...w,
    k8sRestart: (i: Parameters<typeof w.k8sRestart>[0] & GitopsInput) => owned(i.kind, i, w.k8sRestart, 'restart'),
    k8sScale: (i: Parameters<typeof w.k8sScale>[0] & GitopsInput) => owned(i.kind, i, w.k8sScale, 'scale'),
    k8sRollback: (i: Parameters<typeof w.k8sRollback>[0] & GitopsInput) =>
      owned('Deployment', i, i.gitops === 'rollback-through-gitops' ? undefined : w.k8sRollback, 'roll back'),
    ...createNodeActions(deps.clients, timeout, deps.pollMs ?? { initial: 1_000, max: 5_000 }),
    ...createRolloutActions(deps.clients, deps.namespace, timeout),
    k8sShiftTraffic: t.k8sShiftTraffic,
    k8sCircuitBreak: t.k8sCircuitBreak,
    /** Puts back what an earlier action changed (the undo workflow calls it). */
    k8sUndo: (i: ActionCommon & { undo: UndoSpec }): Promise<K8sActionResult> =>
      i.undo.kind === 'gitops-resume' ? g.k8sGitopsResume(i.undo, i) : t.revertTraffic(i.undo, i),
    ...createProbes(deps.clients, deps.namespace, timeout),
  };
}

/** The Kubernetes activities the worker registers (build's other functions are internal). */
const ACTIVITY_NAMES = [
  'k8sRestart', 'k8sScale', 'k8sRollback', 'k8sDeletePod', 'k8sCordon', 'k8sUncordon', 'k8sDrain',
  'k8sRolloutPause', 'k8sRolloutAbort', 'k8sShiftTraffic', 'k8sCircuitBreak', 'k8sUndo', 'k8sProbe',
] as const;
type ActivityName = (typeof ACTIVITY_NAMES)[number];

export function createKubernetesActivities(deps: KubernetesDeps | undefined) {
  const acts = deps ? build(deps) : undefined;
  const need = () => {
    if (!acts) {
      throw ApplicationFailure.create({
        type: 'KubernetesNotConfigured',
        nonRetryable: true,
        message: 'Kubernetes is not configured for this worker (set MEDIC_KUBECONFIG or MEDIC_KUBERNETES_IN_CLUSTER=true)',
      });
    }
    return acts;
  };
  // Each activity checks for a configured cluster first; typed as build's own function.
  return Object.fromEntries(ACTIVITY_NAMES.map((n) => [n, async (i: never) => (need()[n] as (i: never) => Promise<unknown>)(i)])) as Pick<ReturnType<typeof build>, ActivityName>;
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
