// Playbook schema of the `kubernetes` step action (params discriminated by `operation`) and of
// the `kubernetes` verification probe. String values may be templates ({{labels.pod}}); names
// that are not templates must be valid Kubernetes names.
import { z } from 'zod';
import { isDns1123Label, isDns1123Subdomain } from '../policy/targets.js';
import { DURATION_PATTERN } from './duration.js';

const TEMPLATE = /\{\{[^}]+\}\}/;
// Literals are checked here; rendered templates again after rendering (src/policy/targets.ts),
// where they must also fall inside the playbook's allow.kubernetes.
const objectName = (what: string, valid: (v: string) => boolean, rule: string) =>
  z
    .string()
    .min(1)
    .refine((v) => TEMPLATE.test(v) || valid(v), { message: `${what} must be a ${rule} or a {{template}}` });
const SUBDOMAIN = 'Kubernetes name (lowercase letters, digits, - and .)';

const Name = objectName('name', isDns1123Subdomain, SUBDOMAIN).describe(
  'Object name (templates allowed, e.g. {{labels.deployment}}, if allow.kubernetes.names lists the names it may pick)',
);
const Namespace = objectName('namespace', isDns1123Label, 'Kubernetes namespace name (lowercase letters, digits and -, at most 63)')
  .optional()
  .describe('Default: kubernetes.namespace of the config. A template must pick one of allow.kubernetes.namespaces');
const Node = objectName('node', isDns1123Subdomain, SUBDOMAIN).describe(
  'Node name (templates allowed, e.g. {{labels.node}}, if allow.kubernetes.names.Node or nodeSelector admits it)',
);
const WorkloadKind = z.enum(['Deployment', 'StatefulSet', 'DaemonSet']);

// GitOps: what to do when Argo CD or Flux owns the workload (activities/kubernetes/gitops.ts).
const GITOPS_MODES = ['suspend-then-act', 'rollback-through-gitops', 'refuse'] as const;
const gitops = {
  gitops: z
    .enum(GITOPS_MODES)
    .optional()
    .describe(
      'When Argo CD (tracking-id annotation / instance label → Application) or Flux (kustomize/helm toolkit labels → Kustomization / HelmRelease) owns the workload: suspend-then-act = suspend its sync/reconciliation (Flux spec.suspend, Argo CD automated sync removed and remembered), act, and resume after resumeAfter; rollback-through-gitops = roll back through the owner (Argo CD sync to the previous revision of status.history; Flux HelmRelease pinned to the previous chart version) instead of patching the workload (rollback only); refuse = escalate, naming the owner. Absent: ownership is not looked at',
    ),
  resumeAfter: z
    .string()
    .regex(DURATION_PATTERN, 'must be a duration like 30m')
    .optional()
    .describe('suspend-then-act / rollback-through-gitops: a durable workflow timer resumes the owner\'s sync after this long (default 30m; fix git meanwhile)'),
};
const notGitopsRollback: [(p: { gitops?: string | undefined }) => boolean, { message: string; path: string[] }] = [
  (p) => p.gitops !== 'rollback-through-gitops',
  { message: 'gitops: rollback-through-gitops is for operation: rollback only (use suspend-then-act or refuse)', path: ['gitops'] },
];
const IstioDuration = z.string().regex(/^\d+(ms|s|m|h)$/, 'must be an Istio duration like 10s, 1m or 500ms');
const revertOnResolve = z
  .boolean()
  .default(false)
  .describe('Put the previous values back when the incident resolves (a durable child workflow waits for the end; an escalated incident keeps the change for humans)');
const TrafficWeight = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a service host name (lowercase letters, digits, - and .)')
      .optional()
      .describe('Route destination host, as written in the VirtualService; omit it to name the destination by subset alone'),
    subset: z.string().min(1).max(63).regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a subset name').optional().describe('Route destination subset (DestinationRule subset), if the route uses one'),
    weight: z.number().int().min(0, 'weight must be within 0–100').max(100, 'weight must be within 0–100'),
  })
  .refine((w) => w.host !== undefined || w.subset !== undefined, { message: 'a weight names its destination by host, subset or both', path: ['host'] });

