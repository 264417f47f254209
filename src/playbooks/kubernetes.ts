// Playbook schema of the `kubernetes` step action (params discriminated by `operation`) and of
// the `kubernetes` verification probe. String values may be templates ({{labels.pod}}); names
// that are not templates must be valid Kubernetes names.
import { z } from 'zod';
import { isDns1123Label, isDns1123Subdomain } from '../policy/targets.js';

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

export const KubernetesParamsSchema = z
  .discriminatedUnion('operation', [
    z
      .strictObject({ operation: z.literal('restart'), kind: WorkloadKind.default('Deployment'), namespace: Namespace, name: Name })
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
      })
      .refine((p) => (p.replicas === undefined) !== (p.by === undefined), { message: 'scale needs exactly one of replicas or by', path: ['replicas'] })
      .refine((p) => p.min <= p.max, { message: 'min must not exceed max', path: ['min'] })
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
