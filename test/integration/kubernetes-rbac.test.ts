// The shipped deploy/kubernetes/rbac.yaml on a real API server with RBAC on: it grants exactly the
// verbs the actions use (the action suites run with it, so nothing is missing; here: nothing more),
// an unlisted verb is Forbidden and comes back as a clear non-retryable failure, and API errors
// are sorted the way Temporal needs them — 4xx final, 5xx and timeouts retryable — through a proxy
// in front of the real API server that injects 503s and hangs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/activity';
import { AppsV1Api, AuthorizationV1Api, loadAllYaml, type KubeConfig, type V1ClusterRole } from '@kubernetes/client-node';
import { createKubernetesActivities } from '../../activities/kubernetes.js';
import { call } from '../../activities/kubernetes/client.js';
import { medicDeps, RBAC_PATH, startFlakyProxy, startMedicCluster, type FlakyProxy } from '../support/kube-fixtures.js';
import { perFile } from '../support/fixtures.js';

const NS = 'errs';
const kube = perFile(() => startMedicCluster([NS]));
let proxy: FlakyProxy;

beforeAll(async () => {
  await kube.admin.deployment(NS, 'web', 'registry.local/web:1', 1);
  proxy = await startFlakyProxy(kube.cluster);
});
afterAll(async () => {
  await proxy?.close();
});

const failureOf = async (p: Promise<unknown>): Promise<Error & { type?: string; nonRetryable?: boolean; details?: unknown[] }> => {
  try {
    await p;
  } catch (err) {
    return err as Error & { type?: string; nonRetryable?: boolean };
  }
  throw new Error('expected a failure');
};
const restart = (kc: KubeConfig, name = 'web', requestTimeoutMs = 10_000) =>
  createKubernetesActivities(medicDeps(kc, NS, { requestTimeoutMs })).k8sRestart({
    kind: 'Deployment',
    name,
    idempotencyKey: `incident:rbac:${Math.random()}:step-0:try-1`,
    dryRun: false,
    timeoutMs: 10_000,
  });

