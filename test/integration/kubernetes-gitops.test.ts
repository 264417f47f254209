// GitOps-aware workload actions and traffic shifting on a real kube-apiserver with the real
// upstream CRDs installed (Argo CD Application, Flux Kustomization / HelmRelease, Istio
// VirtualService / DestinationRule: test/fixtures/kubernetes/vendor), acting as medic's
// ServiceAccount (deploy/kubernetes/rbac.yaml). No controller runs (Argo CD's gitops-engine does
// not build from the module proxy; no Envoy): the test plays the controller where one would
// answer. Each action is stamped (a repeat with the same key does not act twice), dry-runs
// through dryRun=All, and bad input is refused naming the field, with nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { createKubernetesActivities, STAMP } from '../../activities/kubernetes.js';
import { SUSPENDED } from '../../activities/kubernetes/gitops.js';
import { installCrds, installRolloutCrd, startKubeCluster, VENDORED_CRDS, type KubeCluster } from '../support/kubernetes.js';
import { adminOf, medicDeps, medicKubeConfig } from '../support/kube-fixtures.js';

let cluster: KubeCluster;
let admin: ReturnType<typeof adminOf>;
let custom: CustomObjectsApi;
let acts: ReturnType<typeof createKubernetesActivities>;
const NS = 'shop';
const ARGO = 'argocd';
const FLUX = 'flux-system';

beforeAll(async () => {
  cluster = await startKubeCluster();
  // The HelmRelease CRD is installed later: the first HelmRelease test sees it missing.
  await installCrds(cluster, [VENDORED_CRDS.argocd, VENDORED_CRDS.fluxKustomize, VENDORED_CRDS.istio], 60_000);
  await installRolloutCrd(cluster);
  admin = adminOf(cluster);
  custom = cluster.admin.makeApiClient(CustomObjectsApi);
  for (const ns of [NS, ARGO, FLUX]) await admin.namespace(ns);
  acts = createKubernetesActivities(medicDeps(await medicKubeConfig(cluster), NS));
}, 120_000);
afterAll(() => cluster?.stop());

let seq = 0;
const keyOf = () => `incident:gitops-test:0a1b2c3d:run${++seq}:step-0:try-1`;
const common = (idempotencyKey: string, dryRun = false) => ({ idempotencyKey, dryRun, timeoutMs: 30_000 });
const failureOf = async (p: Promise<unknown>): Promise<{ type?: string; nonRetryable?: boolean; message: string; details?: unknown[] }> => {
  try {
    await p;
  } catch (err) {
    return err as { type?: string; message: string };
  }
  throw new Error('expected a failure');
};

