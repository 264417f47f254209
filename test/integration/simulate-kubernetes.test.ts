// `medic simulate` (the CLI, as its own process) with kubernetes steps against a real
// kube-apiserver (RBAC on, medic's ServiceAccount bound by the shipped deploy/kubernetes/rbac.yaml):
// the steps are the worker's own Kubernetes activities in dry run, so the output carries the API
// server's dryRun=All diff, and the Deployment is left exactly as it was. Without a kubernetes
// section the output says so; an unreachable API server reads "target not reachable from here".
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { freePort } from '../../dev/ports.js';
import { PlaybookSchema, type PlaybookInput } from '../../src/playbooks/schema.js';
import { runMedicCli } from '../support/cli.js';
import { firingAlert } from '../support/fixtures.js';
import { startKubeCluster, type KubeCluster } from '../support/kubernetes.js';
import { medicKubeConfig } from '../support/kube-fixtures.js';

const NS = 'sim';
let cluster: KubeCluster;
let apps: AppsV1Api;
let dir: string;
let playbooks: string;
let alerts: string;
let config: string;

// The CLI must see only the config file given, not a developer's MEDIC_* settings.
const cleanEnv = { MEDIC_CONFIG: undefined, MEDIC_KUBECONFIG: undefined, MEDIC_KUBERNETES_IN_CLUSTER: undefined, MEDIC_KUBERNETES_NAMESPACE: undefined };

type K8sParams = Extract<PlaybookInput['steps'][number], { action: 'kubernetes' }>['params'];
const step = (name: string, params: K8sParams) => ({ name, action: 'kubernetes' as const, timeout: '10s', retries: 0, params });
const playbook = (name: string, alertname: string, s: ReturnType<typeof step>): PlaybookInput => ({
  name,
  match: { alertname },
  groupBy: ['alertname', 'deployment'],
  target: 'k8s/{{labels.namespace}}/deployment/{{labels.deployment}}',
  allow: { kubernetes: { namespaces: [NS], names: { Deployment: ['*'] } } },
  steps: [s],
});

beforeAll(async () => {
  // No controller-manager: a dry run needs only the API server, and the Deployment's spec and
  // generation are what must not change (so the namespace is created bare, without waiting for
  // its default ServiceAccount).
  cluster = await startKubeCluster({ controllers: false });
  await cluster.admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  apps = cluster.admin.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    },
  });
  dir = await mkdtemp(join(tmpdir(), 'medic-sim-k8s-'));
  const kubeconfig = join(dir, 'medic.kubeconfig');
  cluster.writeKubeconfig(await medicKubeConfig(cluster), kubeconfig);
  config = join(dir, 'medic.yaml');
  await writeFile(config, `kubernetes:\n  kubeconfig: ${kubeconfig}\n  namespace: ${NS}\n`);
  playbooks = join(dir, 'playbooks');
  await mkdir(playbooks);
  const pbs = [
    playbook('scale-up', 'WebSaturated', step('scale out', { operation: 'scale', kind: 'Deployment', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}', replicas: 3, min: 1, max: 5 })),
    playbook('restart', 'WebCrashLooping', step('rollout restart', { operation: 'restart', kind: 'Deployment', name: '{{labels.deployment}}' })),
  ];
  for (const pb of pbs) await writeFile(join(playbooks, `${pb.name}.yaml`), JSON.stringify(PlaybookSchema.parse(pb)));
  alerts = join(dir, 'recorded.jsonl');
  await writeFile(
    alerts,
    ['WebSaturated', 'WebCrashLooping'].map((alertname) => JSON.stringify(firingAlert({ alertname, namespace: NS, deployment: 'web' }))).join('\n') + '\n',
  );
}, 180_000);
afterAll(() => cluster?.stop());

const snapshot = async (): Promise<Pick<V1Deployment, 'metadata' | 'spec'>> => {
  const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'web' });
  return { metadata: { generation: d.metadata!.generation!, resourceVersion: d.metadata!.resourceVersion!, annotations: d.metadata?.annotations ?? {} }, spec: d.spec! };
};

