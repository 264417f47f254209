// The Kubernetes test harness itself, on the real control plane it starts (etcd +
// kube-apiserver with RBAC + kube-controller-manager, built by scripts/provision-kubernetes.sh):
// the controllers act, ServiceAccount tokens authenticate and RBAC decides, TLS verifies against
// the generated CA, and the Argo Rollouts CRD serves Rollout objects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, VersionApi,
  setHeaderOptions, type V1Deployment,
} from '@kubernetes/client-node';
import { installRolloutCrd, startKubeCluster, type KubeCluster } from '../support/kubernetes.js';
import { until } from '../support/kube-fixtures.js';

let cluster: KubeCluster;
let startMs = 0;
beforeAll(async () => {
  const t0 = Date.now();
  cluster = await startKubeCluster();
  startMs = Date.now() - t0;
  console.log(`kubernetes control plane ready in ${startMs} ms at ${cluster.server}`);
});
afterAll(() => cluster?.stop());

const codeOf = (p: Promise<unknown>): Promise<number | 'ok'> =>
  p.then(() => 'ok' as const, (err: unknown) => (err as { code?: number }).code ?? -1);

const deployment = (name: string, image: string): V1Deployment => ({
  metadata: { name, labels: { app: name } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
  },
});

describe('startKubeCluster', () => {
  it('serves the pinned Kubernetes version over TLS verified against the generated CA', async () => {
    const info = await cluster.admin.makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe('v1.34.4');
    expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cluster.admin.getCurrentCluster()?.skipTLSVerify).toBe(false);
    // The same server with no CA to trust is refused: verification is really on.
    const untrusted = new KubeConfig();
    untrusted.loadFromClusterAndUser({ name: 'x', server: cluster.server, skipTLSVerify: false }, { name: 'u', token: 'nope' });
    const refused = await untrusted.makeApiClient(VersionApi).getCode().then(
      () => undefined,
      (err: unknown) => err as Error & { cause?: Error },
    );
    // client-node 2 fetches with undici: the TLS failure is the cause of its "fetch failed"
    expect(`${refused?.message}: ${refused?.cause?.message}`).toMatch(/certificate/i);
    expect(startMs).toBeGreaterThan(0);
  });

  it('runs the controllers: a Deployment gets a ReplicaSet, a new template a second revision', async () => {
    const apps = cluster.admin.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', 'nginx:1.27') });
    const first = await until('the first ReplicaSet', async () => {
      const rs = await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=web' });
      return rs.items.length === 1 ? rs.items[0] : undefined;
    });
    expect(first.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web' });
    expect(first.spec?.replicas).toBe(2);
    expect(first.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    // Pods are created (they stay Pending: no scheduler, no kubelet).
    await until('two pods', async () => {
      const pods = await cluster.admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
      return pods.items.length === 2 ? pods.items : undefined;
    });

    await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const revisions = await until('revision 2', async () => {
      const rs = await apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=web' });
      const revs = rs.items.map((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort();
      return revs.length === 2 && revs[1] === '2' ? revs : undefined;
    });
    expect(revisions).toEqual(['1', '2']);
  });

  it('authenticates a ServiceAccount by a minted token and enforces RBAC: Forbidden until a Role is bound', async () => {
    const kc = await cluster.serviceAccount('medic-rbac', 'medic');
    expect(kc.getCurrentUser()?.token).toMatch(/^ey/); // a signed JWT from TokenRequest
    const asMedic = kc.makeApiClient(CoreV1Api);
    expect(await codeOf(asMedic.listNamespacedPod({ namespace: 'medic-rbac' }))).toBe(403);

    const rbac = cluster.admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'medic-rbac',
      body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'medic-rbac',
      body: {
        metadata: { name: 'medic-pod-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'medic', namespace: 'medic-rbac' }],
      },
    });
    // The authorizer sees the binding through its informer: allowed within moments.
    const pods = await until('list allowed', () => asMedic.listNamespacedPod({ namespace: 'medic-rbac' }), 15_000);
    expect(pods.items).toEqual([]);
    // Only what the Role grants: other namespaces and verbs stay Forbidden.
    expect(await codeOf(asMedic.listNamespacedPod({ namespace: 'default' }))).toBe(403);
    expect(await codeOf(asMedic.deleteNamespacedPod({ name: 'x', namespace: 'medic-rbac' }))).toBe(403);
  });

  it('writes a kubeconfig file that loads back to the same identity and CA', async () => {
    const kc = await cluster.serviceAccount('medic-rbac', 'medic');
    const dir = mkdtempSync(join(tmpdir(), 'medic-kubeconfig-'));
    try {
      const path = join(dir, 'kubeconfig');
      cluster.writeKubeconfig(kc, path);
      const loaded = new KubeConfig();
      loaded.loadFromFile(path);
      expect(loaded.getCurrentCluster()?.server).toBe(cluster.server);
      expect(loaded.getCurrentUser()?.token).toBe(kc.getCurrentUser()?.token);
      expect((await loaded.makeApiClient(VersionApi).getCode()).gitVersion).toBe('v1.34.4');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('installs the Argo Rollouts CRD: a Rollout is created, its status is a subresource', async () => {
    await installRolloutCrd(cluster);
    await installRolloutCrd(cluster); // idempotent
    const custom = cluster.admin.makeApiClient(CustomObjectsApi);
    const rollout = { group: 'argoproj.io', version: 'v1alpha1', namespace: 'default', plural: 'rollouts' };
    await until('Rollout create', () => custom.createNamespacedCustomObject({
      ...rollout,
      body: {
        apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'checkout' },
        spec: { replicas: 3, strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } },
        status: { abort: true }, // dropped on create: status is a subresource
      },
    }), 15_000);
    const got = (await custom.getNamespacedCustomObject({ ...rollout, name: 'checkout' })) as { spec: Record<string, unknown>; status?: unknown };
    expect(got.spec).toMatchObject({ replicas: 3, strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } } });
    expect(got.status).toBeUndefined();
    await custom.patchNamespacedCustomObjectStatus(
      { ...rollout, name: 'checkout', body: { status: { abort: true } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const aborted = (await custom.getNamespacedCustomObject({ ...rollout, name: 'checkout' })) as { status?: { abort?: boolean } };
    expect(aborted.status?.abort).toBe(true);
  });
});

describe('startKubeCluster({ controllers: false })', () => {
  it('serves the API alone: the default ServiceAccount is made by the harness, so pods are admitted', async () => {
    const t0 = Date.now();
    const bare = await startKubeCluster({ controllers: false });
    try {
      console.log(`kube-apiserver + etcd alone ready in ${Date.now() - t0} ms`);
      const core = bare.admin.makeApiClient(CoreV1Api);
      const pod = await core.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name: 'lonely' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
      });
      expect(pod.spec?.serviceAccountName).toBe('default');
      const sa = await bare.serviceAccount('default', 'reader');
      expect(await codeOf(sa.makeApiClient(CoreV1Api).readNamespacedPod({ name: 'lonely', namespace: 'default' }))).toBe(403);
    } finally {
      await bare.stop();
    }
  });
});