type Obj = { metadata: { name: string; annotations?: Record<string, string>; resourceVersion?: string }; spec: Record<string, unknown>; status?: Record<string, unknown>; operation?: unknown };
const gvr = {
  vs: { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' },
  dr: { group: 'networking.istio.io', version: 'v1', plural: 'destinationrules' },
  app: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' },
  ks: { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations' },
  hr: { group: 'helm.toolkit.fluxcd.io', version: 'v2', plural: 'helmreleases' },
  ro: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' },
};
type G = keyof typeof gvr;
const kinds: Record<G, string> = { vs: 'VirtualService', dr: 'DestinationRule', app: 'Application', ks: 'Kustomization', hr: 'HelmRelease', ro: 'Rollout' };
const create = (g: G, namespace: string, body: Record<string, unknown>) =>
  custom.createNamespacedCustomObject({ ...gvr[g], namespace, body: { apiVersion: `${gvr[g].group}/${gvr[g].version}`, kind: kinds[g], ...body } }) as Promise<Obj>;
const get = (g: G, namespace: string, name: string) => custom.getNamespacedCustomObject({ ...gvr[g], namespace, name }) as Promise<Obj>;
/** The controller's part: it writes status (main resource when the CRD has no status subresource). */
const setStatus = async (g: G, namespace: string, name: string, status: Record<string, unknown>) => {
  const cur = await get(g, namespace, name);
  const body = { ...cur, status };
  return g === 'app' ? custom.replaceNamespacedCustomObject({ ...gvr[g], namespace, name, body }) : custom.replaceNamespacedCustomObjectStatus({ ...gvr[g], namespace, name, body });
};

const virtualService = (name: string, weights: [number, number]) =>
  create('vs', NS, {
    metadata: { name },
    spec: {
      hosts: ['web'],
      http: [{ name: 'primary', route: [{ destination: { host: 'web-stable' }, weight: weights[0] }, { destination: { host: 'web-canary' }, weight: weights[1] }] }],
    },
  });
const weightsOf = async (name: string) => ((await get('vs', NS, name)).spec.http as { route: { weight: number }[] }[])[0]!.route.map((r) => r.weight);
const toStable = [
  { host: 'web-stable', weight: 100 },
  { host: 'web-canary', weight: 0 },
];

describe('shift-traffic (Istio VirtualService)', () => {
  it('canary 20 → 0, stable 80 → 100, stamped; a repeat with the same key does not act twice; revertOnResolve plans the undo, which puts 80/20 back', async () => {
    await virtualService('web', [80, 20]);
    const key = keyOf();
    const input = { name: 'web', weights: toStable, maxChange: 100, revertOnResolve: true, ...common(key) };
    const r = await acts.k8sShiftTraffic(input);
    expect(r.summary).toBe(`shift-traffic VirtualService ${NS}/web: spec.http[0].route[0].weight 80 → 100; spec.http[0].route[1].weight 20 → 0`);
    expect(await weightsOf('web')).toEqual([100, 0]);
    expect((await get('vs', NS, 'web')).metadata.annotations?.[STAMP]).toBe(key);
    expect(r.undo).toEqual({ spec: { kind: 'traffic-weights', namespace: NS, name: 'web', weights: [{ host: 'web-stable', weight: 80 }, { host: 'web-canary', weight: 20 }] }, when: 'resolve' });
    const again = await acts.k8sShiftTraffic(input);
    expect(again.alreadyDone).toBe(true);
    const rv = (await get('vs', NS, 'web')).metadata.resourceVersion;
    const undone = await acts.k8sUndo({ undo: r.undo!.spec, ...common(`${key}:undo`) });
    expect(undone.summary).toContain('spec.http[0].route[0].weight 100 → 80');
    expect(await weightsOf('web')).toEqual([80, 20]);
    expect((await get('vs', NS, 'web')).metadata.resourceVersion).not.toBe(rv);
  });

  it('a dry run goes through dryRun=All: the answer shows the change, the object keeps its weights', async () => {
    await virtualService('web-dry', [80, 20]);
    const r = await acts.k8sShiftTraffic({ name: 'web-dry', weights: toStable, maxChange: 100, ...common(keyOf(), true) });
    expect(r.summary).toMatch(/^dry run: would shift-traffic VirtualService shop\/web-dry: spec.http\[0\].route\[0\].weight 80 → 100/);
    expect(r.undo).toBeUndefined();
    expect(await weightsOf('web-dry')).toEqual([80, 20]);
  });

  it('bad input is refused naming the field, nothing changed: weights not summing to 100, outside 0–100, an unknown destination, beyond maxChange', async () => {
    await virtualService('web-bad', [80, 20]);
    const rv = (await get('vs', NS, 'web-bad')).metadata.resourceVersion;
    const cases: [typeof toStable, number, RegExp][] = [
      [[{ host: 'web-stable', weight: 90 }, { host: 'web-canary', weight: 0 }], 100, /params\.weights sum to 90, not 100/],
      [[{ host: 'web-stable', weight: 120 }, { host: 'web-canary', weight: -20 }], 100, /params\.weights\[0\]\.weight 120 is outside 0–100/],
      [[{ host: 'web-stable', weight: 100 }, { host: 'evil', weight: 0 }], 100, /params\.weights\[1\] evil\/ is not a destination of http route 0/],
      [toStable, 10, /moving web-stable\/ from 80 to 100 exceeds params\.maxChange 10/],
    ];
    for (const [weights, maxChange, message] of cases) {
      const err = await failureOf(acts.k8sShiftTraffic({ name: 'web-bad', weights, maxChange, ...common(keyOf()) }));
      expect(err).toMatchObject({ type: 'TrafficShiftRefused', nonRetryable: true });
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/nothing was changed$/);
    }
    expect((await get('vs', NS, 'web-bad')).metadata.resourceVersion).toBe(rv);
  });

  it('an Argo Rollout owning the routing: all traffic back to stable is a Rollout abort; another split is refused naming the Rollout', async () => {
    await virtualService('web-ro', [70, 30]);
    await create('ro', NS, {
      metadata: { name: 'web-ro' },
      spec: { strategy: { canary: { stableService: 'web-stable', canaryService: 'web-canary', trafficRouting: { istio: { virtualService: { name: 'web-ro', routes: ['primary'] } } } } } },
    });
    const split = await failureOf(acts.k8sShiftTraffic({ name: 'web-ro', weights: [{ host: 'web-stable', weight: 50 }, { host: 'web-canary', weight: 50 }], maxChange: 100, ...common(keyOf()) }));
    expect(split).toMatchObject({ type: 'TrafficOwnedByRollout', nonRetryable: true });
    expect(split.message).toContain(`Rollout ${NS}/web-ro manages its weights`);
    const r = await acts.k8sShiftTraffic({ name: 'web-ro', weights: toStable, maxChange: 100, ...common(keyOf()) });
    expect(r.summary).toMatch(/^abort Rollout shop\/web-ro: status.abort null → true \(Rollout web-ro owns VirtualService shop\/web-ro/);
    expect((await get('ro', NS, 'web-ro')).status?.abort).toBe(true);
    expect(await weightsOf('web-ro')).toEqual([70, 30]); // the Rollout controller's job, not medic's
  });
});

describe('circuit-break (Istio DestinationRule)', () => {
  it('sets outlier detection and a connection pool (bounded), reverted to the previous traffic policy', async () => {
    await create('dr', NS, { metadata: { name: 'web' }, spec: { host: 'web', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } } });
    const key = keyOf();
    const r = await acts.k8sCircuitBreak({
      name: 'web',
      outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
      connectionPool: { http: { http1MaxPendingRequests: 10 } },
      maxEjectionPercent: 50,
      revertOnResolve: true,
      ...common(key),
    });
    expect(r.changes).toContainEqual({ path: 'spec.trafficPolicy.outlierDetection.consecutive5xxErrors', before: null, after: 5 });
    const tp = (await get('dr', NS, 'web')).spec.trafficPolicy as Record<string, unknown>;
    expect(tp).toEqual({ loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 }, connectionPool: { http: { http1MaxPendingRequests: 10 } } });
    const over = await failureOf(acts.k8sCircuitBreak({ name: 'web', outlierDetection: { maxEjectionPercent: 100 }, maxEjectionPercent: 50, ...common(keyOf()) }));
    expect(over).toMatchObject({ type: 'CircuitBreakRefused' });
    expect(over.message).toContain('params.outlierDetection.maxEjectionPercent 100 exceeds the bound params.maxEjectionPercent 50');
    await acts.k8sUndo({ undo: r.undo!.spec, ...common(`${key}:undo`) });
    expect((await get('dr', NS, 'web')).spec.trafficPolicy).toEqual({ loadBalancer: { simple: 'ROUND_ROBIN' } });
  });
});

