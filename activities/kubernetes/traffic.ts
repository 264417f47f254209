// Network remediations on Istio's CRDs: shift-traffic (VirtualService route weights) and
// circuit-break (DestinationRule outlier detection / connection pool), stamped and dry-run like
// every Kubernetes action (stamped-patch.ts). Istio's data plane (Envoy) is not involved: the
// API objects are the contract. When an Argo Rollout manages the VirtualService (its
// trafficRouting names it) the Rollout controller would overwrite medic's weights, so "all traffic
// back to stable" becomes a Rollout abort and any other split is refused.
import { ApplicationFailure } from '@temporalio/activity';
import type { K8sActionResult } from './changes.js';
import { customClient, GVR, stampedCustomPatch, type CustomObject } from './custom.js';
import type { KubeClients } from './client.js';
import { createRolloutActions } from './rollouts.js';
import type { JsonPatchOp, Plan } from './stamped-patch.js';
import type { ActionCommon } from './workloads.js';

/** A destination's weight; without a host it names the destination by subset alone. */
export interface Weight {
  host?: string;
  subset?: string;
  weight: number;
}

export interface ShiftTrafficInput extends ActionCommon {
  namespace?: string;
  /** The VirtualService. */
  name: string;
  route?: string;
  weights: Weight[];
  maxChange: number;
  revertOnResolve?: boolean;
}

export interface CircuitBreakInput extends ActionCommon {
  namespace?: string;
  /** The DestinationRule. */
  name: string;
  outlierDetection?: Record<string, unknown>;
  connectionPool?: Record<string, unknown>;
  maxEjectionPercent: number;
  revertOnResolve?: boolean;
}

/** What puts a traffic change back (the undo workflow runs it when the incident resolves). */
export type TrafficUndo =
  | { kind: 'traffic-weights'; namespace: string; name: string; route?: string; weights: Weight[] }
  | { kind: 'traffic-policy'; namespace: string; name: string; trafficPolicy: Record<string, unknown> | null };

const refused = (type: string, message: string, field: string): ApplicationFailure =>
  ApplicationFailure.create({ type, nonRetryable: true, message: `${message}; nothing was changed`, details: [{ field }] });

interface Destination {
  destination?: { host?: string; subset?: string };
  weight?: number;
}
interface HttpRoute {
  name?: string;
  route?: Destination[];
}

const key = (host: string | undefined, subset: string | undefined): string => `${host ?? '*'}/${subset ?? ''}`;
/** Does the requested weight name this destination (host and subset, or subset alone)? */
const names = (w: Weight, d: Weight): boolean => (w.host === undefined ? w.subset !== undefined && w.subset === d.subset : w.host === d.host && w.subset === d.subset);

/** The JSON patch turning the route's weights into `weights`, or why it may not. Pure. */
export function weightPlan(
  spec: Record<string, unknown> | undefined,
  o: { route?: string | undefined; weights: Weight[]; maxChange: number },
): { problem: string; field: string } | { index: number; before: Weight[]; after: number[]; ops: JsonPatchOp[] } {
  const sum = o.weights.reduce((a, w) => a + w.weight, 0);
  const bad = o.weights.findIndex((w) => !Number.isInteger(w.weight) || w.weight < 0 || w.weight > 100);
  if (bad >= 0) return { problem: `params.weights[${bad}].weight ${o.weights[bad]!.weight} is outside 0–100`, field: `params.weights[${bad}].weight` };
  if (sum !== 100) return { problem: `params.weights sum to ${sum}, not 100`, field: 'params.weights' };
  const routes = (Array.isArray(spec?.http) ? spec.http : []) as HttpRoute[];
  const index = o.route !== undefined ? routes.findIndex((r) => r.name === o.route) : routes.length === 1 ? 0 : -1;
  if (index < 0) {
    const names = routes.map((r) => r.name ?? '(unnamed)').join(', ') || 'none';
    const problem = o.route !== undefined ? `params.route ${JSON.stringify(o.route)} is not an http route of the VirtualService (http routes: ${names})` : `params.route is needed: the VirtualService has ${routes.length} http routes (${names})`;
    return { problem, field: 'params.route' };
  }
  const dests = routes[index]!.route ?? [];
  const before: Weight[] = dests.map((d) => ({
    host: d.destination?.host ?? '',
    ...(d.destination?.subset ? { subset: d.destination.subset } : {}),
    weight: d.weight ?? (dests.length === 1 ? 100 : 0),
  }));
  const unknown = o.weights.findIndex((w) => before.filter((b) => names(w, b)).length !== 1);
  if (unknown >= 0) {
    const w = o.weights[unknown]!;
    const n = before.filter((b) => names(w, b)).length;
    return {
      problem: `params.weights[${unknown}] ${key(w.host, w.subset)} ${n === 0 ? 'is not a destination' : `names ${n} destinations`} of http route ${index} (destinations: ${before.map((b) => key(b.host, b.subset)).join(', ')})`,
      field: `params.weights[${unknown}].${w.host === undefined ? 'subset' : 'host'}`,
    };
  }
  const missing = before.find((b) => !o.weights.some((w) => names(w, b)));
  if (missing) return { problem: `params.weights names no weight for destination ${key(missing.host, missing.subset)} of http route ${index}: every destination needs one`, field: 'params.weights' };
  const ops: JsonPatchOp[] = [];
  const after = before.map((b) => o.weights.find((w) => names(w, b))!.weight);
  for (const [j, b] of before.entries()) {
    const next = after[j]!;
    if (Math.abs(next - b.weight) > o.maxChange) {
      return { problem: `moving ${key(b.host, b.subset)} from ${b.weight} to ${next} exceeds params.maxChange ${o.maxChange}`, field: 'params.maxChange' };
    }
    if (next !== b.weight || dests[j]!.weight === undefined) ops.push({ op: 'add', path: `/spec/http/${index}/route/${j}/weight`, value: next });
  }
  return { index, before, after, ops };
}

