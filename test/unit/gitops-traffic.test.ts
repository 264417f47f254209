// The pure parts of the GitOps and traffic actions: who owns a workload (Argo CD / Flux marks),
// the owner's last sync as a deployment marker, the VirtualService weight plan with its bounds,
// and the playbook schema's bad-input errors (each naming its field, at its line).
import { describe, expect, it } from 'vitest';
import { ownerOf, syncMarkerOf } from '../../activities/kubernetes/gitops-owner.js';
import { rolloutOwning, weightPlan } from '../../activities/kubernetes/traffic.js';
import { parsePlaybook } from '../../src/playbooks/load.js';

describe('ownerOf', () => {
  const meta = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({ labels, annotations });
  it('reads Argo CD tracking ids (Argo CD namespace or <ns>_<app>), Flux labels, and the instance label as a tentative Application', () => {
    expect(ownerOf(meta({}, { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/web' }), 'argocd')).toEqual({
      owner: { kind: 'Application', namespace: 'argocd', name: 'shop', via: 'metadata.annotations["argocd.argoproj.io/tracking-id"]' },
    });
    expect(ownerOf(meta({}, { 'argocd.argoproj.io/tracking-id': 'team-a_shop:apps/Deployment:shop/web' }), 'argocd')).toMatchObject({ owner: { namespace: 'team-a', name: 'shop' } });
    expect(ownerOf(meta({ 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' }), 'argocd')).toMatchObject({ owner: { kind: 'Kustomization', namespace: 'flux-system', name: 'apps' } });
    // a HelmRelease's objects carry its Kustomization's labels too: the HelmRelease owns them
    const both = { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system', 'helm.toolkit.fluxcd.io/name': 'web', 'helm.toolkit.fluxcd.io/namespace': 'shop' };
    expect(ownerOf(meta(both), 'argocd')).toMatchObject({ owner: { kind: 'HelmRelease', namespace: 'shop', name: 'web' } });
    expect(ownerOf(meta({ 'app.kubernetes.io/instance': 'web' }), 'argocd')).toMatchObject({ owner: { kind: 'Application', name: 'web', tentative: true } });
    expect(ownerOf(meta({ app: 'web' }), 'argocd')).toEqual({ none: true });
  });

  it('unknown owners name the field: malformed tracking id, an invalid name, Argo CD and Flux both, a tool medic does not support', () => {
    expect(ownerOf(meta({}, { 'argocd.argoproj.io/tracking-id': 'nope' }), 'argocd')).toMatchObject({ field: 'metadata.annotations["argocd.argoproj.io/tracking-id"]' });
    expect(ownerOf(meta({}, { 'argocd.argoproj.io/tracking-id': 'Bad App:apps/Deployment:shop/web' }), 'argocd')).toMatchObject({ problem: expect.stringContaining('not a valid Application name') });
    const twice = ownerOf(meta({ 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' }, { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/web' }), 'argocd');
    expect(twice).toMatchObject({ problem: expect.stringContaining('name different owners (Application argocd/shop, Kustomization flux-system/apps): unknown owner') });
    expect(ownerOf(meta({}, { 'kapp.k14s.io/app': '123' }), 'argocd')).toMatchObject({ field: 'metadata.annotations["kapp.k14s.io/app"]' });
  });
});

describe('syncMarkerOf (sync/reconcile events as deployment markers)', () => {
  it('Argo CD: operationState and history; running while an operation is set', () => {
    const app = { status: { history: [{ revision: 'a1', deployedAt: '2026-12-01T00:00:00Z' }], operationState: { phase: 'Succeeded', finishedAt: '2026-12-02T00:00:00Z', syncResult: { revision: 'b2' } } } };
    expect(syncMarkerOf('Application', app)).toEqual({ revision: 'b2', at: '2026-12-02T00:00:00Z', running: false });
    expect(syncMarkerOf('Application', { ...app, operation: { sync: {} } }).running).toBe(true);
  });
  it('Flux: lastAppliedRevision, and running while a newer revision is attempted', () => {
    const ks = { status: { lastAppliedRevision: 'main@sha1:aaa', lastAttemptedRevision: 'main@sha1:bbb', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-12-03T00:00:00Z' }] } };
    expect(syncMarkerOf('Kustomization', ks)).toEqual({ revision: 'main@sha1:aaa', at: '2026-12-03T00:00:00Z', running: true });
    expect(syncMarkerOf('HelmRelease', { status: { history: [{ chartName: 'web', chartVersion: '1.2.0', lastDeployed: '2026-12-04T00:00:00Z' }] } })).toEqual({ revision: 'web@1.2.0', at: '2026-12-04T00:00:00Z', running: false });
  });
});

describe('weightPlan', () => {
  const spec = { http: [{ name: 'primary', route: [{ destination: { host: 'web', subset: 'stable' }, weight: 80 }, { destination: { host: 'web', subset: 'canary' }, weight: 20 }] }] };
  const to = (stable: number, canary: number) => [
    { host: 'web', subset: 'stable', weight: stable },
    { host: 'web', subset: 'canary', weight: canary },
  ];
  it('patches only the weights that move, by subset', () => {
    expect(weightPlan(spec, { weights: to(100, 0), maxChange: 100 })).toMatchObject({
      index: 0,
      after: [100, 0],
      ops: [
        { op: 'add', path: '/spec/http/0/route/0/weight', value: 100 },
        { op: 'add', path: '/spec/http/0/route/1/weight', value: 0 },
      ],
    });
    expect(weightPlan(spec, { weights: to(80, 20), maxChange: 100 })).toMatchObject({ ops: [] });
    // by subset alone (Argo Rollouts' subset-level routing: one host, subsets stable / canary)
    expect(weightPlan(spec, { weights: [{ subset: 'canary', weight: 0 }, { subset: 'stable', weight: 100 }], maxChange: 100 })).toMatchObject({ after: [100, 0] });
    // a lone destination without a weight carries 100
    expect(weightPlan({ http: [{ route: [{ destination: { host: 'a' } }] }] }, { weights: [{ host: 'a', weight: 100 }], maxChange: 1 })).toMatchObject({ before: [{ host: 'a', weight: 100 }] });
  });
  it('refuses naming the field: sum, range, unknown route or destination, a missing destination, beyond maxChange', () => {
    const field = (p: ReturnType<typeof weightPlan>) => ('field' in p ? p.field : 'accepted');
    expect(field(weightPlan(spec, { weights: to(90, 20), maxChange: 100 }))).toBe('params.weights');
    expect(field(weightPlan(spec, { weights: to(101, -1), maxChange: 100 }))).toBe('params.weights[0].weight');
    expect(field(weightPlan(spec, { route: 'other', weights: to(100, 0), maxChange: 100 }))).toBe('params.route');
    expect(field(weightPlan({ http: [...spec.http, ...spec.http] }, { weights: to(100, 0), maxChange: 100 }))).toBe('params.route');
    expect(field(weightPlan(spec, { weights: [{ host: 'web', subset: 'stable', weight: 100 }], maxChange: 100 }))).toBe('params.weights');
    expect(field(weightPlan(spec, { weights: [{ host: 'web', subset: 'stable', weight: 100 }, { host: 'x', weight: 0 }], maxChange: 100 }))).toBe('params.weights[1].host');
    expect(field(weightPlan(spec, { weights: to(100, 0), maxChange: 19 }))).toBe('params.maxChange');
  });
  it('finds the Rollout whose canary trafficRouting names the VirtualService', () => {
    const ro = (name: string, vs: string) => ({ metadata: { name }, spec: { strategy: { canary: { trafficRouting: { istio: { virtualServices: [{ name: vs }] } } } } } });
    expect(rolloutOwning([ro('a', 'other'), ro('b', 'web')], 'web')?.metadata?.name).toBe('b');
    expect(rolloutOwning([ro('a', 'other')], 'web')).toBeUndefined();
  });
});

describe('playbook schema: gitops, shift-traffic, circuit-break', () => {
  const problems = (step: string): string[] =>
    parsePlaybook(`name: t\nmatch:\n  alertname: A\nsteps:\n${step}`, 'pb.yaml', {}).problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
  it('weights must sum to 100 and stay within 0–100', () => {
    const step = (a: number, b: number) => `  - name: shift\n    action: kubernetes\n    params:\n      operation: shift-traffic\n      name: web\n      weights:\n        - { host: web-stable, weight: ${a} }\n        - { host: web-canary, weight: ${b} }\n`;
    expect(problems(step(100, 0))).toEqual([]);
    expect(problems(step(90, 0)).join()).toMatch(/steps\.0\.params\.weights: weights must sum to 100/);
    expect(problems(step(150, -50)).join()).toMatch(/weight must be within 0–100/);
  });
  it('rollback-through-gitops is for rollback only; the ejection bound holds; a bad gitops mode names the field', () => {
    const step = (params: string) => `  - name: s\n    action: kubernetes\n    params:\n${params}`;
    expect(problems(step('      operation: restart\n      name: web\n      gitops: rollback-through-gitops\n')).join()).toMatch(/rollback-through-gitops is for operation: rollback only/);
    expect(problems(step('      operation: rollback\n      name: web\n      gitops: rollback-through-gitops\n      resumeAfter: 1h\n'))).toEqual([]);
    expect(problems(step('      operation: rollback\n      name: web\n      gitops: sometimes\n')).join()).toMatch(/gitops/);
    expect(problems(step('      operation: circuit-break\n      name: web\n      outlierDetection: { maxEjectionPercent: 90 }\n')).join()).toMatch(
      /outlierDetection\.maxEjectionPercent: outlierDetection.maxEjectionPercent must not exceed maxEjectionPercent/,
    );
  });
});