const argoApp = (name: string, history: { id: number; revision: string; deployedAt: string }[] = []) =>
  create('app', ARGO, {
    metadata: { name },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: NS },
      source: { repoURL: 'https://git.example/shop.git', path: 'web', targetRevision: 'main' },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  }).then(async (app) => (history.length > 0 ? setStatus('app', ARGO, name, { history, sync: { status: 'Synced', revision: history.at(-1)!.revision } }) : app));

const ownedDeployment = async (name: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> }) => {
  await admin.deployment(NS, name, 'registry.local/web:1.0', 1);
  await admin.apps.patchNamespacedDeployment({ namespace: NS, name, body: { metadata: meta } }, admin.merge);
};

describe('GitOps ownership (Argo CD, Flux)', () => {
  it('suspend-then-act on an Argo CD Application: automated sync removed and remembered, the Deployment restarted, the undo (a timer) restores it', async () => {
    await argoApp('shop-web');
    await ownedDeployment('argo-web', { annotations: { 'argocd.argoproj.io/tracking-id': 'shop-web:apps/Deployment:shop/argo-web' } });
    const key = keyOf();
    const r = await acts.k8sRestart({ kind: 'Deployment', name: 'argo-web', gitops: 'suspend-then-act', resumeAfterMs: 600_000, ...common(key) });
    expect(r.summary).toMatch(/^gitops-suspend Argo CD Application argocd\/shop-web: spec.syncPolicy.automated.prune true → null; .*; then restart Deployment shop\/argo-web/);
    expect(r.gitops?.owner).toBe('Argo CD Application argocd/shop-web (via metadata.annotations["argocd.argoproj.io/tracking-id"])');
    const app = await get('app', ARGO, 'shop-web');
    expect((app.spec.syncPolicy as Record<string, unknown>).automated).toBeUndefined();
    expect(JSON.parse(app.metadata.annotations![SUSPENDED]!)).toEqual({ by: `${key}:suspend-then-act`, automated: { prune: true, selfHeal: true } });
    expect(r.undo).toEqual({ spec: { kind: 'gitops-resume', owner: expect.objectContaining({ kind: 'Application', namespace: ARGO, name: 'shop-web' }), suspendedBy: `${key}:suspend-then-act` }, when: { afterMs: 600_000 } });
    // a repeat (crash before completion) finds both stamps
    const again = await acts.k8sRestart({ kind: 'Deployment', name: 'argo-web', gitops: 'suspend-then-act', ...common(key) });
    expect(again.alreadyDone).toBe(true);
    const resumed = await acts.k8sUndo({ undo: r.undo!.spec, ...common(`${key}:undo`) });
    expect(resumed.summary).toMatch(/^gitops-resume Argo CD Application argocd\/shop-web: /);
    const after = await get('app', ARGO, 'shop-web');
    expect((after.spec.syncPolicy as Record<string, unknown>).automated).toEqual({ prune: true, selfHeal: true });
    expect(after.metadata.annotations?.[SUSPENDED]).toBeUndefined();
    expect((await acts.k8sUndo({ undo: r.undo!.spec, ...common(`${key}:undo`) })).alreadyDone).toBe(true);
  });

  it('suspend-then-act on a Flux Kustomization: spec.suspend true, then scale; resumed by the undo', async () => {
    await create('ks', FLUX, { metadata: { name: 'apps' }, spec: { interval: '10m', prune: true, sourceRef: { kind: 'GitRepository', name: 'flux-system' } } });
    await ownedDeployment('flux-web', { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': FLUX } });
    const key = keyOf();
    const r = await acts.k8sScale({ kind: 'Deployment', name: 'flux-web', replicas: 3, min: 1, max: 5, gitops: 'suspend-then-act', ...common(key) });
    expect(r.summary).toBe(`gitops-suspend Flux Kustomization ${FLUX}/apps: spec.suspend null → true; then scale Deployment ${NS}/flux-web: spec.replicas 1 → 3`);
    expect((await get('ks', FLUX, 'apps')).spec.suspend).toBe(true);
    expect(r.undo?.when).toEqual({ afterMs: 30 * 60_000 });
    await acts.k8sUndo({ undo: r.undo!.spec, ...common(`${key}:undo`) });
    expect((await get('ks', FLUX, 'apps')).spec.suspend).toBe(false);
    // an action that fails after the suspend (scale out of bounds) resumes the owner at once
    const refused = await failureOf(acts.k8sScale({ kind: 'Deployment', name: 'flux-web', replicas: 9, min: 1, max: 5, gitops: 'suspend-then-act', ...common(keyOf()) }));
    expect(refused).toMatchObject({ type: 'KubernetesScaleOutOfBounds' });
    const ks = await get('ks', FLUX, 'apps');
    expect(ks.spec.suspend).toBe(false);
    expect(ks.metadata.annotations?.[SUSPENDED]).toBeUndefined();
  });

  it('refuse: escalates naming the owner, nothing changed; a sync in progress refuses too (a deployment marker)', async () => {
    await argoApp('shop-refuse', [{ id: 1, revision: 'aaa111', deployedAt: '2026-12-01T10:00:00Z' }]);
    await ownedDeployment('refuse-web', { annotations: { 'argocd.argoproj.io/tracking-id': 'shop-refuse:apps/Deployment:shop/refuse-web' } });
    const before = await admin.apps.readNamespacedDeployment({ namespace: NS, name: 'refuse-web' });
    const err = await failureOf(acts.k8sRestart({ kind: 'Deployment', name: 'refuse-web', gitops: 'refuse', ...common(keyOf()) }));
    expect(err).toMatchObject({ type: 'GitopsOwned', nonRetryable: true });
    expect(err.message).toBe(
      `restart Deployment ${NS}/refuse-web is owned by Argo CD Application argocd/shop-refuse (named by metadata.annotations["argocd.argoproj.io/tracking-id"]; last synced aaa111 at 2026-12-01T10:00:00Z); the playbook says refuse: change it through git. Nothing was changed`,
    );
    await setStatus('app', ARGO, 'shop-refuse', { history: [{ id: 1, revision: 'aaa111', deployedAt: '2026-12-01T10:00:00Z' }], operationState: { phase: 'Running', startedAt: '2026-12-05T01:00:00Z', operation: { sync: { revision: 'bbb222' } } } });
    const running = await failureOf(acts.k8sRestart({ kind: 'Deployment', name: 'refuse-web', gitops: 'suspend-then-act', ...common(keyOf()) }));
    expect(running).toMatchObject({ type: 'GitopsSyncRunning' });
    expect(running.message).toContain('a deployment is in progress');
    expect((await admin.apps.readNamespacedDeployment({ namespace: NS, name: 'refuse-web' })).metadata?.generation).toBe(before.metadata?.generation);
  });

  it('rollback-through-gitops (Argo CD): automated sync off and a sync operation to the previous revision of status.history; the test plays the controller', async () => {
    await argoApp('shop-rb', [
      { id: 1, revision: 'good111', deployedAt: '2026-12-04T10:00:00Z' },
      { id: 2, revision: 'bad2222', deployedAt: '2026-12-05T00:30:00Z' },
    ]);
    await ownedDeployment('rb-web', { labels: { 'app.kubernetes.io/instance': 'shop-rb' } });
    const key = keyOf();
    const r = await acts.k8sRollback({ name: 'rb-web', gitops: 'rollback-through-gitops', resumeAfterMs: 3_600_000, ...common(key) });
    expect(r.summary).toContain('gitops-rollback Argo CD Application argocd/shop-rb');
    const app = await get('app', ARGO, 'shop-rb');
    expect(app.operation).toMatchObject({ initiatedBy: { username: 'medic' }, sync: { revision: 'good111' } });
    expect((app.spec.syncPolicy as Record<string, unknown>).automated).toBeUndefined();
    expect(r.undo?.when).toEqual({ afterMs: 3_600_000 });
    // the controller's part: it runs the operation and records it in history (a deployment marker)
    await setStatus('app', ARGO, 'shop-rb', {
      history: [...(app.status!.history as object[]), { id: 3, revision: 'good111', deployedAt: '2026-12-05T01:05:00Z' }],
      operationState: { phase: 'Succeeded', startedAt: '2026-12-05T01:04:50Z', finishedAt: '2026-12-05T01:05:00Z', operation: app.operation, syncResult: { revision: 'good111' } },
    });
    // no-previous: a single-entry history is refused naming status.history
    await argoApp('shop-new', [{ id: 1, revision: 'only111', deployedAt: '2026-12-05T00:00:00Z' }]);
    await ownedDeployment('new-web', { annotations: { 'argocd.argoproj.io/tracking-id': 'shop-new:apps/Deployment:shop/new-web' } });
    const none = await failureOf(acts.k8sRollback({ name: 'new-web', gitops: 'rollback-through-gitops', ...common(keyOf()) }));
    expect(none).toMatchObject({ type: 'GitopsNoPreviousRevision' });
    expect(none.message).toContain('status.history holds no revision before only111');
  });

  it('unknown owners are refused naming the field: a malformed tracking id, half a Flux label pair, an unsupported GitOps tool', async () => {
    const cases: [string, { labels?: Record<string, string>; annotations?: Record<string, string> }, string][] = [
      ['odd-1', { annotations: { 'argocd.argoproj.io/tracking-id': 'garbage' } }, 'metadata.annotations["argocd.argoproj.io/tracking-id"] "garbage" is not an Argo CD tracking id'],
      ['odd-2', { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } }, 'metadata.labels["kustomize.toolkit.fluxcd.io/namespace"]: Flux Kustomization labels need'],
      ['odd-3', { labels: { 'fleet.cattle.io/bundle-name': 'x' } }, 'metadata.labels["fleet.cattle.io/bundle-name"]: the workload is managed by a GitOps tool medic does not support'],
    ];
    for (const [name, meta, message] of cases) {
      await ownedDeployment(name, meta);
      const err = await failureOf(acts.k8sRestart({ kind: 'Deployment', name, gitops: 'suspend-then-act', ...common(keyOf()) }));
      expect(err, name).toMatchObject({ type: 'GitopsOwnerUnknown', nonRetryable: true });
      expect(err.message).toContain(message);
      expect((await admin.apps.readNamespacedDeployment({ namespace: NS, name })).metadata?.annotations?.[STAMP]).toBeUndefined();
    }
  });

  it('Flux HelmRelease: CRD not installed is refused naming the field; once installed, rollback-through-gitops pins the previous chart version', async () => {
    await ownedDeployment('helm-web', { labels: { 'helm.toolkit.fluxcd.io/name': 'web', 'helm.toolkit.fluxcd.io/namespace': FLUX } });
    const missing = await failureOf(acts.k8sRollback({ name: 'helm-web', gitops: 'rollback-through-gitops', ...common(keyOf()) }));
    expect(missing).toMatchObject({ type: 'KubernetesCrdMissing', nonRetryable: true });
    expect(missing.message).toBe('metadata.labels["helm.toolkit.fluxcd.io/name"]: the HelmRelease CRD (helmreleases.helm.toolkit.fluxcd.io, helm.toolkit.fluxcd.io/v2) is not installed on this cluster; nothing was changed');
    await installCrds(cluster, [VENDORED_CRDS.fluxHelm], 60_000);
    await create('hr', FLUX, { metadata: { name: 'web' }, spec: { interval: '5m', chart: { spec: { chart: 'web', version: '1.2.0', sourceRef: { kind: 'HelmRepository', name: 'shop' } } } } });
    const snap = (version: number, chartVersion: string, at: string) => ({ name: 'web', namespace: NS, version, chartName: 'web', chartVersion, configDigest: 'sha256:c', digest: 'sha256:d', firstDeployed: at, lastDeployed: at, status: 'deployed' });
    await setStatus('hr', FLUX, 'web', { history: [snap(2, '1.2.0', '2026-12-05T00:30:00Z'), snap(1, '1.1.0', '2026-12-04T00:30:00Z')] });
    const r = await acts.k8sRollback({ name: 'helm-web', gitops: 'rollback-through-gitops', ...common(keyOf()) });
    expect(r.summary).toBe(`gitops-rollback Flux HelmRelease ${FLUX}/web: spec.chart.spec.version "1.2.0" → "1.1.0"`);
    expect(r.gitops?.lastSync).toEqual({ revision: 'web@1.2.0', at: '2026-12-05T00:30:00Z', running: false });
    expect(((await get('hr', FLUX, 'web')).spec.chart as { spec: { version: string } }).spec.version).toBe('1.1.0');
  });
});
