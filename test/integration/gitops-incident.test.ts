// GitOps and traffic steps through real incident workflows: Temporal dev server, medic's worker and
// HTTP intake, a real kube-apiserver with the real Argo CD and Istio CRDs, medic acting with the
// ServiceAccount of deploy/kubernetes/rbac.yaml. A GitOps rollback's timeline as the CLI shows it;
// the durable undo workflow resuming Argo CD's auto-sync on its timer and reverting a traffic
// shift when the incident resolves; a hostile label picking a VirtualService outside the
// allow-list is refused through the real intake, nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { PlaybookSchema, type PlaybookInput } from '../../src/playbooks/schema.js';
import { formatEntry } from '../../src/cli/format.js';
import { undoWorkflowId } from '../../workflows/contracts-undo.js';
import { VENDORED_CRDS } from '../support/kubernetes.js';
import { medicDeps, startMedicCluster, until } from '../support/kube-fixtures.js';
import { perFile } from '../support/fixtures.js';
import { incidentIdFrom, runIncident as runIncidentIn, startMedic, type Medic } from '../support/medic.js';

const NS = 'web';
const kube = perFile(() => startMedicCluster([NS, 'argocd'], [VENDORED_CRDS.argocd, VENDORED_CRDS.istio]));
let custom: CustomObjectsApi;
let m: Medic;

beforeAll(async () => {
  custom = kube.cluster.admin.makeApiClient(CustomObjectsApi);
  m = await startMedic({ kubernetes: medicDeps(kube.medic, NS) });
}, 120_000);
afterAll(async () => {
  await m?.stop();
});

const APP = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', namespace: 'argocd' };
const VS = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: NS };
type Obj = { metadata: { annotations?: Record<string, string> }; spec: Record<string, unknown>; status?: Record<string, unknown>; operation?: { sync?: { revision?: string } } };
const getApp = (name: string) => custom.getNamespacedCustomObject({ ...APP, name }) as Promise<Obj>;
const weights = async (name: string) => (((await custom.getNamespacedCustomObject({ ...VS, name })) as Obj).spec.http as { route: { weight: number }[] }[])[0]!.route.map((r) => r.weight);

const runIncident = (playbook: PlaybookInput, labels: Record<string, string>) => runIncidentIn(m, playbook, labels);

const virtualService = (name: string) =>
  custom.createNamespacedCustomObject({
    ...VS,
    body: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name },
      spec: { hosts: [name], http: [{ route: [{ destination: { host: `${name}-stable` }, weight: 80 }, { destination: { host: `${name}-canary` }, weight: 20 }] }] },
    },
  });

