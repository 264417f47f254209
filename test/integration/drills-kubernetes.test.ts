// Kubernetes drill faults against a real kube-apiserver + controller-manager (RBAC on), injected
// with medic's ServiceAccount from the shipped deploy/kubernetes/rbac.yaml: scale a drillable
// Deployment to zero and back, delete one of its pods (its ReplicaSet replaces it), and refuse a
// Deployment that is not marked drillable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createDrillActivities } from '../../activities/drills.js';
import { kubeClientsFrom } from '../../activities/kubernetes.js';
import { DrillScenarioSchema, DrillTargetSchema } from '../../src/drills/schema.js';
import { startKubeCluster, type KubeCluster } from '../support/kubernetes.js';
import { adminOf, medicKubeConfig, until } from '../support/kube-fixtures.js';

const NS = 'drill';
let cluster: KubeCluster;
let acts: ReturnType<typeof createDrillActivities>;
let apps: AppsV1Api;
let core: CoreV1Api;

const scenario = (fault: string, target = 'web') =>
  DrillScenarioSchema.parse({ name: `k8s-${fault}`, target, fault: { kind: fault }, expect: { playbook: 'crash-looping-pod' } });

beforeAll(async () => {
  cluster = await startKubeCluster();
  await adminOf(cluster).namespace(NS);
  apps = cluster.admin.makeApiClient(AppsV1Api);
  core = cluster.admin.makeApiClient(CoreV1Api);
  for (const name of ['web', 'payments']) {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name, labels: { app: name } },
        spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
      },
    });
  }
  // Only the Temporal-facing watchers use the client; inject/revert never call it.
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  acts = createDrillActivities({
    client,
    taskQueue: 'unused',
    targets: {
      web: DrillTargetSchema.parse({ kind: 'kubernetes-deployment', namespace: NS, name: 'web', drillable: true }),
      payments: DrillTargetSchema.parse({ kind: 'kubernetes-deployment', namespace: NS, name: 'payments' }),
    },
    fetch,
    secret: () => undefined,
    ssm: new SSMClient({ region: 'us-east-1' }),
    sinks: [],
    kube: kubeClientsFrom(await medicKubeConfig(cluster)),
  });
});
afterAll(() => cluster?.stop());

const replicas = async (name: string) => (await apps.readNamespacedDeployment({ name, namespace: NS })).spec?.replicas;
const pods = async (name: string) => (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${name}` })).items.filter((p) => !p.metadata?.deletionTimestamp);

describe('Kubernetes drill faults (real API server, medic RBAC)', () => {
  it('scale to zero, a retried inject keeps the original count, revert scales back', async () => {
    const sc = scenario('k8s-scale-to-zero');
    expect((await acts.drillInject({ scenario: sc, key: 'k1' })).summary).toBe(`Deployment ${NS}/web scaled from 2 to 0 replicas`);
    expect(await replicas('web')).toBe(0);
    expect((await acts.drillInject({ scenario: sc, key: 'k1' })).summary).toBe(`Deployment ${NS}/web scaled from 2 to 0 replicas`);
    await until('pods gone', async () => (await pods('web')).length === 0);
    expect(await acts.drillRevert({ scenario: sc, key: 'k1' })).toBe(`Deployment ${NS}/web scaled back to 2 replicas`);
    expect(await replicas('web')).toBe(2);
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: NS })).metadata?.annotations?.['medic.dev/drill-replicas-before']).toBeUndefined();
  });

  it('delete a pod: one pod goes, the ReplicaSet replaces it', async () => {
    const before = await until('two pods', async () => {
      const p = await pods('web');
      return p.length === 2 ? p.map((x) => x.metadata!.name!) : undefined;
    });
    const r = await acts.drillInject({ scenario: scenario('k8s-delete-pod'), key: 'k2' });
    const victim = /^pod drill\/(\S+) of Deployment web deleted$/.exec(r.summary)?.[1];
    expect(before).toContain(victim);
    await until('a replacement pod', async () => {
      const now = (await pods('web')).map((x) => x.metadata!.name!);
      return now.length === 2 && !now.includes(victim!);
    });
  });

  it('a Deployment not marked drillable is refused, and left alone', async () => {
    const err = await acts.drillInject({ scenario: scenario('k8s-scale-to-zero', 'payments'), key: 'k3' }).catch((e: Error & { type?: string }) => e);
    expect((err as { type?: string }).type).toBe('DrillRefused');
    expect((err as Error).message).toContain('target "payments" is not marked drillable');
    expect(await replicas('payments')).toBe(2);
  });
});
