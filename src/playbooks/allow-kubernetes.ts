// Kubernetes targets a playbook may act on (namespaces, name patterns per kind, a node selector,
// and the explicit opt-in for system namespaces). A name, namespace or node rendered from alert
// data must fall inside these lists (checked in src/policy/targets.ts at load and after rendering).
import { z } from 'zod';
import { checkedString } from './checked-string.js';

/** A glob (`*` any run of characters, `?` one) or `~regex` (matched against the whole value). */
export function patternProblem(p: string): string | undefined {
  if (p.startsWith('~')) {
    try {
      new RegExp(`^(?:${p.slice(1)})$`);
      return undefined;
    } catch {
      return `invalid regular expression ${p}`;
    }
  }
  return /^[a-z0-9.*?-]+$/.test(p) ? undefined : `${p} must be a name, a glob of lowercase letters, digits, - . * ? or a ~regex`;
}

export const TargetPattern = checkedString(patternProblem).describe('A name, a glob (`*` any characters, `?` one; e.g. `web-*`) or `~regex` matching the whole value');
const Patterns = (what: string) => z.array(TargetPattern).min(1).optional().describe(what);

/** The object kinds whose names a step may template (the `name` of its params or probe). */
export const NAME_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Pod', 'Rollout', 'Node', 'VirtualService', 'DestinationRule'] as const;
export type NameKind = (typeof NAME_KINDS)[number];

const SelectorRequirement = z
  .strictObject({
    key: z.string().min(1).describe('Label key, e.g. node-role.kubernetes.io/worker'),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(z.string()).default([]).describe('For In / NotIn'),
  })
  .refine((r) => (r.operator === 'In' || r.operator === 'NotIn') === r.values.length > 0, {
    message: 'In and NotIn need values; Exists and DoesNotExist take none',
    path: ['values'],
  });

export const NodeSelectorSchema = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).default({}).describe('Labels the Node must carry with exactly these values'),
    matchExpressions: z.array(SelectorRequirement).default([]).describe('Further requirements, as in a Kubernetes LabelSelector'),
  })
  .refine((s) => Object.keys(s.matchLabels).length + s.matchExpressions.length > 0, { message: 'nodeSelector needs matchLabels or matchExpressions' })
  .describe('A Kubernetes label selector');
export type NodeSelector = z.infer<typeof NodeSelectorSchema>;

export const KubernetesAllowSchema = z
  .strictObject({
    namespaces: z
      .array(TargetPattern)
      .default([])
      .describe('Namespaces a templated namespace (e.g. {{labels.namespace}}) may name; a rendered value outside them is refused'),
    names: z
      .strictObject({
        Deployment: Patterns('Deployment names a templated name may pick'),
        StatefulSet: Patterns('StatefulSet names a templated name may pick'),
        DaemonSet: Patterns('DaemonSet names a templated name may pick'),
        Pod: Patterns('Pod names a templated name may pick'),
        Rollout: Patterns('Argo Rollouts Rollout names a templated name may pick'),
        Node: Patterns('Node names a templated node may pick'),
        VirtualService: Patterns('Istio VirtualService names a templated shift-traffic name may pick'),
        DestinationRule: Patterns('Istio DestinationRule names a templated circuit-break name may pick'),
      })
      .default({})
      .describe('Name patterns per kind: a templated name of that kind must match one (`*` admits any name in the allowed namespaces)'),
    nodeSelector: NodeSelectorSchema.optional().describe(
      "Labels every Node this playbook cordons, drains or uncordons must carry, checked against the live Node before acting (e.g. only worker nodes); also admits a templated node",
    ),
    systemNamespaces: z
      .array(TargetPattern)
      .default([])
      .describe('Namespaces that count as system namespaces besides kube-* (e.g. istio-system, cert-manager)'),
    allowSystemNamespaces: z
      .array(TargetPattern)
      .default([])
      .describe(
        'Explicit opt-in: the system namespaces (kube-*, systemNamespaces) this playbook may act in, e.g. [kube-system]. Without it they are refused, even when `namespaces` or a literal names them',
      ),
  })
  .describe('Kubernetes targets this playbook may act on');
export type KubernetesAllow = z.infer<typeof KubernetesAllowSchema>;
