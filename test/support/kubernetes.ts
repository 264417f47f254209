// A real Kubernetes control plane for the actuator tests: etcd + kube-apiserver (RBAC on, TLS
// verified against a generated CA, ServiceAccount tokens signed by a generated key) and, unless
// turned off, kube-controller-manager (Deployments get ReplicaSets, rollbacks have revisions,
// the disruption controller fills PodDisruptionBudget status for evictions). No kubelet and no
// scheduler: pods stay Pending unless a test binds them (spec.nodeName) and patches their status.
// Binaries come from scripts/provision-kubernetes.sh; a missing one fails the test, never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, loadAllYaml, loadYaml, type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { freePort } from '../../dev/ports.js';
import { makeKubePki } from './kubernetes-pki.js';
import { ROOT } from './paths.js';

export interface KubeCluster {
  server: string;                 // https://127.0.0.1:<port>
  admin: KubeConfig;              // @kubernetes/client-node KubeConfig, system:masters
  /** KubeConfig authenticating as ServiceAccount ns/name via a TokenRequest-minted token. */
  serviceAccount(namespace: string, name: string): Promise<KubeConfig>;
  /** Write a kubeconfig file for the given KubeConfig (for processes). */
  writeKubeconfig(kc: KubeConfig, path: string): void;
  stop(): Promise<void>;
}

export interface KubeClusterOptions {
  /** Run kube-controller-manager too (default true). */
  controllers?: boolean;
  /** How long to wait for everything to be ready (default 90 s: a loaded 2-core machine). */
  timeoutMs?: number;
}

const BIN = join(ROOT, '.cache', 'bin');
type KubeBinary = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';
export const kubeBinaryPath = (name: KubeBinary): string => join(BIN, name);
const LOG_ROOT = join(ROOT, '.cache', 'test', 'kubernetes');
export const ROLLOUT_CRD_PATH = join(ROOT, 'test', 'fixtures', 'kubernetes', 'rollout-crd.yaml');
const VENDOR = join(ROOT, 'test', 'fixtures', 'kubernetes', 'vendor');
/** The real upstream CRDs (test/fixtures/kubernetes/vendor/SOURCE.md): Argo CD, Flux, Istio. */
export const VENDORED_CRDS = {
  argocd: join(VENDOR, 'argo-cd', 'application-crd.yaml'),
  fluxKustomize: join(VENDOR, 'flux', 'kustomizations-crd.yaml'),
  fluxHelm: join(VENDOR, 'flux', 'helmreleases-crd.yaml'),
  istio: join(VENDOR, 'istio', 'networking-crds.yaml'),
} as const;
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const CLUSTER_NAME = 'medic-test';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statusOf = (err: unknown): number | undefined => (err as { code?: unknown }).code as number | undefined;

/** A KubeConfig for this cluster (CA-verified TLS) authenticating with a bearer token. */
function tokenConfig(server: string, ca: string, user: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: CLUSTER_NAME, server, caData: Buffer.from(ca).toString('base64'), skipTLSVerify: false }],
    users: [{ name: user, token }],
    contexts: [{ name: `${user}@${CLUSTER_NAME}`, cluster: CLUSTER_NAME, user }],
    currentContext: `${user}@${CLUSTER_NAME}`,
  });
  return kc;
}

function writeKubeconfig(kc: KubeConfig, path: string): void {
  writeFileSync(path, kc.exportConfig(), { mode: 0o600 });
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

function startProc(name: KubeBinary, args: string[], logDir: string): Proc {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(kubeBinaryPath(name), args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { name, child, log, exited };
}

function tail(path: string, lines = 25): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET over TLS verified against ca; resolves to the HTTP status (0 when not answering yet). */
function httpsStatus(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls check until it is true; a process of procs exiting or the deadline fail with its log. */
async function waitFor(what: string, procs: Proc[], deadline: number, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) {
      throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) while waiting for ${what}; log ${dead.log}:\n${tail(dead.log)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const logs = procs.map((p) => `--- ${p.log}\n${tail(p.log, 10)}`).join('\n');
      throw new Error(`timed out waiting for ${what}; logs under ${procs[0]?.log ?? LOG_ROOT}:\n${logs}`);
    }
    await sleep(100);
  }
}

/** Old runs' logs go after an hour (each cluster keeps its own directory for post-mortems). */
async function pruneOldLogs(): Promise<void> {
  const entries = await readdir(LOG_ROOT).catch(() => [] as string[]);
  await Promise.all(entries.map(async (e) => {
    const p = join(LOG_ROOT, e);
    const s = await stat(p).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > 3_600_000) await rm(p, { recursive: true, force: true });
  }));
}

let clusterCount = 0;

export async function startKubeCluster(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
  const controllers = opts.controllers ?? true;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  const needed: KubeBinary[] = ['etcd', 'kube-apiserver', ...(controllers ? ['kube-controller-manager' as const] : [])];
  for (const b of needed) {
    if (!existsSync(kubeBinaryPath(b))) {
      throw new Error(`missing ${kubeBinaryPath(b)}: run "bash scripts/provision.sh" (builds the Kubernetes control plane; npm test does it for you)`);
    }
  }
  await pruneOldLogs();
  // A free port can be taken by someone else between the probe and the bind: start afresh.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(controllers, deadline);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
    }
  }
}