describe('GitOps and traffic steps in an incident', () => {
  it('rollback-through-gitops: an Argo CD sync to the previous revision; the timeline says so; the undo workflow resumes auto-sync on its durable timer', async () => {
    await custom.createNamespacedCustomObject({
      ...APP,
      body: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'checkout' },
        spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: NS }, source: { repoURL: 'https://git.example/web.git', path: 'checkout', targetRevision: 'main' }, syncPolicy: { automated: { selfHeal: true } } },
      },
    });
    const app = await getApp('checkout');
    await custom.replaceNamespacedCustomObject({
      ...APP,
      name: 'checkout',
      body: { ...app, status: { history: [{ id: 1, revision: '4f1c2a9', deployedAt: '2026-12-04T09:00:00Z' }, { id: 2, revision: '9e8d7c6', deployedAt: '2026-12-05T00:40:00Z' }] } },
    });
    await kube.admin.deployment(NS, 'checkout', 'registry.local/checkout:2.0', 1);
    await kube.admin.apps.patchNamespacedDeployment({ namespace: NS, name: 'checkout', body: { metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'checkout:apps/Deployment:web/checkout' } } } }, kube.admin.merge);
    const { final, timeline } = await runIncident(
      {
        name: 'bad-deploy-gitops-it',
        match: { alertname: 'ErrorRateHighAfterDeployGitops' },
        groupBy: ['alertname', 'deployment'],
        target: `k8s/${NS}/{{labels.deployment}}`,
        allow: { kubernetes: { namespaces: [NS], names: { Deployment: ['checkout'] } } },
        steps: [{ name: 'roll back through Argo CD', action: 'kubernetes', timeout: '20s', params: { operation: 'rollback', namespace: NS, name: '{{labels.deployment}}', gitops: 'rollback-through-gitops', resumeAfter: '3s' } }],
      },
      { alertname: 'ErrorRateHighAfterDeployGitops', deployment: 'checkout', severity: 'critical' },
    );
    // the timeline as `medic status <id>` prints it (README, GitOps-aware actions)
    expect(timeline.map(formatEntry).map((l) => l.slice(10))).toEqual([
      'alert        incident opened: ErrorRateHighAfterDeployGitops (critical) on k8s/web/checkout; playbook bad-deploy-gitops-it',
      'alert        ErrorRateHighAfterDeployGitops firing (critical) from alertmanager',
      'lock         lock on k8s/web/checkout acquired',
      expect.stringMatching(/^gate {9}gates passed for step 1\/1 \(roll back through Argo CD\): kill-switch, maintenance-window, active-deployment, blast-radius/),
      'action       step 1/1 (roll back through Argo CD) started: Kubernetes: roll back Deployment web/checkout to the previous revision [GitOps: rollback-through-gitops]',
      expect.stringMatching(/^action {7}step 1\/1 \(roll back through Argo CD\) finished: gitops-rollback Argo CD Application argocd\/checkout: sync to the previous revision 4f1c2a9 \(from 9e8d7c6\), automated sync off until resumed in 3s \(\d+ms\)$/),
      'resolution   resolved: step 1/1 (roll back through Argo CD) succeeded (no verification configured)',
    ]);
    expect(final.status).toBe('resolved');
    const done = timeline.find((e) => e.kind === 'action.succeeded')!;
    expect(done.message).toContain('gitops-rollback Argo CD Application argocd/checkout: sync to the previous revision 4f1c2a9 (from 9e8d7c6), automated sync off until resumed in 3s');
    // Argo CD's controller's part would run the operation; medic's durable timer then resumes auto-sync.
    const rolled = await getApp('checkout');
    expect(rolled.operation?.sync?.revision).toBe('4f1c2a9');
    await until('auto-sync resumed by the undo workflow', async () => ((await getApp('checkout')).spec.syncPolicy as { automated?: unknown }).automated !== undefined, 30_000);
    const undo = await m.env.client.workflow.getHandle(undoWorkflowId(`${final.incidentId}:step-0:try-1`)).result();
    expect(undo).toMatchObject({ undone: true });
    expect(undo.summary).toMatch(/^gitops-resume Argo CD Application argocd\/checkout: spec.syncPolicy.automated/);
  });

  it('an Argo CD sync in progress is a deployment marker: the step refuses, and the next step waits at the active-deployment gate', async () => {
    await custom.createNamespacedCustomObject({
      ...APP,
      body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'search' }, spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc', namespace: NS }, source: { repoURL: 'https://git.example/web.git', path: 'search' } } },
    });
    const app = await getApp('search');
    await custom.replaceNamespacedCustomObject({ ...APP, name: 'search', body: { ...app, status: { operationState: { phase: 'Running', startedAt: '2026-12-05T01:00:00Z', operation: { sync: { revision: 'c0ffee1' } }, syncResult: { revision: 'c0ffee1' } } } } });
    await kube.admin.deployment(NS, 'search', 'registry.local/search:1', 1);
    await kube.admin.apps.patchNamespacedDeployment({ namespace: NS, name: 'search', body: { metadata: { labels: { 'app.kubernetes.io/instance': 'search' } } } }, kube.admin.merge);
    const restart = { action: 'kubernetes' as const, timeout: '20s', params: { operation: 'restart' as const, namespace: NS, name: 'search', gitops: 'suspend-then-act' as const } };
    m.playbooks.push(PlaybookSchema.parse({ name: 'search-sync-it', match: { alertname: 'SearchDown' }, groupBy: ['alertname'], target: `k8s/${NS}/search`, steps: [{ name: 'restart', ...restart }, { name: 'restart again', ...restart }] }));
    const res = await m.postAlerts('firing', { alertname: 'SearchDown', severity: 'critical' });
    const id = await incidentIdFrom(res);
    await m.waitFor(id, (st) => st.status === 'holding' || st.endedAt !== undefined, 60_000);
    const timeline = await m.timeline(id);
    expect(timeline.find((e) => e.kind === 'action.failed')?.message).toContain('Argo CD Application argocd/search is syncing c0ffee1');
    expect(timeline.find((e) => e.kind === 'gate.held')?.message).toMatch(/deployment in progress \(marked by Application argocd\/search syncing c0ffee1 \(seen by incident:search-sync-it:/);
    await m.postAlerts('resolved', { alertname: 'SearchDown', severity: 'critical' });
    await m.waitFor(id, (st) => st.endedAt !== undefined, 60_000);
  });

  it('shift-traffic with revertOnResolve: 80/20 → 100/0 while the incident runs; put back to 80/20 once it resolved', async () => {
    await virtualService('cart');
    const { final } = await runIncident(
      {
        name: 'canary-shift-it',
        match: { alertname: 'CanaryErrorsIt' },
        groupBy: ['alertname', 'vs'],
        allow: { kubernetes: { names: { VirtualService: ['cart', 'cart-*'] } } },
        steps: [{ name: 'canary to 0', action: 'kubernetes', timeout: '20s', params: { operation: 'shift-traffic', namespace: NS, name: '{{labels.vs}}', weights: [{ host: 'cart-stable', weight: 100 }, { host: 'cart-canary', weight: 0 }], revertOnResolve: true } }],
      },
      { alertname: 'CanaryErrorsIt', vs: 'cart', severity: 'critical' },
    );
    expect(final.status).toBe('resolved');
    expect(final.undos).toHaveLength(1);
    await until('weights reverted after the incident resolved', async () => (await weights('cart')).join() === '80,20', 30_000);
  });

  it('a hostile label naming a VirtualService outside allow.kubernetes.names is refused through the real intake: nothing changed, the incident escalates', async () => {
    await virtualService('payments');
    const { final, timeline } = await runIncident(
      {
        name: 'canary-hostile-it',
        match: { alertname: 'CanaryErrorsHostile' },
        groupBy: ['alertname', 'vs'],
        allow: { kubernetes: { names: { VirtualService: ['cart'] } } },
        steps: [{ name: 'canary to 0', action: 'kubernetes', timeout: '20s', params: { operation: 'shift-traffic', namespace: NS, name: '{{labels.vs}}', weights: [{ host: 'payments-stable', weight: 100 }, { host: 'payments-canary', weight: 0 }] } }],
      },
      { alertname: 'CanaryErrorsHostile', vs: 'payments', severity: 'critical' },
    );
    expect(final.status).toBe('escalated');
    const blocked = timeline.find((e) => e.kind === 'gate.blocked');
    expect(blocked?.message).toContain('params.name value "payments" does not match allow.kubernetes.names.VirtualService [cart]');
    expect(await weights('payments')).toEqual([80, 20]);
  });
});
