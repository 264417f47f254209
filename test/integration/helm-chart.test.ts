// The Helm chart in deploy/helm/medic, checked with the real helm (built from the Go module proxy
// by scripts/provision-helm.sh): `helm lint --strict` passes, `helm template` renders what a
// production install needs (non-root pods, probes on real endpoints, PDBs, least-privilege RBAC
// for the worker only, secrets by reference), and broken values fail with the key named.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { ConfigSchema, loadConfig } from '../../src/config.js';
import { ROOT } from '../support/paths.js';

const run = promisify(execFile);
const HELM = process.env.MEDIC_HELM ?? join(ROOT, '.cache/bin/helm');
const CHART = join(ROOT, 'deploy/helm/medic');

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered manifests, checked field by field

let dir: string;
beforeAll(async () => {
  if (!existsSync(HELM)) throw new Error(`missing ${HELM}: run "bash scripts/provision.sh" (it builds helm)`);
  dir = await mkdtemp(join(tmpdir(), 'medic-helm-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function valuesFile(values: Record<string, unknown>): Promise<string> {
  const path = join(dir, `values-${++n}.yaml`);
  await writeFile(path, stringify(values));
  return path;
}

async function helm(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(HELM, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
  }
}

async function render(values: Record<string, unknown>): Promise<Doc[]> {
  const res = await helm(['template', 'medic', CHART, '--namespace', 'ops', '-f', await valuesFile(values)]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return parseAllDocuments(res.stdout)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

const byKind = (docs: Doc[], kind: string): Doc[] => docs.filter((d) => d.kind === kind);
const named = (docs: Doc[], kind: string, name: string): Doc => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (!doc) throw new Error(`no ${kind} ${name} in: ${docs.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return doc;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const TEMPORAL = { address: 'temporal-frontend.temporal.svc:7233', namespace: 'default', taskQueue: 'medic' };
const BASE = { secrets: { existingSecret: 'medic-secrets', workerExistingSecret: 'medic-action-secrets' } };

// The chart's RBAC must grant exactly what deploy/kubernetes/rbac.yaml grants (that file is
// applied to a real API server by the actuator's RBAC test): compared as (group, resource) → verbs.
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
function grants(rules: Rule[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const r of rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) (out[`${g || 'core'}/${res}`] ??= new Set()).add(v);
  const entries = Object.entries(out).map(([k, v]): [string, string[]] => [k, [...v].sort()]);
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}
async function shippedRbac(): Promise<Record<string, string[]>> {
  const docs = parseAllDocuments(await readFile(join(ROOT, 'deploy/kubernetes/rbac.yaml'), 'utf8')).map((d) => d.toJS() as Doc);
  const role = docs.find((d) => d.kind === 'ClusterRole');
  if (!role) throw new Error('deploy/kubernetes/rbac.yaml has no ClusterRole');
  return grants(role.rules as Rule[]);
}
/** The evidence pack's reads (events, ConfigMaps) come with the base rules, like pods. */
const ALWAYS_READ = ['core/configmaps', 'core/events'];
const without = (g: Record<string, string[]>, drop: (key: string) => boolean): Record<string, string[]> =>
  Object.fromEntries(Object.entries(g).filter(([k]) => !drop(k)));

describe('helm chart deploy/helm/medic', () => {
  it('helm is the pinned build and `helm lint --strict` passes with realistic values', async () => {
    const pinned = /^HELM_VERSION="(v[\d.]+)"/m.exec(await readFile(join(ROOT, 'scripts/provision-helm.sh'), 'utf8'))![1];
    expect((await helm(['version', '--short'])).stdout.trim()).toBe(pinned);
    const values = await valuesFile({
      ...BASE,
      playbooks: { inline: { 'demo.yaml': 'name: demo\nmatch: { alertname: DemoDown }\nsteps: []\n' } },
      metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus' } } },
    });
    const res = await helm(['lint', CHART, '--strict', '-f', values]);
    expect(res.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(res.code).toBe(0);
  });

  it('renders worker and app Deployments, a Service, PDBs and service accounts; no ServiceMonitor unless asked', async () => {
    const docs = await render(BASE);
    expect(docs.map((d) => d.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Deployment', 'NetworkPolicy', 'NetworkPolicy', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceAccount'].sort(),
    );
    const worker = named(docs, 'Deployment', 'medic-worker');
    const app = named(docs, 'Deployment', 'medic-app');
    expect(worker.spec.template.spec.containers[0].command).toEqual(['node', '--import', 'tsx', 'src/worker.ts']);
    expect(app.spec.template.spec.containers[0].command).toEqual(['node', '--import', 'tsx', 'src/server/main.ts']);
    expect(worker.spec.replicas).toBe(2);
    // bounded V8 heap below the memory limit (bench:capacity: 2,000 waiting incidents < 1 GiB at 768 MiB)
    expect(worker.spec.template.spec.containers[0].env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=768' });

    // the Service reaches the app pods only, on the port the server listens on
    const service = named(docs, 'Service', 'medic');
    expect(matches(service.spec.selector, app.spec.template.metadata.labels)).toBe(true);
    expect(matches(service.spec.selector, worker.spec.template.metadata.labels)).toBe(false);
    const appContainer = app.spec.template.spec.containers[0];
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(appContainer.ports).toContainEqual({ name: 'http', containerPort: 8080 });
    expect(appContainer.env).toContainEqual({ name: 'MEDIC_HTTP_PORT', value: '8080' });
    // /metrics on its own port, which the Service names for the ServiceMonitor
    expect(appContainer.ports).toContainEqual({ name: 'metrics', containerPort: 9464 });
    expect(appContainer.env).toContainEqual({ name: 'MEDIC_METRICS_PORT', value: '9464' });
    expect(service.spec.ports).toContainEqual({ name: 'metrics', port: 9464, targetPort: 'metrics' });
    expect(app.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464' });

    // one PDB per Deployment, selecting exactly its pods, leaving room for a drain
    for (const deployment of [worker, app]) {
      const pdb = byKind(docs, 'PodDisruptionBudget').find((p) => matches(p.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
      expect(pdb, `PDB for ${deployment.metadata.name}`).toBeDefined();
      expect(pdb!.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    }
    expect(byKind(docs, 'ServiceMonitor')).toEqual([]);
  });

  it('every pod runs non-root with a read-only root filesystem, no privilege escalation and no capabilities', async () => {
    const docs = await render(BASE);
    for (const d of byKind(docs, 'Deployment')) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        // a writable /tmp for the runtime (tsx's cache) and /var/lib/medic for SQLite files,
        // since the root filesystem is read-only
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/medic' });
      }
    }
  });

  it('probes hit /healthz (liveness) and /readyz (readiness) on ports the containers declare', async () => {
    const docs = await render(BASE);
    for (const d of byKind(docs, 'Deployment')) {
      const c = d.spec.template.spec.containers[0];
      const portNames = c.ports.map((p: { name: string }) => p.name);
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(portNames).toContain(c.livenessProbe.httpGet.port);
      expect(portNames).toContain(c.readinessProbe.httpGet.port);
    }
    // the worker serves them on MEDIC_WORKER_HEALTH_PORT (src/temporal/health.ts)
    const worker = named(docs, 'Deployment', 'medic-worker').spec.template.spec.containers[0];
    expect(worker.env).toContainEqual({ name: 'MEDIC_WORKER_HEALTH_PORT', value: '8081' });
    expect(worker.ports).toContainEqual({ name: 'health', containerPort: 8081 });
  });

  it('secrets are passed by reference only: envFrom the named Secrets, no secret value in the manifests', async () => {
    const docs = await render(BASE);
    const worker = named(docs, 'Deployment', 'medic-worker').spec.template.spec.containers[0];
    const app = named(docs, 'Deployment', 'medic-app').spec.template.spec.containers[0];
    expect(worker.envFrom).toEqual([{ secretRef: { name: 'medic-secrets' } }, { secretRef: { name: 'medic-action-secrets' } }]);
    // action credentials ({{secret.NAME}}, PagerDuty keys) reach the worker only
    expect(app.envFrom).toEqual([{ secretRef: { name: 'medic-secrets' } }]);
    expect(byKind(docs, 'Secret')).toEqual([]);
    for (const c of [worker, app]) {
      for (const e of c.env as { name: string }[]) expect(e.name).not.toMatch(/TOKEN|SECRET|PASSWORD|OPERATORS/);
    }
  });

  it('RBAC: the worker gets exactly the verbs the Kubernetes actions use; the app gets no API token', async () => {
    const docs = await render(BASE);
    const role = named(docs, 'ClusterRole', 'medic-worker');
    expect(grants(role.rules)).toEqual(await shippedRbac());
    // each optional part can be left out
    const noExtras = named(await render({ ...BASE, rbac: { create: true, clusterWide: true, nodes: false, argoRollouts: false, gitops: false, istio: false } }), 'ClusterRole', 'medic-worker');
    expect(grants(noExtras.rules)).toEqual(without(await shippedRbac(), (k) => !k.startsWith('apps/') && !k.startsWith('core/pods') && !ALWAYS_READ.includes(k)));
    for (const rule of role.rules) {
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources).not.toContain('*');
      expect(rule.resources).not.toContain('secrets');
    }
    const binding = named(docs, 'ClusterRoleBinding', 'medic-worker');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'medic-worker' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'medic-worker', namespace: 'ops' }]);
    expect(named(docs, 'Deployment', 'medic-worker').spec.template.spec.serviceAccountName).toBe('medic-worker');
    const app = named(docs, 'Deployment', 'medic-app').spec.template.spec;
    expect(app.serviceAccountName).toBe('medic-app');
    expect(app.automountServiceAccountToken).toBe(false);
    expect(named(docs, 'ServiceAccount', 'medic-app').automountServiceAccountToken).toBe(false);
  });

  it('namespaced RBAC: a Role and RoleBinding per listed namespace, without node rules', async () => {
    const docs = await render({ ...BASE, rbac: { create: true, clusterWide: false, nodes: false, argoRollouts: false, gitops: false, istio: false, namespaces: ['shop', 'payments'] } });
    expect(byKind(docs, 'ClusterRole')).toEqual([]);
    const roles = byKind(docs, 'Role');
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['shop', 'payments']);
    expect(grants(roles[0]!.rules)).toEqual(without(await shippedRbac(), (k) => !k.startsWith('apps/') && !k.startsWith('core/pods') && !ALWAYS_READ.includes(k)));
    expect(byKind(docs, 'RoleBinding').map((b) => b.subjects[0].namespace)).toEqual(['ops', 'ops']);
  });

  it('namespaced RBAC with nodes (the recommended setup): Roles per namespace, a ClusterRole only for nodes, as rbac-namespaced.yaml', async () => {
    const docs = await render({ ...BASE, rbac: { create: true, clusterWide: false, nodes: true, argoRollouts: true, namespaces: ['shop'] } });
    const shipped = parseAllDocuments(await readFile(join(ROOT, 'deploy/kubernetes/rbac-namespaced.yaml'), 'utf8')).map((d) => d.toJS() as Doc);
    const one = (list: Doc[], kind: string): Doc => {
      const found = list.filter((d) => d.kind === kind);
      expect(found, kind).toHaveLength(1);
      return found[0]!;
    };
    expect(grants(one(docs, 'Role').rules)).toEqual(grants(one(shipped, 'Role').rules));
    expect(grants(one(docs, 'ClusterRole').rules)).toEqual(grants(one(shipped, 'ClusterRole').rules));
    expect(Object.keys(grants(one(docs, 'ClusterRole').rules))).toEqual(['core/nodes', 'core/pods', 'core/pods/eviction']);
    expect(grants(one(docs, 'ClusterRole').rules)['core/pods']).toEqual(['list']);
    // together they grant exactly what the cluster-wide file grants
    const union = grants([...one(docs, 'Role').rules, ...one(docs, 'ClusterRole').rules]);
    expect(union).toEqual(await shippedRbac());
    expect(one(docs, 'ClusterRoleBinding').roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'medic-worker-nodes' });
    expect(one(docs, 'RoleBinding').metadata.namespace).toBe('shop');
  });

  it('/var/lib/medic is an emptyDir unless an existing claim is named', async () => {
    const volume = (docs: Doc[]): unknown =>
      (named(docs, 'Deployment', 'medic-worker').spec.template.spec.volumes as Array<{ name: string }>).find((v) => v.name === 'data');
    expect(volume(await render(BASE))).toEqual({ name: 'data', emptyDir: {} });
    expect(volume(await render({ ...BASE, persistence: { existingClaim: 'medic-data' } }))).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'medic-data' } });
  });

  it('audit: the log on a PersistentVolumeClaim, checkpoints on another claim, the key from a Secret file, all in the worker only', async () => {
    const audit = {
      enabled: true,
      keySecret: { name: 'medic-audit-key', key: 'audit.key' },
      persistence: { existingClaim: '', size: '5Gi', storageClass: 'fast-ssd' },
      checkpoints: { everyEntries: 50, intervalSeconds: 60, file: { enabled: true, existingClaim: '', size: '64Mi', storageClass: '' }, webhookUrl: 'https://audit.example/checkpoints', slackChannel: '' },
    };
    const one = { replicas: 1, podDisruptionBudget: { enabled: false, minAvailable: 0 } };
    const docs = await render({ ...BASE, worker: one, audit });
    const claims = byKind(docs, 'PersistentVolumeClaim');
    expect(claims.map((c) => c.metadata.name)).toEqual(['medic-audit', 'medic-audit-checkpoints']);
    expect(claims[0]!.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '5Gi' } } });
    expect(claims[1]!.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } });
    for (const c of claims) expect(c.metadata.annotations['helm.sh/resource-policy']).toBe('keep'); // an audit trail outlives the release

    const worker = named(docs, 'Deployment', 'medic-worker');
    expect(worker.spec.strategy).toEqual({ type: 'Recreate' }); // a ReadWriteOnce claim moves pods one at a time
    const pod = worker.spec.template.spec;
    const container = pod.containers[0];
    const volume = (name: string): Doc => pod.volumes.find((v: { name: string }) => v.name === name);
    const mountOf = (name: string): string => container.volumeMounts.find((m: { name: string }) => m.name === name).mountPath;
    expect(volume('audit')).toEqual({ name: 'audit', persistentVolumeClaim: { claimName: 'medic-audit' } });
    expect(volume('audit-checkpoints')).toEqual({ name: 'audit-checkpoints', persistentVolumeClaim: { claimName: 'medic-audit-checkpoints' } });
    expect(volume('audit-key')).toEqual({ name: 'audit-key', secret: { secretName: 'medic-audit-key', defaultMode: 0o440, items: [{ key: 'audit.key', path: 'key' }] } });
    const env = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    // the env the worker gets is a valid medic config whose files live on those volumes
    const config = loadConfig(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('MEDIC_AUDIT_')))).audit!;
    expect(config).toEqual({
      path: `${mountOf('audit')}/audit.db`,
      keyFile: `${mountOf('audit-key')}/key`,
      checkpoints: { file: `${mountOf('audit-checkpoints')}/checkpoints.jsonl`, webhookUrl: 'https://audit.example/checkpoints', everyEntries: 50, intervalSeconds: 60 },
    });
    expect(mountOf('audit-checkpoints')).not.toBe(mountOf('audit'));
    // the app neither mounts the log nor sees the key
    const app = named(docs, 'Deployment', 'medic-app').spec.template.spec;
    expect(app.volumes.map((v: { name: string }) => v.name)).not.toContain('audit-key');
    expect(app.containers[0].env.map((e: { name: string }) => e.name).filter((n: string) => n.startsWith('MEDIC_AUDIT'))).toEqual([]);

    // an existing claim is used as is; without audit there is no claim and no audit env
    const existing = await render({ ...BASE, worker: one, audit: { ...audit, persistence: { ...audit.persistence, existingClaim: 'audit-data' } } });
    expect(byKind(existing, 'PersistentVolumeClaim').map((c) => c.metadata.name)).toEqual(['medic-audit-checkpoints']);
    expect(named(existing, 'Deployment', 'medic-worker').spec.template.spec.volumes).toContainEqual({ name: 'audit', persistentVolumeClaim: { claimName: 'audit-data' } });
    const off = await render(BASE);
    expect(byKind(off, 'PersistentVolumeClaim')).toEqual([]);
    expect(named(off, 'Deployment', 'medic-worker').spec.strategy).toBeUndefined();
    // without any checkpoint sink a rewritten log could not be detected: refused
    const noSink = await helm(['template', 'medic', CHART, '-f', await valuesFile({ ...BASE, worker: one, audit: { ...audit, checkpoints: { ...audit.checkpoints, webhookUrl: '', file: { ...audit.checkpoints.file, enabled: false } } } })]);
    expect(noSink.code).not.toBe(0);
    expect(noSink.stderr).toContain('audit.checkpoints: enable at least one sink (file.enabled, webhookUrl or slackChannel)');
  });

  it('ServiceMonitor (behind a flag) scrapes the app Service at /metrics', async () => {
    const docs = await render({ ...BASE, metrics: { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'kube-prometheus' } } } });
    const sm = named(docs, 'ServiceMonitor', 'medic');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels.release).toBe('kube-prometheus');
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s' }]);
    expect(matches(sm.spec.selector.matchLabels, named(docs, 'Service', 'medic').metadata.labels)).toBe(true);
  });

  it('the rendered medic.yaml is a valid medic configuration, and inline playbooks are mounted', async () => {
    const config = { logLevel: 'debug', prometheus: { url: 'http://prometheus:9090' }, tracing: { otlpEndpoint: 'http://otel:4318' }, correlation: { window: '5m' } };
    const docs = await render({ ...BASE, config, playbooks: { inline: { 'a.yaml': 'name: a\n' } } });
    const cm = named(docs, 'ConfigMap', 'medic-config');
    const parsed = ConfigSchema.safeParse(parseAllDocuments(cm.data['medic.yaml'])[0]!.toJS());
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.tracing?.otlpEndpoint).toBe('http://otel:4318');
    expect(named(docs, 'ConfigMap', 'medic-playbooks').data).toEqual({ 'a.yaml': 'name: a\n' });
    const worker = named(docs, 'Deployment', 'medic-worker').spec.template.spec;
    expect(worker.containers[0].env).toContainEqual({ name: 'MEDIC_PLAYBOOKS', value: '/etc/medic/playbooks' });
    expect(worker.volumes).toContainEqual({ name: 'playbooks', configMap: { name: 'medic-playbooks' } });
  });

  it('NetworkPolicies: the worker accepts no connection, the app only its HTTP port; off by a value', async () => {
    const docs = await render(BASE);
    const worker = named(docs, 'Deployment', 'medic-worker');
    const app = named(docs, 'Deployment', 'medic-app');
    const wp = named(docs, 'NetworkPolicy', 'medic-worker');
    const ap = named(docs, 'NetworkPolicy', 'medic-app');
    // each selects exactly its own pods
    expect(matches(wp.spec.podSelector.matchLabels, worker.spec.template.metadata.labels)).toBe(true);
    expect(matches(wp.spec.podSelector.matchLabels, app.spec.template.metadata.labels)).toBe(false);
    expect(matches(ap.spec.podSelector.matchLabels, app.spec.template.metadata.labels)).toBe(true);
    expect(matches(ap.spec.podSelector.matchLabels, worker.spec.template.metadata.labels)).toBe(false);
    // worker: ingress denied entirely (no rule), egress open unless narrowed
    expect(wp.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(wp.spec.ingress).toEqual([]);
    expect(wp.spec.egress).toEqual([{}]);
    // app: one ingress rule, the container's named HTTP port
    expect(ap.spec.policyTypes).toEqual(['Ingress']);
    expect(ap.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    expect(app.spec.template.spec.containers[0].ports).toContainEqual({ name: 'http', containerPort: 8080 });
    // narrowed by values: who may call the app, where the worker may go
    const ingressNs = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } };
    const dns = { ports: [{ port: 53, protocol: 'UDP' }] };
    const narrowed = await render({ ...BASE, networkPolicy: { enabled: true, app: { from: [ingressNs] }, worker: { egress: [dns] } } });
    expect(named(narrowed, 'NetworkPolicy', 'medic-app').spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }], from: [ingressNs] }]);
    expect(named(narrowed, 'NetworkPolicy', 'medic-worker').spec.egress).toEqual([dns]);
    // off
    expect(byKind(await render({ ...BASE, networkPolicy: { enabled: false } }), 'NetworkPolicy')).toEqual([]);
  });

  it('a Temporal frontend in the cluster can be fenced to medic pods (opt-in, in its own namespace)', async () => {
    expect(byKind(await render(BASE), 'NetworkPolicy').map((p) => p.metadata.name)).not.toContain('medic-temporal-frontend');
    const docs = await render({ ...BASE, networkPolicy: { temporalFrontend: { enabled: true, namespace: 'temporal' } } });
    const fp = named(docs, 'NetworkPolicy', 'medic-temporal-frontend');
    expect(fp.metadata.namespace).toBe('temporal');
    expect(fp.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'temporal', 'app.kubernetes.io/component': 'frontend' });
    const [rule] = fp.spec.ingress;
    expect(rule.ports).toEqual([{ port: 7233, protocol: 'TCP' }]);
    const medicPeer = rule.from[0];
    expect(medicPeer.namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'ops' });
    // the medic peer matches both medic Deployments' pods and nothing without medic's labels
    for (const d of byKind(docs, 'Deployment')) expect(matches(medicPeer.podSelector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    expect(matches(medicPeer.podSelector.matchLabels, { 'app.kubernetes.io/name': 'evil' })).toBe(false);
    expect(rule.from.slice(1)).toEqual([{ podSelector: {} }]); // Temporal's own services in its namespace
  });

  it('Temporal TLS, mTLS and API key come from Secrets as read-only files; the env they render is a valid medic config', async () => {
    const docs = await render({
      ...BASE,
      temporal: { address: 'temporal.example.com:7233', namespace: 'default', taskQueue: 'medic', tls: { existingSecret: 'temporal-mtls', serverName: 'frontend.temporal' }, apiKey: { existingSecret: 'temporal-key', key: 'token' } },
    });
    for (const name of ['medic-worker', 'medic-app']) {
      const pod = named(docs, 'Deployment', name).spec.template.spec;
      const c = pod.containers[0];
      const env = Object.fromEntries((c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({
        MEDIC_TEMPORAL_TLS: 'true',
        MEDIC_TEMPORAL_TLS_CA_FILE: '/etc/medic/temporal-tls/ca.crt',
        MEDIC_TEMPORAL_TLS_CERT_FILE: '/etc/medic/temporal-tls/tls.crt',
        MEDIC_TEMPORAL_TLS_KEY_FILE: '/etc/medic/temporal-tls/tls.key',
        MEDIC_TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal',
        MEDIC_TEMPORAL_API_KEY_FILE: '/etc/medic/temporal-api-key/api-key',
      });
      expect(env.MEDIC_TEMPORAL_API_KEY).toBeUndefined(); // never the value itself
      expect(c.volumeMounts).toContainEqual({ name: 'temporal-tls', mountPath: '/etc/medic/temporal-tls', readOnly: true });
      expect(c.volumeMounts).toContainEqual({ name: 'temporal-api-key', mountPath: '/etc/medic/temporal-api-key', readOnly: true });
      expect(pod.volumes).toContainEqual({
        name: 'temporal-tls',
        secret: { secretName: 'temporal-mtls', defaultMode: 0o440, items: ['ca.crt', 'tls.crt', 'tls.key'].map((k) => ({ key: k, path: k })) },
      });
      expect(pod.volumes).toContainEqual({ name: 'temporal-api-key', secret: { secretName: 'temporal-key', defaultMode: 0o440, items: [{ key: 'token', path: 'api-key' }] } });
      // what medic makes of that environment
      const config = loadConfig({ ...env, MEDIC_CONFIG: undefined }); // the ConfigMap's file is checked in another test
      expect(config.temporal).toMatchObject({ tls: { enabled: true, caFile: env.MEDIC_TEMPORAL_TLS_CA_FILE, certFile: env.MEDIC_TEMPORAL_TLS_CERT_FILE, keyFile: env.MEDIC_TEMPORAL_TLS_KEY_FILE, serverName: 'frontend.temporal' }, apiKeyFile: env.MEDIC_TEMPORAL_API_KEY_FILE });
    }
    // without those values: no TLS settings, no secret volumes
    const plain = named(await render(BASE), 'Deployment', 'medic-worker').spec.template.spec;
    expect((plain.containers[0].env as { name: string }[]).filter((e) => e.name.startsWith('MEDIC_TEMPORAL_TLS') || e.name.startsWith('MEDIC_TEMPORAL_API'))).toEqual([]);
    expect((plain.volumes as { name: string }[]).map((v) => v.name)).not.toContain('temporal-tls');
  });

  it('broken values fail lint and template, naming the problem', async () => {
    const cases: Array<{ values: Record<string, unknown>; error: RegExp }> = [
      // the chart's defaults leave the Secret's name empty on purpose: an install must name one
      { values: {}, error: /'\/secrets\/existingSecret': minLength: got 0, want 1/ },
      { values: { ...BASE, worker: { replicas: 'two' } }, error: /\/worker\/replicas.*got string, want integer/ },
      { values: { ...BASE, workr: { replicas: 2 } }, error: /additional properties 'workr' not allowed/ },
      { values: { ...BASE, temporal: { address: 'temporal' } }, error: /\/temporal\/address/ },
      { values: { ...BASE, rbac: { create: true, clusterWide: false, nodes: false } }, error: /'\/rbac\/namespaces': minItems: got 0, want 1/ },
      // the audit log is one SQLite file with one writer (one worker), and it needs its key
      { values: { ...BASE, audit: { enabled: true, keySecret: { name: 'k' } } }, error: /'\/worker\/replicas': maximum: got 2, want 1/ },
      { values: { ...BASE, worker: { replicas: 1 }, audit: { enabled: true } }, error: /'\/audit\/keySecret\/name': minLength: got 0, want 1/ },
      // a TLS Secret must provide a CA or a client certificate + key
      { values: { ...BASE, temporal: { ...TEMPORAL, tls: { existingSecret: 'x', caKey: '', certKey: '' } } }, error: /\/temporal\/tls/ },
      { values: { ...BASE, networkPolicy: { enabled: true, ingress: [] } }, error: /additional properties 'ingress' not allowed/ },
    ];
    for (const c of cases) {
      const file = await valuesFile(c.values);
      const template = await helm(['template', 'medic', CHART, '-f', file]);
      expect(template.code, JSON.stringify(c.values)).not.toBe(0);
      expect(template.stderr).toMatch(c.error);
      const lint = await helm(['lint', CHART, '-f', file]);
      expect(lint.code, JSON.stringify(c.values)).not.toBe(0);
      expect(lint.stdout + lint.stderr).toMatch(c.error);
    }
  });
});