describe('deploy/kubernetes/rbac.yaml', () => {
  it('grants exactly these verbs on these resources, cluster-wide, to ServiceAccount medic/medic', () => {
    const docs = loadAllYaml(readFileSync(RBAC_PATH, 'utf8')) as { kind: string }[];
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding']);
    const role = docs[2] as V1ClusterRole;
    const grants = (role.rules ?? []).flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => `${g || 'core'}/${res}: ${[...(r.verbs ?? [])].sort().join(',')}`)),
    );
    expect(grants.sort()).toEqual([
      'apps/daemonsets: get,patch',
      'apps/deployments: get,patch',
      'apps/replicasets: get,list',
      'apps/statefulsets: get,patch',
      'argoproj.io/applications: get,patch',
      'argoproj.io/rollouts/status: patch',
      'argoproj.io/rollouts: get,list,patch',
      'core/configmaps: list',
      'core/events: list',
      'core/nodes: get,patch',
      'core/pods/eviction: create',
      'core/pods/log: get',
      'core/pods: delete,get,list,patch',
      'helm.toolkit.fluxcd.io/helmreleases: get,patch',
      'kustomize.toolkit.fluxcd.io/kustomizations: get,patch',
      'networking.istio.io/destinationrules: get,patch',
      'networking.istio.io/virtualservices: get,patch',
    ]);
  });

  it('the API server refuses what the file does not grant (asked as medic: SelfSubjectAccessReview)', async () => {
    const authz = kube.medic.makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, resource: string, group = '', subresource = '') =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: NS, verb, group, resource, subresource } } } })).status?.allowed;
    expect(await can('patch', 'deployments', 'apps')).toBe(true);
    expect(await can('create', 'pods', '', 'eviction')).toBe(true);
    for (const [verb, resource, group, sub] of [
      ['delete', 'deployments', 'apps', ''],
      ['update', 'deployments', 'apps', ''],
      ['patch', 'deployments', 'apps', 'scale'],
      ['create', 'pods', '', ''],
      ['get', 'secrets', '', ''],
      ['patch', 'replicasets', 'apps', ''],
      ['delete', 'nodes', '', ''],
      ['get', 'rollouts', 'argoproj.io', 'status'],
      ['list', 'poddisruptionbudgets', 'policy', ''],
    ] as const) {
      expect(await can(verb, resource, group, sub), `${verb} ${group}/${resource}${sub ? `/${sub}` : ''}`).toBe(false);
    }
  });

  it('an unlisted verb (deleting a Deployment) is Forbidden: a non-retryable failure naming verb, resource and reason', async () => {
    const apps = kube.medic.makeApiClient(AppsV1Api);
    const err = await failureOf(call(`delete Deployment ${NS}/web`, () => apps.deleteNamespacedDeployment({ namespace: NS, name: 'web' })));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'KubernetesRejected', nonRetryable: true });
    expect(err.message).toBe(
      `delete Deployment ${NS}/web: HTTP 403 Forbidden: deployments.apps "web" is forbidden: User "system:serviceaccount:medic:medic" cannot delete resource "deployments" in API group "apps" in the namespace "${NS}"`,
    );
    expect((await kube.admin.apps.readNamespacedDeployment({ namespace: NS, name: 'web' })).metadata?.name).toBe('web');
  });

  it('an action with a credential lacking the binding fails Forbidden, non-retryable, at its first request', async () => {
    const stranger = await kube.cluster.serviceAccount(NS, 'not-medic');
    const err = await failureOf(restart(stranger));
    expect(err).toMatchObject({ type: 'KubernetesRejected', nonRetryable: true, details: [{ status: 403, reason: 'Forbidden', request: `get Deployment ${NS}/web` }] });
    expect(err.message).toMatch(new RegExp(`^get Deployment ${NS}/web: HTTP 403 Forbidden: .*cannot get resource "deployments"`));
  });
});

describe('API errors and Temporal retries', () => {
  it('404 and 422 are final (non-retryable) with the API server’s reason', async () => {
    const missing = await failureOf(restart(kube.medic, 'nope'));
    expect(missing).toMatchObject({ type: 'KubernetesRejected', nonRetryable: true, message: `get Deployment ${NS}/nope: HTTP 404 NotFound: deployments.apps "nope" not found` });
    const apps = kube.medic.makeApiClient(AppsV1Api);
    const invalid = await failureOf(
      call(`patch Deployment ${NS}/web`, () => apps.patchNamespacedDeployment({ namespace: NS, name: 'web', body: { spec: { replicas: -1 } } }, kube.admin.merge)),
    );
    expect(invalid).toMatchObject({ type: 'KubernetesRejected', nonRetryable: true, details: [{ status: 422, reason: 'Invalid', request: `patch Deployment ${NS}/web` }] });
    expect(invalid.message).toMatch(new RegExp(`^patch Deployment ${NS}/web: HTTP 422 Invalid: .*spec.replicas: Invalid value: -1: must be greater than or equal to 0`));
  });

  it('a 503 from in front of the API server is retryable (a plain Error for Temporal to retry), then the action goes through', async () => {
    const viaProxy = proxy.configFor(kube.medic);
    proxy.fail(1, '503');
    const err = await failureOf(restart(viaProxy));
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.message).toBe(`get Deployment ${NS}/web: HTTP 503: proxy: service unavailable (injected)`);
    const ok = await restart(viaProxy);
    expect(ok.changes[0]?.path).toBe('spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]');
  });

  it('a request that hangs hits its deadline and is retryable too', async () => {
    const viaProxy = proxy.configFor(kube.medic);
    proxy.fail(1, 'hang');
    const started = Date.now();
    const err = await failureOf(restart(viaProxy, 'web', 800));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(err.message).toBe(`get Deployment ${NS}/web: request timed out`);
  });
});
