// The `kubernetes` step action and verification probe, seen from the workflow: templates rendered,
// one activity per operation. Deterministic code only.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { K8sActionResult, K8sCheck, UndoPlan } from '../activities/kubernetes.js';
import { toMs } from '../src/playbooks/duration.js';
import type { KubernetesAllow } from '../src/playbooks/allow-kubernetes.js';
import type { KubernetesParams, KubernetesProbe } from '../src/playbooks/kubernetes.js';
import type { Step } from '../src/playbooks/schema.js';
import {
  firstRefusal,
  isDns1123Label,
  isDns1123Subdomain,
  isTemplate,
  selectorProblem,
  stepRefs,
  targetRefs,
  type TargetRefusal,
} from '../src/policy/targets.js';
import { render, type TemplateContext } from '../src/playbooks/template.js';
import { governor, kubernetesProfile, probeProfile } from './profiles.js';
import { undoWorkflowId } from './contracts-undo.js';
import { undoWorkflow } from './undo.js';

type KubernetesStep = Extract<Step, { action: 'kubernetes' }>;

const r = (v: string | undefined, ctx: TemplateContext): string | undefined => (v === undefined ? undefined : render(v, ctx));

/** The params with every template rendered (names, namespaces, nodes). */
export function renderKubernetesParams(p: KubernetesParams, ctx: TemplateContext): KubernetesParams {
  const out: Record<string, unknown> = { ...p };
  for (const key of ['name', 'namespace', 'node'] as const) {
    if (key in p) out[key] = r((p as Record<string, string | undefined>)[key], ctx);
  }
  return out as KubernetesParams;
}

const where = (p: { namespace?: string | undefined; name: string }): string => (p.namespace ? `${p.namespace}/${p.name}` : p.name);

/** One line for the timeline and approval requests. */
export function describeKubernetes(params: KubernetesParams, ctx: TemplateContext): string {
  const p = renderKubernetesParams(params, ctx);
  switch (p.operation) {
    case 'restart':
      return `Kubernetes: rollout restart ${p.kind} ${where(p)}${gitopsNote(p)}`;
    case 'delete-pod':
      return `Kubernetes: delete Pod ${where(p)}`;
    case 'scale': {
      const to = p.replicas !== undefined ? `to ${p.replicas}` : `by ${p.by! > 0 ? '+' : ''}${p.by}`;
      return `Kubernetes: scale ${p.kind} ${where(p)} ${to} (bounds ${p.min}–${p.max})${gitopsNote(p)}`;
    }
    case 'rollback':
      return `Kubernetes: roll back Deployment ${where(p)} to ${p.toRevision !== undefined ? `revision ${p.toRevision}` : 'the previous revision'}${gitopsNote(p)}`;
    case 'cordon':
    case 'uncordon':
      return `Kubernetes: ${p.operation} Node ${p.node}`;
    case 'drain':
      return `Kubernetes: drain Node ${p.node}${p.force ? ' (force)' : ''}`;
    case 'rollout-pause':
      return `Argo Rollouts: pause Rollout ${where(p)}`;
    case 'rollout-abort':
      return `Argo Rollouts: abort Rollout ${where(p)}`;
    case 'shift-traffic':
      return `Istio: shift traffic on VirtualService ${where(p)}${p.route ? ` route ${p.route}` : ''} to ${p.weights.map((w) => `${w.host ?? ''}${w.subset ? `/${w.subset}` : ''}=${w.weight}`).join(', ')}${p.revertOnResolve ? ' (reverted when resolved)' : ''}`;
    case 'circuit-break':
      return `Istio: circuit breaker on DestinationRule ${where(p)}${p.outlierDetection ? ' (outlier detection)' : ''}${p.connectionPool ? ' (connection pool)' : ''}${p.revertOnResolve ? ' (reverted when resolved)' : ''}`;
  }
}

/** A workload action's GitOps mode, for the timeline line. */
const gitopsNote = (p: { gitops?: string | undefined }): string => (p.gitops ? ` [GitOps: ${p.gitops}]` : '');

/** Why this step may not run with the values this alert carries: every name, namespace and node
 * of its kubernetes params and probe, rendered, must be a valid Kubernetes name and (when it came
 * from a template) allow-listed by allow.kubernetes; system namespaces need the opt-in. */
export function kubernetesRefusal(step: Step, ctx: TemplateContext, allow: KubernetesAllow | undefined): TargetRefusal | undefined {
  for (const { at, kind, fields } of stepRefs(step)) {
    const rendered = { namespace: r(fields.namespace, ctx), name: r(fields.name, ctx), node: r(fields.node, ctx) };
    const refused = firstRefusal(targetRefs(at, kind, fields, rendered), allow);
    if (refused) return refused;
  }
  const probe = step.verification?.kubernetes;
  if (probe?.check === 'pods-ready' && isTemplate(probe.selector)) return selectorProblem('verification.kubernetes.selector', render(probe.selector, ctx));
  return undefined;
}

