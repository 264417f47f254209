// A workload worth collecting evidence about, on the real test control plane and log store:
// Deployment shop/web deployed twice (image and env changed, so a second ReplicaSet revision),
// its ConfigMap edited, the new revision's pod OOMKilled and backing off (status written as the
// kubelet would), a BackOff event, its node under memory pressure, and 30 log lines in
// VictoriaLogs, the last one with a secret in it. Used by the evidence tests.
import { kubeClientsFrom } from '../../activities/kubernetes.js';
import { startKubeCluster, type KubeCluster } from './kubernetes.js';
import { adminOf, medicKubeConfig, until } from './kube-fixtures.js';
import { startVictoriaLogs, type VictoriaLogs } from './victorialogs.js';

/** The crashing workload on its own control plane and log store, with medic's Kubernetes clients
 * (its ServiceAccount under the shipped RBAC) for the namespace: what the evidence tests read. */
export interface CrashingWeb {
  cluster: KubeCluster;
  logs: VictoriaLogs;
  kube: { clients: ReturnType<typeof kubeClientsFrom>; namespace: string };
  stop(): Promise<void>;
}

/** Starts a kube-apiserver and a VictoriaLogs, seeds them (seedCrashingWeb) and makes medic's
 * clients; whatever started is stopped again when a step fails. */
export async function startCrashingWeb(NS: string, NODE: string): Promise<CrashingWeb> {
  const [cluster, logs] = await Promise.all([startKubeCluster(), startVictoriaLogs()]);
  const stop = async (): Promise<void> => {
    await Promise.all([cluster.stop(), logs.stop()]);
  };
  try {
    await seedCrashingWeb(cluster, logs, NS, NODE);
    return { cluster, logs, kube: { clients: kubeClientsFrom(await medicKubeConfig(cluster)), namespace: NS }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function seedCrashingWeb(cluster: KubeCluster, logs: VictoriaLogs, NS: string, NODE: string): Promise<void> {
  const admin = adminOf(cluster);
  await admin.namespace(NS);
  await admin.node(NODE);
  await admin.core.patchNodeStatus(
    { name: NODE, body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }, { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory' }] } } },
    admin.merge,
  );
  await admin.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'web-config' }, data: { LIMIT: '1' } } });
  await admin.apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1.4', env: [{ name: 'POOL', value: '10' }], envFrom: [{ configMapRef: { name: 'web-config' } }] }] } },
      },
    },
  });
  // A config edit, then a deploy shortly before the alert: new image and env → a second ReplicaSet revision.
  await admin.core.patchNamespacedConfigMap({ namespace: NS, name: 'web-config', body: { data: { LIMIT: '2' } } }, admin.merge);
  await admin.apps.patchNamespacedDeployment(
    { namespace: NS, name: 'web', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'web:1.5', env: [{ name: 'POOL', value: '50' }], envFrom: [{ configMapRef: { name: 'web-config' } }] }] } } } } },
    admin.merge,
  );
  const pods = await until('the new revision’s pod', async () => {
    const ps = await admin.actAsKubelet(NS, 'app=web', NODE);
    return ps.some((p) => p.spec?.containers[0]?.image === 'web:1.5') && ps;
  });
  // The kubelet's report of an app killed for memory and now backing off.
  const now = new Date().toISOString();
  // The old revision's pod keeps running; the new one is killed for memory and backs off.
  for (const p of pods.filter((x) => x.spec?.containers[0]?.image === 'web:1.5')) {
    await admin.core.patchNamespacedPodStatus(
      {
        namespace: NS,
        name: p.metadata!.name!,
        body: {
          status: {
            containerStatuses: [
              {
                name: 'app', image: 'web:1.5', imageID: '', ready: false, started: false, restartCount: 5,
                state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
                lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: now, finishedAt: now } },
              },
            ],
          },
        },
      },
      admin.merge,
    );
    await admin.core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { generateName: 'web-' },
        involvedObject: { kind: 'Pod', name: p.metadata!.name!, namespace: NS },
        reason: 'BackOff', type: 'Warning', message: 'Back-off restarting failed container app', count: 7,
        firstTimestamp: now as unknown as Date, lastTimestamp: now as unknown as Date,
      },
    });
  }
  const t = Date.now();
  await logs.ingest(
    Array.from({ length: 30 }, (_, i) => ({
      _msg: i === 29 ? 'fatal: out of memory allocating 512MiB; db password=hunter2 pool=main' : `GET /checkout 200 ${i}`,
      _time: new Date(t - (30 - i) * 1_000).toISOString(),
      namespace: NS, app: 'web', pod: 'web-1',
    })),
    ['namespace', 'app'],
  );
}