describe('medic simulate with kubernetes steps (real API server, medic RBAC)', () => {
  it("prints the API server's dry-run diff and changes nothing", async () => {
    const before = await snapshot();
    expect(before.spec?.replicas).toBe(2);
    const r = await runMedicCli(['simulate', '--playbooks', playbooks, '--alerts', alerts, '--config', config], cleanEnv);
    console.log(r.out);
    expect(r.err).not.toContain('playbook skipped');
    expect(r.code).toBe(0);
    expect(r.out).toContain('step 1 (scale out) try 1: Kubernetes: scale Deployment sim/web to 3 (bounds 1–5)');
    expect(r.out).toContain(`→ dry run: would scale Deployment ${NS}/web: spec.replicas 2 → 3 (the API server's own dry run)`);
    // The restart names no namespace: the config's namespace applies, as in the worker.
    expect(r.out).toMatch(/→ dry run: would restart Deployment sim\/web: spec\.template\.metadata\.annotations\["kubectl\.kubernetes\.io\/restartedAt"\] null → "\d{4}-\d\d-\d\dT[^"]+" \(the API server's own dry run\)/);
    expect(r.out).toContain('nothing was changed: every action ran as a dry run');
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(after.spec?.replicas).toBe(2);
  }, 120_000);

  it('a relative scale that would leave the playbook bounds: the actuator refuses it in the simulation too', async () => {
    const pb = join(dir, 'bounded');
    await mkdir(pb);
    const s = step('scale out', { operation: 'scale', kind: 'Deployment', namespace: NS, name: 'web', by: 4, min: 1, max: 5 });
    await writeFile(join(pb, 'pb.yaml'), JSON.stringify(PlaybookSchema.parse(playbook('scale-up', 'WebSaturated', s))));
    const before = await snapshot();
    const r = await runMedicCli(['simulate', '--playbooks', pb, '--alerts', alerts, '--config', config], cleanEnv);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`✗ dry run: the target says this would fail: scale Deployment ${NS}/web to 6 refused: outside the playbook's bounds [1, 5] (currently 2)`);
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it('no kubernetes section: says so; an unreachable API server: not reachable from here', async () => {
    const none = await runMedicCli(['simulate', '--playbooks', playbooks, '--alerts', alerts], cleanEnv);
    expect(none.code).toBe(0);
    expect(none.out).toContain(`→ dry run: would Kubernetes: scale Deployment ${NS}/web to 3 (bounds 1–5) (no Kubernetes configured for simulate (--config with a kubernetes section))`);

    // A kubeconfig whose API server port nobody listens on (a free one: fetch refuses port 1 itself).
    const deadPort = await freePort();
    const dead = join(dir, 'dead.kubeconfig');
    await writeFile(
      dead,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'gone', cluster: { server: `https://127.0.0.1:${deadPort}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 'x' } }],
        contexts: [{ name: 'c', context: { cluster: 'gone', user: 'u', namespace: NS } }],
        'current-context': 'c',
      }),
    );
    const r = await runMedicCli(['simulate', '--playbooks', playbooks, '--alerts', alerts], { ...cleanEnv, MEDIC_KUBECONFIG: dead });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`→ dry run: would Kubernetes: scale Deployment ${NS}/web to 3 \\(bounds 1–5\\) \\(target not reachable from here for its dry run: get Deployment ${NS}/web: .*ECONNREFUSED`));
  }, 120_000);

  it('a bad kubernetes section is a usage error naming the field', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'kubernetes:\n  kubeconfig: /x\n  inCluster: true\n');
    const r = await runMedicCli(['simulate', '--playbooks', playbooks, '--alerts', alerts, '--config', bad], cleanEnv);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('kubernetes: inCluster: set kubeconfig or inCluster, not both');
  }, 60_000);
});
