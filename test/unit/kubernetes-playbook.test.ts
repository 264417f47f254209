// The pure parts of the Kubernetes actuator: the playbook schema of `kubernetes` steps and
// verification probes (errors at the line), the workflow's rendering and one-line descriptions,
// and the before → after diff every action reports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';
import { diffObjects, describeChanges, ownStamp, stampAnnotations, STAMP } from '../../activities/kubernetes/changes.js';
import { applyMerge } from '../../activities/kubernetes/stamped-patch.js';
import { createKubernetesActivities } from '../../activities/kubernetes.js';
import { loadConfig } from '../../src/config.js';
import { parsePlaybook } from '../../src/playbooks/load.js';
import type { KubernetesParams } from '../../src/playbooks/kubernetes.js';
import type { TemplateContext } from '../../src/playbooks/template.js';
import { describeKubernetes, describeKubernetesCheck, kubernetesCheck, renderKubernetesParams } from '../../workflows/kubernetes.js';

const playbook = (step: string): string => `name: k8s
match:
  alertname: KubePodCrashLooping
allow:
  kubernetes:
    namespaces: [shop]
    names: { Deployment: ['*'] }
steps:
${step}`;
const parse = (text: string) => parsePlaybook(text, 'pb.yaml', {});
const problems = (text: string): string[] => parse(text).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
const ctx: TemplateContext = {
  incident: { id: 'incident:x:1', workflowId: 'incident:x' },
  labels: { namespace: 'shop', deployment: 'web', node: 'node-7' },
  annotations: {},
  target: 'k8s/shop/web',
};

