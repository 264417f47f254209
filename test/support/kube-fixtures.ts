// Fixtures for the Kubernetes actuator tests, on the real control plane of ./kubernetes.ts:
// medic's ServiceAccount bound by the shipped deploy/kubernetes/rbac.yaml, workloads and nodes
// created with the admin credential, and the kubelet's part played by hand. There is no kubelet
// (and no scheduler) here, so pods stay Pending: `actAsKubelet` binds them to a node and sets
// their status Running + Ready through the status subresource with the admin credential — the
// same writes a scheduler and kubelet make — so ReplicaSets, Deployments and PodDisruptionBudgets
// see ready pods.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type KubernetesObject,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { kubernetesDeps, type KubernetesDeps } from '../../activities/kubernetes.js';
import { installCrds, startKubeCluster, type KubeCluster } from './kubernetes.js';
import { ROOT } from './paths.js';

export const RBAC_PATH = join(ROOT, 'deploy', 'kubernetes', 'rbac.yaml');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;

/** Creates every object of a multi-document manifest; objects that exist are left as they are. */
export async function applyManifest(kc: KubeConfig, path: string): Promise<KubernetesObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const docs = loadAllYaml(readFileSync(path, 'utf8')) as KubernetesObject[];
  for (const doc of docs) {
    try {
      await client.create(doc);
    } catch (err) {
      if (codeOf(err) !== 409) throw err;
    }
  }
  return docs;
}

/** medic's credential: a token of the ServiceAccount the shipped rbac.yaml binds. */
export async function medicKubeConfig(cluster: KubeCluster): Promise<KubeConfig> {
  await applyManifest(cluster.admin, RBAC_PATH);
  return cluster.serviceAccount('medic', 'medic');
}

export function medicDeps(kc: KubeConfig, namespace: string, extra: Partial<KubernetesDeps> = {}): KubernetesDeps {
  return { ...kubernetesDeps(kc, namespace), pollMs: { initial: 200, max: 1_000 }, ...extra };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(200);
  }
}

/** Admin-side helpers for one namespace. */
export function adminOf(cluster: KubeCluster) {
  const apps = cluster.admin.makeApiClient(AppsV1Api);
  const core = cluster.admin.makeApiClient(CoreV1Api);
  const policy = cluster.admin.makeApiClient(PolicyV1Api);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  async function namespace(name: string): Promise<string> {
    await core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
      if (codeOf(err) !== 409) throw err;
    });
    // The ServiceAccount admission plugin refuses pods until the controller made `default`.
    await until(`ServiceAccount ${name}/default`, () => core.readNamespacedServiceAccount({ namespace: name, name: 'default' }));
    return name;
  }

  function deployment(ns: string, name: string, image: string, replicas = 2): Promise<V1Deployment> {
    return apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name, labels: { app: name } },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
        },
      },
    });
  }

  async function node(name: string, labels: Record<string, string> = {}): Promise<void> {
    await core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } } }).catch((err: unknown) => {
      if (codeOf(err) !== 409) throw err;
    });
  }

  /** The scheduler's and kubelet's part for the pods matching selector: bind each unbound pod to
   * nodeName (pods/binding) and report it Running and Ready (pods/status). */
  async function actAsKubelet(ns: string, selector: string, nodeName: string): Promise<V1Pod[]> {
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: selector })).items.filter((p) => !p.metadata?.deletionTimestamp);
    for (const p of pods) {
      const name = p.metadata!.name!;
      if (!p.spec?.nodeName) {
        await core.createNamespacedPodBinding({
          namespace: ns,
          name,
          body: { metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
        });
      }
      if (p.status?.phase === 'Running') continue;
      const now = new Date().toISOString();
      await core.patchNamespacedPodStatus(
        {
          namespace: ns,
          name,
          body: {
            status: {
              phase: 'Running',
              conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
              containerStatuses: (p.spec?.containers ?? []).map((c) => ({
                name: c.name,
                image: c.image,
                imageID: '',
                ready: true,
                started: true,
                restartCount: 0,
                state: { running: { startedAt: now } },
              })),
              startTime: now,
            },
          },
        },
        merge,
      );
    }
    return pods;
  }

  /** The kubelet finishing a graceful deletion: the terminating pods go for good. */
  async function finishTerminating(ns: string): Promise<void> {
    const pods = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.metadata?.deletionTimestamp);
    for (const p of pods) {
      await core.deleteNamespacedPod({ namespace: ns, name: p.metadata!.name!, gracePeriodSeconds: 0 }).catch((err: unknown) => {
        if (codeOf(err) !== 404) throw err;
      });
    }
  }

  return { apps, core, policy, merge, namespace, deployment, node, actAsKubelet, finishTerminating };
}

