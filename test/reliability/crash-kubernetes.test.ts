// Crash points for every Kubernetes operation on the real kube-apiserver (+ controller manager,
// RBAC on, medic's ServiceAccount from deploy/kubernetes/rbac.yaml): restart, scale, rollback,
// delete-pod, cordon, drain, rollout-abort, each killed at each point between "request sent" and
// "activity completed" (crash-harness.ts). Applications are counted at the target: the object's
// generation for workload changes (the API server bumps it once per spec change), and for the
// others the mutating requests the API server accepted (2xx), answered or not. GitOps: a restart
// whose Deployment a Flux Kustomization owns (gitops: suspend-then-act), killed around the
// suspend of the Kustomization (real Flux CRD), counted as suspend PATCHes the API server accepted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Playbook, PlaybookInput } from '../../src/playbooks/schema.js';
import { firingAlert, stopAll } from '../support/fixtures.js';
import { HOLD_POINTS, startHoldingProxy, type Exchange, type HoldingProxy, type HoldPoint } from '../support/crash-proxy.js';
import { adminOf, clusterCa, kubeConfigVia, medicKubeConfig, until } from '../support/kube-fixtures.js';
import { installCrds, installRolloutCrd, startKubeCluster, VENDORED_CRDS, type KubeCluster } from '../support/kubernetes.js';
import { assertExactlyOnce, crashPlaybook, startCrashHarness, type CrashCase, type CrashHarness, type CrashRow } from './crash-harness.js';

const NS = 'crash';
let cluster: KubeCluster;
let admin: ReturnType<typeof adminOf>;
let proxy: HoldingProxy;
let harness: CrashHarness;
let kubeconfig: string;

beforeAll(async () => {
  cluster = await startKubeCluster();
  await installRolloutCrd(cluster);
  await installCrds(cluster, [VENDORED_CRDS.fluxKustomize], 60_000);
  admin = adminOf(cluster);
  await admin.namespace(NS);
  const ca = clusterCa(cluster);
  proxy = await startHoldingProxy({ target: cluster.server, ...(ca ? { ca } : {}) });
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'medic-crash-kube-')), 'kubeconfig');
  cluster.writeKubeconfig(kubeConfigVia(await medicKubeConfig(cluster), proxy.url), kubeconfig);
  harness = await startCrashHarness(() => ({ MEDIC_KUBECONFIG: kubeconfig, MEDIC_KUBERNETES_NAMESPACE: NS }));
}, 300_000);
afterAll(() => stopAll(harness, proxy, cluster));

const path = (e: Exchange): string => e.url.split('?')[0]!;
const ok = (e: Exchange): boolean => e.status !== undefined && e.status >= 200 && e.status < 300;
const accepted = (effect: (e: Exchange) => boolean) => async (): Promise<number> => proxy.exchanges.filter((e) => effect(e) && ok(e)).length;
const generation = async (name: string): Promise<number> => (await admin.apps.readNamespacedDeployment({ namespace: NS, name })).metadata?.generation ?? 0;

interface Target {
  params: Record<string, unknown>;
  effect: (e: Exchange) => boolean;
  touches: (e: Exchange) => boolean;
  applied: () => Promise<number>;
}

const deploymentPath = (name: string) => `/apis/apps/v1/namespaces/${NS}/deployments/${name}`;
const patchOf = (p: string) => (e: Exchange) => e.method === 'PATCH' && path(e) === p;

/** Each operation's object, made fresh per case, and how its application is counted. */
const OPERATIONS: Record<string, (name: string) => Promise<Target>> = {
  async restart(name) {
    await admin.deployment(NS, name, 'registry.local/app:1', 1);
    const before = await generation(name);
    return { params: { operation: 'restart', namespace: NS, name }, effect: patchOf(deploymentPath(name)), touches: (e) => e.url.includes(`/deployments/${name}`), applied: async () => (await generation(name)) - before };
  },
  async scale(name) {
    await admin.deployment(NS, name, 'registry.local/app:1', 1);
    const before = await generation(name);
    return {
      params: { operation: 'scale', namespace: NS, name, by: 1, min: 1, max: 5 }, // relative: applied twice would be +2
      effect: patchOf(deploymentPath(name)),
      touches: (e) => e.url.includes(`/deployments/${name}`),
      applied: async () => (await generation(name)) - before,
    };
  },
  async rollback(name) {
    await admin.deployment(NS, name, 'registry.local/app:1', 1);
    await until(`${name} revision 1`, async () => (await admin.apps.readNamespacedDeployment({ namespace: NS, name })).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1');
    await admin.apps.patchNamespacedDeployment({ namespace: NS, name, body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.local/app:2-bad' }] } } } } }, admin.merge);
    await until(`${name} revision 2`, async () => (await admin.apps.readNamespacedDeployment({ namespace: NS, name })).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
    const before = await generation(name);
    return { params: { operation: 'rollback', namespace: NS, name }, effect: patchOf(deploymentPath(name)), touches: (e) => e.url.includes(`/deployments/${name}`), applied: async () => (await generation(name)) - before };
  },
  async 'delete-pod'(name) {
    await admin.node(`${name}-node`);
    // Bound to a node: the delete is graceful (the pod stays terminating, no kubelet here).
    await admin.core.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: { nodeName: `${name}-node`, containers: [{ name: 'c', image: 'registry.local/x:1' }] } } });
    const effect = (e: Exchange) => e.method === 'DELETE' && path(e) === `/api/v1/namespaces/${NS}/pods/${name}`;
    return { params: { operation: 'delete-pod', namespace: NS, name }, effect, touches: (e) => e.url.includes(`/pods/${name}`), applied: accepted(effect) };
  },
  async cordon(name) {
    await admin.node(name);
    const effect = (e: Exchange) => patchOf(`/api/v1/nodes/${name}`)(e) && e.body.includes('"unschedulable":true');
    return { params: { operation: 'cordon', node: name }, effect, touches: (e) => e.url.includes(`/nodes/${name}`), applied: accepted(effect) };
  },
  async drain(name) {
    await admin.node(name);
    const pod = `${name}-pod`;
    await admin.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: pod }, spec: { nodeName: name, containers: [{ name: 'c', image: 'registry.local/x:1' }] } } });
    const effect = (e: Exchange) => e.method === 'POST' && path(e) === `/api/v1/namespaces/${NS}/pods/${pod}/eviction`;
    return { params: { operation: 'drain', node: name, force: true }, effect, touches: (e) => e.url.includes(name), applied: accepted(effect) };
  },
  async 'rollout-abort'(name) {
    await cluster.admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'rollouts',
      body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name }, spec: { replicas: 1 } },
    });
    const effect = (e: Exchange) => e.method === 'PATCH' && path(e).startsWith(`/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts/${name}`) && e.body.includes('"abort":true');
    return { params: { operation: 'rollout-abort', namespace: NS, name }, effect, touches: (e) => e.url.includes(`/rollouts/${name}`), applied: accepted(effect) };
  },
};