describe('kubernetes steps in playbooks', () => {
  it('a restart step loads with its defaults and a kubernetes verification', () => {
    const r = parse(
      playbook(`  - name: restart
    action: kubernetes
    params:
      operation: restart
      namespace: '{{labels.namespace}}'
      name: '{{labels.deployment}}'
    verification:
      kubernetes:
        check: rollout-finished
        name: '{{labels.deployment}}'`),
    );
    expect(r.problems).toEqual([]);
    const step = r.playbook!.steps[0]!;
    expect(step).toMatchObject({ action: 'kubernetes', params: { operation: 'restart', kind: 'Deployment', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' } });
    expect(step.verification?.kubernetes).toEqual({ check: 'rollout-finished', kind: 'Deployment', name: '{{labels.deployment}}' });
  });

  it('scale needs min and max, exactly one of replicas/by, and an absolute target inside the bounds', () => {
    const scale = (params: string) => problems(playbook(`  - name: scale\n    action: kubernetes\n    params:\n      operation: scale\n      name: web\n${params}`));
    expect(scale('      replicas: 3\n')).toEqual(['11:5: steps.0.params.min: is required (expected number)', '11:5: steps.0.params.max: is required (expected number)']);
    expect(scale('      replicas: 9\n      min: 1\n      max: 5\n')).toEqual(['14:7: steps.0.params.replicas: replicas must lie within [min, max]']);
    expect(scale('      replicas: 2\n      by: 1\n      min: 1\n      max: 5\n')).toEqual(['14:7: steps.0.params.replicas: scale needs exactly one of replicas or by']);
    expect(scale('      by: -1\n      min: 3\n      max: 2\n')).toEqual(['15:7: steps.0.params.min: min must not exceed max']);
  });

  it('names must be Kubernetes names or templates; unknown operations and fields are refused', () => {
    const step = (params: string) => problems(playbook(`  - name: x\n    action: kubernetes\n    params:\n${params}`));
    expect(step('      operation: delete-pod\n      name: Web_1\n')).toEqual(['13:7: steps.0.params.name: name must be a Kubernetes name (lowercase letters, digits, - and .) or a {{template}}']);
    expect(step('      operation: reboot\n      name: web\n')).toHaveLength(1);
    expect(step('      operation: cordon\n      node: n1\n      force: true\n')[0]).toMatch(/^14:7: steps\.0\.params: Unrecognized key: "force"$/);
  });

  it('the shipped Kubernetes playbooks load', () => {
    // (test/unit/playbook-load.test.ts validates every file in playbooks/; this pins that the
    // Kubernetes ones exist and use the action.)
    const actions = (name: string) => {
      const r = parse(readFileSync(join(ROOT, 'playbooks', `${name}.yaml`), 'utf8'));
      expect(r.problems).toEqual([]);
      return r.playbook!.steps.map((s) => (s.action === 'kubernetes' ? `kubernetes:${s.params.operation}` : s.action));
    };
    expect(actions('crash-looping-pod')).toEqual(['kubernetes:restart', 'kubernetes:delete-pod']);
    expect(actions('bad-deploy-rollback')).toEqual(['kubernetes:rollback']);
    expect(actions('node-pressure-drain')).toEqual(['kubernetes:cordon', 'kubernetes:drain']);
    expect(actions('canary-slo-breach')).toEqual(['kubernetes:shift-traffic', 'kubernetes:rollout-abort', 'flag']);
    expect(actions('bad-deploy-rollback-gitops')).toEqual(['kubernetes:rollback', 'kubernetes:rollback']);
  });
});

describe('rendering and descriptions', () => {
  const d = (p: KubernetesParams) => describeKubernetes(p, ctx);
  it('renders names, namespaces and nodes and describes each operation in one line', () => {
    expect(renderKubernetesParams({ operation: 'restart', kind: 'StatefulSet', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}-db' }, ctx)).toEqual({
      operation: 'restart',
      kind: 'StatefulSet',
      namespace: 'shop',
      name: 'web-db',
    });
    expect(d({ operation: 'restart', kind: 'Deployment', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' })).toBe('Kubernetes: rollout restart Deployment shop/web');
    expect(d({ operation: 'scale', kind: 'Deployment', name: 'web', by: 2, min: 1, max: 6 })).toBe('Kubernetes: scale Deployment web by +2 (bounds 1–6)');
    expect(d({ operation: 'rollback', name: 'web' })).toBe('Kubernetes: roll back Deployment web to the previous revision');
    expect(d({ operation: 'drain', node: '{{labels.node}}', force: false })).toBe('Kubernetes: drain Node node-7');
    expect(d({ operation: 'rollout-abort', namespace: 'shop', name: 'checkout' })).toBe('Argo Rollouts: abort Rollout shop/checkout');
    const check = kubernetesCheck({ check: 'pods-ready', namespace: '{{labels.namespace}}', selector: 'app={{labels.deployment}}', minReady: 2 }, ctx);
    expect(check).toEqual({ check: 'pods-ready', namespace: 'shop', selector: 'app=web', minReady: 2 });
    expect(describeKubernetesCheck(check)).toBe('pods app=web ready');
  });
});

describe('before → after', () => {
  it('reports leaf paths (bracketed when not identifiers), ignores the stamp, and treats absent maps as empty', () => {
    const before = { spec: { replicas: 2, template: { metadata: {} } }, metadata: { annotations: { a: '1' } } };
    const patch = { spec: { replicas: 3, template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'T' } } } }, metadata: { annotations: { [STAMP]: 'k' } } };
    const after = applyMerge(before, patch);
    expect(diffObjects(before, after, [['spec'], ['metadata', 'annotations']])).toEqual([
      { path: 'spec.replicas', before: 2, after: 3 },
      { path: 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]', before: null, after: 'T' },
    ]);
    expect(describeChanges([{ path: 'spec.replicas', before: 2, after: 3 }])).toBe('spec.replicas 2 → 3');
    expect(applyMerge({ a: 1, b: { c: 2 } }, { a: null, b: { d: 3 } })).toEqual({ b: { c: 2, d: 3 } });
  });

  it('the stamp carries the key and what changed; only the same key counts as ours', () => {
    const stamp = stampAnnotations('incident:a:step-0:try-1', 'scale', [{ path: 'spec.replicas', before: 2, after: 3 }]);
    expect(ownStamp(stamp, 'incident:a:step-0:try-1')).toMatchObject({ op: 'scale', changes: [{ path: 'spec.replicas', before: 2, after: 3 }] });
    expect(ownStamp(stamp, 'incident:a:step-0:try-2')).toBeUndefined();
  });
});

describe('kubernetes config', () => {
  it('MEDIC_KUBECONFIG / MEDIC_KUBERNETES_IN_CLUSTER / MEDIC_KUBERNETES_NAMESPACE set the kubernetes section; both sources at once are refused', () => {
    expect(loadConfig({ MEDIC_KUBECONFIG: '/etc/medic/kubeconfig', MEDIC_KUBERNETES_NAMESPACE: 'shop' }).kubernetes).toEqual({
      kubeconfig: '/etc/medic/kubeconfig',
      inCluster: false,
      namespace: 'shop',
      argocdNamespace: 'argocd',
    });
    expect(loadConfig({ MEDIC_KUBERNETES_IN_CLUSTER: 'true', MEDIC_ARGOCD_NAMESPACE: 'gitops' }).kubernetes).toEqual({ inCluster: true, argocdNamespace: 'gitops' });
    expect(() => loadConfig({ MEDIC_KUBERNETES_IN_CLUSTER: 'true', MEDIC_ARGOCD_NAMESPACE: 'Argo CD' })).toThrow(/kubernetes\.argocdNamespace/);
    expect(loadConfig({}).kubernetes).toBeUndefined();
    expect(() => loadConfig({ MEDIC_KUBERNETES_IN_CLUSTER: 'true', MEDIC_KUBECONFIG: '/k' })).toThrow('kubernetes.inCluster: set kubeconfig or inCluster, not both');
    expect(() => loadConfig({ MEDIC_KUBERNETES_IN_CLUSTER: 'yes' })).toThrow(/kubernetes\.inCluster/);
  });
});

describe('without a kubernetes config', () => {
  it('every kubernetes activity fails at once, non-retryable, saying how to configure it', async () => {
    const acts = createKubernetesActivities(undefined);
    await expect(acts.k8sRestart({ kind: 'Deployment', name: 'web', idempotencyKey: 'k', dryRun: false, timeoutMs: 1_000 })).rejects.toMatchObject({
      type: 'KubernetesNotConfigured',
      nonRetryable: true,
      message: 'Kubernetes is not configured for this worker (set MEDIC_KUBECONFIG or MEDIC_KUBERNETES_IN_CLUSTER=true)',
    });
    await expect(acts.k8sProbe({ check: { check: 'node-drained', node: 'n' } })).rejects.toMatchObject({ type: 'KubernetesNotConfigured' });
  });
});