/**
 * A plain-HTTP proxy in front of the real (HTTPS) API server that answers the first `failFirst`
 * requests itself — 503, or no answer at all ('hang', so the client's request deadline fires) —
 * and forwards everything else (the bearer token included) unchanged.
 */
export interface FlakyProxy {
  url: string;
  /** Requests seen, and how many of them were failed on purpose. */
  seen: string[];
  failed: number;
  fail(n: number, how: '503' | 'hang'): void;
  /** The next request with this method reaches the API server, but its answer is swallowed: the
   * caller sees a hung request after its change was made (a crash between call and completion). */
  loseAnswerTo(method: string): void;
  /** A KubeConfig identical to `kc` but pointed at the proxy. */
  configFor(kc: KubeConfig): KubeConfig;
  close(): Promise<void>;
}

/** The cluster's CA (PEM), for a proxy that talks to the API server. */
export function clusterCa(cluster: KubeCluster): string | undefined {
  const caData = cluster.admin.getCurrentCluster()?.caData;
  return caData ? Buffer.from(caData, 'base64').toString('utf8') : undefined;
}

/** A KubeConfig with kc's credential, pointed at a plain-HTTP proxy in front of the API server. */
export function kubeConfigVia(kc: KubeConfig, url: string): KubeConfig {
  const user = kc.getCurrentUser();
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [{ name: 'via-proxy', server: url, skipTLSVerify: true }],
    users: [{ name: user?.name ?? 'u', ...(user?.token ? { token: user.token } : {}) }],
    contexts: [{ name: 'via-proxy', cluster: 'via-proxy', user: user?.name ?? 'u' }],
    currentContext: 'via-proxy',
  });
  return out;
}

export async function startFlakyProxy(cluster: KubeCluster): Promise<FlakyProxy> {
  const target = new URL(cluster.server);
  const ca = clusterCa(cluster);
  let toFail = 0;
  let how: '503' | 'hang' = '503';
  let loseAnswer: string | undefined;
  const hung: import('node:http').ServerResponse[] = [];
  const state = { seen: [] as string[], failed: 0 };
  const server: Server = createServer((req, res) => {
    state.seen.push(`${req.method} ${req.url}`);
    if (toFail > 0) {
      toFail--;
      state.failed++;
      if (how === 'hang') {
        hung.push(res);
        return;
      }
      res.writeHead(503, { 'content-type': 'text/plain' }).end('proxy: service unavailable (injected)');
      return;
    }
    const lose = loseAnswer !== undefined && req.method === loseAnswer;
    if (lose) {
      loseAnswer = undefined;
      state.failed++;
      hung.push(res);
    }
    const up = httpsRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, ca },
      (r) => {
        if (lose) {
          r.resume();
          return;
        }
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (err) => res.writeHead(502).end(String(err)));
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get seen() {
      return state.seen;
    },
    get failed() {
      return state.failed;
    },
    fail(n, h) {
      toFail = n;
      how = h;
    },
    loseAnswerTo(method) {
      loseAnswer = method;
    },
    configFor: (kc) => kubeConfigVia(kc, url),
    async close() {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A kube-apiserver for one test file (with `crds` installed, then `namespaces` made), its admin
 * helpers, and medic's own kubeconfig (its ServiceAccount under the shipped RBAC). */
export interface MedicCluster {
  cluster: KubeCluster;
  admin: ReturnType<typeof adminOf>;
  medic: KubeConfig;
  stop(): Promise<void>;
}

export async function startMedicCluster(namespaces: string[], crds: string[] = []): Promise<MedicCluster> {
  const cluster = await startKubeCluster();
  try {
    if (crds.length > 0) await installCrds(cluster, crds, 60_000);
    const admin = adminOf(cluster);
    for (const ns of namespaces) await admin.namespace(ns);
    return { cluster, admin, medic: await medicKubeConfig(cluster), stop: () => cluster.stop() };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