/** GitOps effects: the owner's suspend, sent by the workload action's activity. */
const GITOPS: Record<string, (name: string) => Promise<Target>> = {
  async 'gitops-suspend'(name) {
    const custom = cluster.admin.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'kustomize.toolkit.fluxcd.io',
      version: 'v1',
      namespace: NS,
      plural: 'kustomizations',
      body: { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name }, spec: { interval: '10m', prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } } },
    });
    await admin.deployment(NS, name, 'registry.local/app:1', 1);
    await admin.apps.patchNamespacedDeployment({ namespace: NS, name, body: { metadata: { labels: { 'kustomize.toolkit.fluxcd.io/name': name, 'kustomize.toolkit.fluxcd.io/namespace': NS } } } }, admin.merge);
    const effect = (e: Exchange) => patchOf(`/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${NS}/kustomizations/${name}`)(e) && e.body.includes('"suspend":true');
    return {
      params: { operation: 'restart', namespace: NS, name, gitops: 'suspend-then-act', resumeAfter: '1h' },
      effect,
      touches: (e) => e.url.includes(`/kustomizations/${name}`) || e.url.includes(`/deployments/${name}`),
      applied: accepted(effect),
    };
  },
};

function playbook(alertname: string, name: string, params: Record<string, unknown>): Playbook {
  return crashPlaybook({
    name: `crash-${name}`,
    match: { alertname },
    target: `k8s/${NS}/${name}`,
    // A held request gives up at the worker's per-request deadline (15 s), longer than holding
    // every case takes, so only the kill sends it again. The step's timeout (plus 30 s) bounds an
    // attempt, so a killed one is retried that long after it started: short here (and a drain's
    // deadline, ample for the one unguarded pod).
    steps: [{ name: String(params.operation), action: 'kubernetes', timeout: '5s', retries: 10, params } as PlaybookInput['steps'][number]],
  });
}

async function crashCase(op: string, point: HoldPoint, i: number): Promise<CrashCase> {
  const name = `${op.replace(/[^a-z]/g, '')}-${i}`;
  const gitops = GITOPS[op];
  const t = await (gitops ?? OPERATIONS[op]!)(name);
  const alertname = `Crash${name.replace(/-/g, '')}`;
  return {
    actuator: `kubernetes ${op}`,
    point,
    playbook: playbook(alertname, name, t.params),
    proxy,
    effect: t.effect,
    touches: t.touches,
    activity: gitops ? 'k8sRestart' : `k8s${op.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`, // delete-pod → k8sDeletePod
    alert: firingAlert({ alertname, service: name }),
    applied: t.applied,
    expected: 'resolved',
  };
}

/** Every operation at every point, and the GitOps suspend at every point: one kill for all. */
let crashed: Promise<Record<string, CrashRow[]>> | undefined;
const crash = (): Promise<Record<string, CrashRow[]>> =>
  (crashed ??= (async () => {
    const ops: CrashCase[] = [];
    let i = 0;
    for (const op of Object.keys(OPERATIONS)) for (const point of HOLD_POINTS) ops.push(await crashCase(op, point, i++));
    const gitops: CrashCase[] = [];
    for (const point of HOLD_POINTS) gitops.push(await crashCase('gitops-suspend', point, i++));
    return harness.runParts({ kubernetes: ops, 'kubernetes-gitops': gitops });
  })());

it('kubernetes: SIGKILL at every crash point of every operation, each applied exactly once at the API server', async () => {
  const rows = (await crash()).kubernetes!;
  expect(rows).toHaveLength(Object.keys(OPERATIONS).length * HOLD_POINTS.length);
  assertExactlyOnce(rows);
}, 900_000);

it('kubernetes gitops: SIGKILL around the suspend of a Flux Kustomization (suspend-then-act), the suspend accepted exactly once', async () => {
  const rows = (await crash())['kubernetes-gitops']!;
  expect(rows).toHaveLength(HOLD_POINTS.length);
  assertExactlyOnce(rows);
}, 900_000);