export const TARGET_REFUSED = 'KubernetesTargetRefused';

/** The failure a refused target fails its step with (nothing was called). */
export const targetRefused = (r: TargetRefusal): ApplicationFailure =>
  ApplicationFailure.create({ type: TARGET_REFUSED, nonRetryable: true, message: `target refused: ${r.message}`, details: [{ refusal: r }] });

/** The activities a kubernetes step may run: proxied in the workflow, called directly by simulate. */
export type KubernetesActs = Pick<
  Activities,
  | 'k8sRestart'
  | 'k8sDeletePod'
  | 'k8sScale'
  | 'k8sRollback'
  | 'k8sCordon'
  | 'k8sUncordon'
  | 'k8sDrain'
  | 'k8sRolloutPause'
  | 'k8sRolloutAbort'
  | 'k8sShiftTraffic'
  | 'k8sCircuitBreak'
>;

const gitopsOf = (p: { gitops?: 'suspend-then-act' | 'rollback-through-gitops' | 'refuse' | undefined; resumeAfter?: string | undefined }) =>
  p.gitops ? { gitops: p.gitops, resumeAfterMs: toMs(p.resumeAfter ?? '30m') } : {};

/** Runs the step's operation through `acts` with the rendered params (the one params → input mapping). */
export function callKubernetes(
  acts: KubernetesActs,
  step: KubernetesStep,
  ctx: TemplateContext,
  o: { idempotencyKey: string; dryRun: boolean },
  /** The playbook's allow-list: targets are checked before any call, and nodes against its
   * nodeSelector by the activity. Absent only when replaying histories from before it existed. */
  guard?: { allow: KubernetesAllow | undefined },
): Promise<K8sActionResult> {
  const refused = guard ? kubernetesRefusal(step, ctx, guard.allow) : undefined;
  if (refused) return Promise.reject(targetRefused(refused));
  const p = renderKubernetesParams(step.params, ctx);
  const selector = guard?.allow?.nodeSelector ? { nodeSelector: guard.allow.nodeSelector } : {};
  const common = { ...o, timeoutMs: toMs(step.timeout) };
  const ns = (x: { namespace?: string | undefined }) => (x.namespace ? { namespace: x.namespace } : {});
  switch (p.operation) {
    case 'restart':
      return acts.k8sRestart({ kind: p.kind, ...ns(p), name: p.name, ...gitopsOf(p), ...common });
    case 'delete-pod':
      return acts.k8sDeletePod({ ...ns(p), name: p.name, ...common });
    case 'scale':
      return acts.k8sScale({
        kind: p.kind,
        ...ns(p),
        name: p.name,
        ...(p.replicas !== undefined ? { replicas: p.replicas } : {}),
        ...(p.by !== undefined ? { by: p.by } : {}),
        min: p.min,
        max: p.max,
        ...gitopsOf(p),
        ...common,
      });
    case 'rollback':
      return acts.k8sRollback({ ...ns(p), name: p.name, ...(p.toRevision !== undefined ? { toRevision: p.toRevision } : {}), ...gitopsOf(p), ...common });
    case 'cordon':
      return acts.k8sCordon({ node: p.node, ...selector, ...common });
    case 'uncordon':
      return acts.k8sUncordon({ node: p.node, ...selector, ...common });
    case 'drain':
      return acts.k8sDrain({ node: p.node, force: p.force, ...(p.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: p.gracePeriodSeconds } : {}), ...selector, ...common });
    case 'rollout-pause':
      return acts.k8sRolloutPause({ ...ns(p), name: p.name, ...common });
    case 'rollout-abort':
      return acts.k8sRolloutAbort({ ...ns(p), name: p.name, ...common });
    case 'shift-traffic':
      return acts.k8sShiftTraffic({
        ...ns(p),
        name: p.name,
        ...(p.route ? { route: p.route } : {}),
        weights: p.weights.map((w) => ({ ...(w.host ? { host: w.host } : {}), ...(w.subset ? { subset: w.subset } : {}), weight: w.weight })),
        maxChange: p.maxChange,
        revertOnResolve: p.revertOnResolve,
        ...common,
      });
    case 'circuit-break':
      return acts.k8sCircuitBreak({
        ...ns(p),
        name: p.name,
        ...(p.outlierDetection ? { outlierDetection: p.outlierDetection } : {}),
        ...(p.connectionPool ? { connectionPool: p.connectionPool } : {}),
        maxEjectionPercent: p.maxEjectionPercent,
        revertOnResolve: p.revertOnResolve,
        ...common,
      });
  }
}