async function startOnce(controllers: boolean, deadline: number): Promise<KubeCluster> {
  const logDir = join(LOG_ROOT, `${process.pid}-${++clusterCount}`);
  mkdirSync(logDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'medic-kube-'));
  const procs: Proc[] = [];
  const killAll = () => procs.forEach((p) => p.child.exitCode === null && p.child.kill('SIGKILL'));
  // A test process that dies without stop() must not leave a control plane running.
  process.once('exit', killAll);
  const stop = async () => {
    process.removeListener('exit', killAll);
    // Controllers first, etcd last, each given time to shut down cleanly.
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGTERM');
        const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
        await p.exited;
        clearTimeout(t);
      }
    }
    rmSync(work, { recursive: true, force: true });
  };

  try {
    const pki = await makeKubePki(work);
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    procs.push(startProc('etcd', [
      '--name=medic-test', `--data-dir=${join(work, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=medic-test=${peerUrl}`,
      '--unsafe-no-fsync', '--log-level=warn', // throwaway data: no fsync keeps it fast on a busy disk
    ], logDir));

    const adminToken = randomBytes(24).toString('hex');
    const kcmToken = randomBytes(24).toString('hex');
    writeFileSync(join(work, 'tokens.csv'),
      `${adminToken},medic-test-admin,medic-test-admin,"system:masters"\n` +
        `${kcmToken},system:kube-controller-manager,system:kube-controller-manager\n`,
      { mode: 0o600 });
    const server = `https://127.0.0.1:${apiPort}`;
    // The apiserver retries etcd by itself, so both start together.
    procs.push(startProc('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.servingCertPath}`, `--tls-private-key-file=${pki.servingKeyPath}`,
      `--cert-dir=${join(work, 'apiserver-certs')}`,
      `--token-auth-file=${join(work, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--service-account-issuer=${SA_ISSUER}`,
      `--service-account-key-file=${pki.saPubPath}`,
      `--service-account-signing-key-file=${pki.saKeyPath}`,
      '--service-cluster-ip-range=10.96.0.0/12',
      '--endpoint-reconciler-type=none', // no Endpoints upkeep for the `kubernetes` Service: no kubelets, no clients in pods
      '--profiling=false',
    ], logDir));
    await waitFor('etcd /health', procs, deadline, async () => {
      const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      return res.ok;
    });
    await waitFor(`kube-apiserver ${server}/readyz`, procs, deadline,
      async () => (await httpsStatus(`${server}/readyz`, pki.ca, adminToken)) === 200);

    const admin = tokenConfig(server, pki.ca, 'medic-test-admin', adminToken);
    const core = admin.makeApiClient(CoreV1Api);
    if (controllers) {
      const kcmConfig = join(work, 'kube-controller-manager.kubeconfig');
      writeKubeconfig(tokenConfig(server, pki.ca, 'system:kube-controller-manager', kcmToken), kcmConfig);
      procs.push(startProc('kube-controller-manager', [
        `--kubeconfig=${kcmConfig}`,
        '--secure-port=0', // no health endpoint needed; parallel clusters would fight over 10257
        '--leader-elect=false',
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${pki.saKeyPath}`,
        `--root-ca-file=${pki.caPath}`,
        `--cluster-name=${CLUSTER_NAME}`,
        '--kube-api-qps=100', '--kube-api-burst=200',
      ], logDir));
      // The serviceaccount controller creating `default` proves the controllers run.
      await waitFor('the default ServiceAccount (kube-controller-manager running)', procs, deadline, async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return true;
      });
    } else {
      // Without the controllers nobody creates it, and the ServiceAccount admission plugin
      // refuses pods whose account is missing.
      await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'default' } } });
    }

    return {
      server,
      admin,
      async serviceAccount(namespace, name) {
        try {
          await core.createNamespace({ body: { metadata: { name: namespace } } });
        } catch (err) {
          if (statusOf(err) !== 409) throw err;
        }
        try {
          await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
        } catch (err) {
          if (statusOf(err) !== 409) throw err;
        }
        const minted = await core.createNamespacedServiceAccountToken({
          name, namespace, body: { spec: { audiences: [SA_ISSUER], expirationSeconds: 3600 } },
        });
        const token = minted.status?.token;
        if (!token) throw new Error(`TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
        return tokenConfig(server, pki.ca, `system:serviceaccount:${namespace}:${name}`, token);
      },
      writeKubeconfig,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Installs the Argo Rollouts `Rollout` CRD (argoproj.io/v1alpha1, schema-less, status
 * subresource) from test/fixtures/kubernetes/rollout-crd.yaml and waits until it is served.
 */
export const installRolloutCrd = (cluster: KubeCluster, timeoutMs = 30_000): Promise<void> => installCrds(cluster, [ROLLOUT_CRD_PATH], timeoutMs);

/** Creates every CRD of the given manifests (existing ones are left) and waits until all are Established. */
export async function installCrds(cluster: KubeCluster, paths: string[], timeoutMs = 30_000): Promise<void> {
  const api = cluster.admin.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const path of paths) {
    const docs = path === ROLLOUT_CRD_PATH ? [loadYaml<V1CustomResourceDefinition>(readFileSync(path, 'utf8'))] : (loadAllYaml(readFileSync(path, 'utf8')) as V1CustomResourceDefinition[]);
    for (const crd of docs) {
      const name = crd.metadata?.name;
      if (!name) throw new Error(`${path} has a CRD without metadata.name`);
      names.push(name);
      try {
        await api.createCustomResourceDefinition({ body: crd });
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
      }
    }
  }
  const deadline = Date.now() + timeoutMs;
  const custom = cluster.admin.makeApiClient(CustomObjectsApi);
  for (const name of names) {
    for (;;) {
      const got = await api.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
        // Established is not yet served: its storage answers 429 "(re)initializing" for a moment.
        const version = got.spec.versions.find((v) => v.storage)!.name;
        const ready = await custom.listClusterCustomObject({ group: got.spec.group, version, plural: got.spec.names.plural, limit: 1 }).then(() => true, () => false);
        if (ready) break;
      }
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established and served within ${timeoutMs}ms`);
      await sleep(100);
    }
  }
}