/** The Rollout whose canary trafficRouting names this VirtualService, if any. */
export function rolloutOwning(rollouts: CustomObject[], vs: string): CustomObject | undefined {
  return rollouts.find((r) => {
    const istio = (r.spec as { strategy?: { canary?: { trafficRouting?: { istio?: { virtualService?: { name?: string }; virtualServices?: { name?: string }[] } } } } } | undefined)?.strategy?.canary?.trafficRouting?.istio;
    return istio?.virtualService?.name === vs || (istio?.virtualServices ?? []).some((v) => v.name === vs);
  });
}

export function createTrafficActions(c: KubeClients, defaultNamespace: string, requestTimeoutMs: number) {
  const api = customClient(c, requestTimeoutMs);
  const rollouts = createRolloutActions(c, defaultNamespace, requestTimeoutMs);

  async function shiftWeights(input: Omit<ShiftTrafficInput, 'maxChange'> & { maxChange: number }, op: string): Promise<K8sActionResult & { before?: Weight[] }> {
    const namespace = input.namespace || defaultNamespace;
    let before: Weight[] | undefined;
    const r = await stampedCustomPatch(api, { g: GVR.virtualService, namespace, name: input.name, field: 'params.name' }, {
      op,
      idempotencyKey: input.idempotencyKey,
      dryRun: input.dryRun,
      roots: [['spec', 'http']],
      plan: (vs): Plan => {
        const p = weightPlan(vs.spec, input);
        if ('problem' in p) throw refused('TrafficShiftRefused', `shift-traffic VirtualService ${namespace}/${input.name}: ${p.problem}`, p.field);
        before = p.before;
        if (p.ops.length === 0) return { noop: `weights already ${p.before.map((w) => `${key(w.host, w.subset)}=${w.weight}`).join(', ')}` };
        const intended = structuredClone(vs);
        (intended.spec!.http as HttpRoute[])[p.index]!.route!.forEach((d, j) => void (d.weight = p.after[j]));
        return { json: p.ops, intended };
      },
    });
    return { ...r, ...(before ? { before } : {}) };
  }

  async function k8sShiftTraffic(input: ShiftTrafficInput): Promise<K8sActionResult> {
    const namespace = input.namespace || defaultNamespace;
    await api.read(GVR.virtualService, namespace, input.name, 'params.name'); // a missing CRD or object is named first
    const owner = rolloutOwning(await api.list(GVR.rollout, namespace), input.name);
    if (owner) {
      const rollout = owner.metadata?.name ?? '?';
      const canary = (owner.spec as { strategy?: { canary?: { stableService?: string; trafficRouting?: { istio?: { destinationRule?: { stableSubsetName?: string } } } } } }).strategy?.canary;
      const stableHost = canary?.stableService;
      const stableSubset = canary?.trafficRouting?.istio?.destinationRule?.stableSubsetName;
      const isStable = (w: Weight) => (w.host !== undefined && stableHost !== undefined && (w.host === stableHost || w.host.startsWith(`${stableHost}.`))) || (stableSubset !== undefined && w.subset === stableSubset);
      const stable = stableHost ?? (stableSubset ? `subset ${stableSubset}` : undefined);
      const toStableOnly = stable !== undefined && input.weights.every((w) => (isStable(w) ? w.weight === 100 : w.weight === 0));
      if (!toStableOnly) {
        throw refused('TrafficOwnedByRollout', `shift-traffic VirtualService ${namespace}/${input.name}: Rollout ${namespace}/${rollout} manages its weights (spec.strategy.canary.trafficRouting.istio); medic may only send all traffic to the stable service ${stable ?? '(none named)'} by aborting the Rollout, and params.weights asks for another split`, 'params.weights');
      }
      const r = await rollouts.k8sRolloutAbort({ ...input, namespace, name: rollout });
      return { ...r, summary: `${r.summary} (Rollout ${rollout} owns VirtualService ${namespace}/${input.name}: the Rollout controller sets the canary weight to 0 and stable to 100)` };
    }
    const r = await shiftWeights(input, 'shift-traffic');
    const { before, ...result } = r;
    const undo: TrafficUndo | undefined =
      input.revertOnResolve && before && !r.dryRun && r.changes.length > 0 ? { kind: 'traffic-weights', namespace, name: input.name, ...(input.route ? { route: input.route } : {}), weights: before } : undefined;
    return { ...result, ...(undo ? { undo: { spec: undo, when: 'resolve' as const } } : {}) };
  }

  async function k8sCircuitBreak(input: CircuitBreakInput): Promise<K8sActionResult> {
    const namespace = input.namespace || defaultNamespace;
    const max = (input.outlierDetection?.maxEjectionPercent as number | undefined) ?? 0;
    if (max > input.maxEjectionPercent) {
      throw refused('CircuitBreakRefused', `circuit-break DestinationRule ${namespace}/${input.name}: params.outlierDetection.maxEjectionPercent ${max} exceeds the bound params.maxEjectionPercent ${input.maxEjectionPercent}`, 'params.outlierDetection.maxEjectionPercent');
    }
    let before: Record<string, unknown> | null = null;
    const r = await stampedCustomPatch(api, { g: GVR.destinationRule, namespace, name: input.name, field: 'params.name' }, {
      op: 'circuit-break',
      idempotencyKey: input.idempotencyKey,
      dryRun: input.dryRun,
      roots: [['spec', 'trafficPolicy']],
      plan: (dr): Plan => {
        const current = (dr.spec?.trafficPolicy as Record<string, unknown> | undefined) ?? undefined;
        before = current ? structuredClone(current) : null;
        const next: Record<string, unknown> = { ...current };
        if (input.outlierDetection) next.outlierDetection = { ...(current?.outlierDetection as object | undefined), ...input.outlierDetection };
        if (input.connectionPool) next.connectionPool = mergeDeep(current?.connectionPool, input.connectionPool);
        if (JSON.stringify(next) === JSON.stringify(current ?? {})) return { noop: 'circuit breaker already set' };
        return { json: [{ op: 'add', path: '/spec/trafficPolicy', value: next }], intended: { ...dr, spec: { ...dr.spec, trafficPolicy: next } } };
      },
    });
    const undo: TrafficUndo | undefined = input.revertOnResolve && !r.dryRun && r.changes.length > 0 ? { kind: 'traffic-policy', namespace, name: input.name, trafficPolicy: before } : undefined;
    return { ...r, ...(undo ? { undo: { spec: undo, when: 'resolve' as const } } : {}) };
  }

  /** Puts a traffic change back (the undo workflow, after the incident resolved). */
  async function revertTraffic(u: TrafficUndo, o: ActionCommon): Promise<K8sActionResult> {
    if (u.kind === 'traffic-weights') {
      const { before: _, ...r } = await shiftWeights({ ...o, namespace: u.namespace, name: u.name, ...(u.route ? { route: u.route } : {}), weights: u.weights, maxChange: 100 }, 'revert-traffic');
      return r;
    }
    return stampedCustomPatch(api, { g: GVR.destinationRule, namespace: u.namespace, name: u.name, field: 'undo.name' }, {
      op: 'revert-circuit-break',
      idempotencyKey: o.idempotencyKey,
      dryRun: o.dryRun,
      roots: [['spec', 'trafficPolicy']],
      plan: (dr): Plan => {
        if (JSON.stringify(dr.spec?.trafficPolicy ?? null) === JSON.stringify(u.trafficPolicy)) return { noop: 'traffic policy already as before' };
        const ops: JsonPatchOp[] = u.trafficPolicy === null ? [{ op: 'remove', path: '/spec/trafficPolicy' }] : [{ op: 'add', path: '/spec/trafficPolicy', value: u.trafficPolicy }];
        const spec = { ...dr.spec };
        if (u.trafficPolicy === null) delete spec.trafficPolicy;
        else spec.trafficPolicy = u.trafficPolicy;
        return { json: ops, intended: { ...dr, spec } };
      },
    });
  }

  return { k8sShiftTraffic, k8sCircuitBreak, revertTraffic };
}

function mergeDeep(a: unknown, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = typeof a === 'object' && a !== null ? { ...(a as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(b)) out[k] = typeof v === 'object' && v !== null && !Array.isArray(v) ? mergeDeep(out[k], v as Record<string, unknown>) : v;
  return out;
}