export async function runKubernetes(
  step: KubernetesStep,
  ctx: TemplateContext,
  o: { idempotencyKey: string; dryRun: boolean },
  allow?: KubernetesAllow,
  incidentId = '',
): Promise<{ summary: string; durationMs: number; data: Record<string, unknown> }> {
  const acts = proxyActivities<Activities>(kubernetesProfile(step, step.params.operation === 'drain'));
  let result: K8sActionResult;
  try {
    result = await callKubernetes(acts, step, ctx, o, { allow });
  } catch (err) {
    // A GitOps owner syncing right now is a deployment in progress: marked on the target, so the
    // next step (and other incidents on it) wait at the active-deployment gate.
    const sync = gitopsSyncRunning(err);
    if (sync && !o.dryRun) await markDeployment(ctx.target, `${sync} (seen by ${incidentId})`, `${o.idempotencyKey}:deployment`);
    throw err;
  }
  const { summary, durationMs, ...data } = result;
  // medic's own sync through the owner is a deployment too.
  if (data.gitops?.did.startsWith('rolled back') && !o.dryRun && !data.alreadyDone) {
    await markDeployment(ctx.target, `${data.gitops.owner}: medic's rollback sync (${incidentId})`, `${o.idempotencyKey}:deployment`);
  }
  const undo = data.undo && !o.dryRun ? await startUndo(o.idempotencyKey, data.undo, incidentId) : {};
  return { summary, durationMs, data: { ...data, ...undo } };
}

/** How long a GitOps sync counts as a deployment in progress on its target. */
export const GITOPS_SETTLE_MS = 5 * 60_000;

const markDeployment = (target: string, by: string, key: string): Promise<void> =>
  governor.governorSetDeployment({ target, until: Date.now() + GITOPS_SETTLE_MS, by: by.slice(0, 300), key });

/** "Argo CD Application argocd/shop syncing 9e8d7c6" from a GitopsSyncRunning failure. */
function gitopsSyncRunning(err: unknown): string | undefined {
  const cause = (err as { cause?: { type?: string; details?: unknown[] } }).cause;
  if (cause?.type !== 'GitopsSyncRunning') return undefined;
  const d = cause.details?.[0] as { owner?: { kind?: string; namespace?: string; name?: string }; sync?: { revision?: string } } | undefined;
  return `${d?.owner?.kind ?? 'GitOps owner'} ${d?.owner?.namespace ?? '?'}/${d?.owner?.name ?? '?'} syncing ${d?.sync?.revision ?? '?'}`;
}

/** Starts the durable undo of a change (workflows/undo.ts): detached, one per step try. */
async function startUndo(key: string, undo: UndoPlan, incidentId: string): Promise<{ undoWorkflowId: string }> {
  const workflowId = undoWorkflowId(key);
  try {
    await startChild(undoWorkflow, { workflowId, args: [{ incidentId, key, undo }], parentClosePolicy: ParentClosePolicy.ABANDON });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { undoWorkflowId: workflowId };
}

/** The probe with its templates rendered, as the k8sProbe activity takes it. */
export function kubernetesCheck(probe: KubernetesProbe, ctx: TemplateContext): K8sCheck {
  switch (probe.check) {
    case 'rollout-finished':
      return { check: probe.check, kind: probe.kind, ...(probe.namespace ? { namespace: render(probe.namespace, ctx) } : {}), name: render(probe.name, ctx) };
    case 'pods-ready':
      return { check: probe.check, ...(probe.namespace ? { namespace: render(probe.namespace, ctx) } : {}), selector: render(probe.selector, ctx), minReady: probe.minReady };
    case 'node-drained':
      return { check: probe.check, node: render(probe.node, ctx) };
  }
}

export const describeKubernetesCheck = (c: K8sCheck): string =>
  c.check === 'node-drained' ? `Node ${c.node} drained` : c.check === 'pods-ready' ? `pods ${c.selector} ready` : `${c.kind} ${where(c)} rollout finished`;

/** A rendered probe whose names are not Kubernetes names (the step's own check before acting
 * also applies the allow-list): nothing is asked, the round fails with the reason. */
export function probeNameProblem(c: K8sCheck): string | undefined {
  const at = 'verification.kubernetes';
  const bad = (field: string, v: string, rule: string) => `${at}.${field} value ${JSON.stringify(v.slice(0, 64))} is not a DNS-1123 ${rule}`;
  if (c.check === 'node-drained') return isDns1123Subdomain(c.node) ? undefined : bad('node', c.node, 'subdomain');
  if (c.namespace !== undefined && !isDns1123Label(c.namespace)) return bad('namespace', c.namespace, 'label');
  if (c.check === 'rollout-finished') return isDns1123Subdomain(c.name) ? undefined : bad('name', c.name, 'subdomain');
  return selectorProblem(`${at}.selector`, c.selector)?.message;
}

/** One verification round of a Kubernetes probe. */
export const kubernetesProbe = (check: K8sCheck): Promise<{ ok: boolean; evidence: string }> => {
  const problem = probeNameProblem(check);
  if (problem) return Promise.resolve({ ok: false, evidence: `probe refused: ${problem}` });
  return proxyActivities<Activities>(probeProfile(15_000)).k8sProbe({ check });
};