export const KubernetesParamsSchema = z
  .discriminatedUnion('operation', [
    z
      .strictObject({ operation: z.literal('restart'), kind: WorkloadKind.default('Deployment'), namespace: Namespace, name: Name, ...gitops })
      .refine(...notGitopsRollback)
      .describe('Rolling restart (kubectl rollout restart: a new kubectl.kubernetes.io/restartedAt in the pod template)'),
    z.strictObject({ operation: z.literal('delete-pod'), namespace: Namespace, name: Name }).describe('Delete one pod (its controller replaces it)'),
    z
      .strictObject({
        operation: z.literal('scale'),
        kind: z.enum(['Deployment', 'StatefulSet']).default('Deployment'),
        namespace: Namespace,
        name: Name,
        replicas: z.number().int().min(0).optional().describe('Absolute replica count'),
        by: z.number().int().optional().describe('Change relative to the current replicas, e.g. 2 or -1'),
        min: z.number().int().min(0).describe('Never scale below this (refused, not clamped)'),
        max: z.number().int().min(1).describe('Never scale above this (refused, not clamped)'),
        ...gitops,
      })
      .refine((p) => (p.replicas === undefined) !== (p.by === undefined), { message: 'scale needs exactly one of replicas or by', path: ['replicas'] })
      .refine((p) => p.min <= p.max, { message: 'min must not exceed max', path: ['min'] })
      .refine(...notGitopsRollback)
      .refine((p) => p.replicas === undefined || (p.replicas >= p.min && p.replicas <= p.max), {
        message: 'replicas must lie within [min, max]',
        path: ['replicas'],
      })
      .describe('Scale a Deployment or StatefulSet, bounded by min and max'),
    z
      .strictObject({
        operation: z.literal('rollback'),
        namespace: Namespace,
        name: Name,
        toRevision: z.number().int().min(1).optional().describe('Default: the revision before the current one'),
        ...gitops,
      })
      .describe('Roll a Deployment back to an earlier ReplicaSet revision (kubectl rollout undo)'),
    z.strictObject({ operation: z.literal('cordon'), node: Node }).describe('Mark a node unschedulable'),
    z
      .strictObject({
        operation: z.literal('drain'),
        node: Node,
        force: z.boolean().default(false).describe('Also evict pods no controller manages (they are not recreated)'),
        gracePeriodSeconds: z.number().int().min(0).optional().describe("Overrides each pod's termination grace period"),
      })
      .describe("Cordon, then evict the node's pods through the Eviction API (PodDisruptionBudgets respected; blocked evictions retried until the step's timeout); DaemonSet and mirror pods stay"),
    z.strictObject({ operation: z.literal('uncordon'), node: Node }).describe('Mark a node schedulable again'),
    z.strictObject({ operation: z.literal('rollout-pause'), namespace: Namespace, name: Name }).describe('Pause an Argo Rollouts Rollout (spec.paused)'),
    z
      .strictObject({ operation: z.literal('rollout-abort'), namespace: Namespace, name: Name })
      .describe('Abort an Argo Rollouts Rollout (status.abort): traffic goes back to the stable ReplicaSet'),
    z
      .strictObject({
        operation: z.literal('shift-traffic'),
        namespace: Namespace,
        name: objectName('name', isDns1123Subdomain, SUBDOMAIN).describe('The Istio VirtualService (templates must pick one of allow.kubernetes.names.VirtualService)'),
        route: z.string().min(1).optional().describe('Name of the http route to change; default: the VirtualService\'s only http route'),
        weights: z
          .array(TrafficWeight)
          .min(1)
          .describe('The new weight of every destination of the route (e.g. canary 0, stable 100); together 100'),
        maxChange: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(100)
          .describe('Bound: the most percentage points one destination\'s weight may move in this action (refused beyond, e.g. when the live weights are not what the playbook expects)'),
        revertOnResolve,
      })
      .refine((p) => p.weights.reduce((a, w) => a + w.weight, 0) === 100, { message: 'weights must sum to 100', path: ['weights'] })
      .refine((p) => new Set(p.weights.map((w) => `${w.host}/${w.subset ?? ''}`)).size === p.weights.length, { message: 'each destination (host + subset) may appear once', path: ['weights'] })
      .describe('Shift traffic between the destinations of an Istio VirtualService route (weights); when an Argo Rollout owns the routing, all traffic back to stable is a Rollout abort and anything else is refused'),
    z
      .strictObject({
        operation: z.literal('circuit-break'),
        namespace: Namespace,
        name: objectName('name', isDns1123Subdomain, SUBDOMAIN).describe('The Istio DestinationRule (templates must pick one of allow.kubernetes.names.DestinationRule)'),
        outlierDetection: z
          .strictObject({
            consecutive5xxErrors: z.number().int().min(1).max(1000).optional(),
            interval: IstioDuration.optional(),
            baseEjectionTime: IstioDuration.optional(),
            maxEjectionPercent: z.number().int().min(0).max(100).optional(),
          })
          .optional()
          .describe('spec.trafficPolicy.outlierDetection to set (eject failing endpoints)'),
        connectionPool: z
          .strictObject({
            tcp: z.strictObject({ maxConnections: z.number().int().min(1).optional() }).optional(),
            http: z
              .strictObject({
                http1MaxPendingRequests: z.number().int().min(1).optional(),
                http2MaxRequests: z.number().int().min(1).optional(),
                maxRequestsPerConnection: z.number().int().min(1).optional(),
                maxRetries: z.number().int().min(0).optional(),
              })
              .optional(),
          })
          .optional()
          .describe('spec.trafficPolicy.connectionPool to set (bound concurrent load)'),
        maxEjectionPercent: z
          .number()
          .int()
          .min(0)
          .max(100)
          .default(50)
          .describe('Bound: outlierDetection.maxEjectionPercent may not exceed this (never eject the whole fleet)'),
        revertOnResolve,
      })
      .refine((p) => p.outlierDetection !== undefined || p.connectionPool !== undefined, { message: 'circuit-break needs outlierDetection or connectionPool', path: ['outlierDetection'] })
      .refine((p) => (p.outlierDetection?.maxEjectionPercent ?? 0) <= p.maxEjectionPercent, {
        message: 'outlierDetection.maxEjectionPercent must not exceed maxEjectionPercent (the bound)',
        path: ['outlierDetection', 'maxEjectionPercent'],
      })
      .describe('Apply a circuit breaker: Istio DestinationRule outlier detection and/or connection pool limits'),
  ])
  .describe('A Kubernetes action; `operation` picks which');
export type KubernetesParams = z.infer<typeof KubernetesParamsSchema>;

export const KubernetesProbeSchema = z
  .discriminatedUnion('check', [
    z
      .strictObject({ check: z.literal('rollout-finished'), kind: WorkloadKind.default('Deployment'), namespace: Namespace, name: Name })
      .describe('The controller observed the latest generation and every replica is updated and available'),
    z
      .strictObject({
        check: z.literal('pods-ready'),
        namespace: Namespace,
        selector: z.string().min(1).describe('Label selector, e.g. app=web'),
        minReady: z.number().int().min(0).default(1),
      })
      .describe('Every matching pod is Ready, and at least minReady of them'),
    z.strictObject({ check: z.literal('node-drained'), node: Node }).describe('No pods left on the node except DaemonSet and mirror pods'),
  ])
  .describe('A read-only Kubernetes check');
export type KubernetesProbe = z.infer<typeof KubernetesProbeSchema>;
