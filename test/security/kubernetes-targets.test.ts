// Attacks on medic's Kubernetes targets, sent as an attacker would: alerts through the real HTTP
// intake, incidents on a real Temporal dev server, medic acting on a real kube-apiserver with the
// ServiceAccount bound by the shipped deploy/kubernetes/rbac.yaml (cluster-wide: so it is medic's
// own allow-list that refuses, not RBAC), the shipped playbooks, and the audit log as a sink.
//   (a) a label points a restart / pod delete at kube-system       → refused, kube-system unchanged
//   (b) a name that is not DNS-1123 (path, upper case, 300 chars)  → refused with the rule
//   (c) a flood of node-pressure alerts, one per node              → at most the budget cordoned
//   (d) a node outside the playbook's node selector                → refused, the node unchanged
// Each asserts the timeline and the audit log name the field and the rule. A last test shows the
// recommended deploy/kubernetes/rbac-namespaced.yaml fences the same namespaces at the API server.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesObjectApi, loadAllYaml, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import type { Database } from 'better-sqlite3';
import { createAuditSink } from '../../activities/audit.js';
import { createKubernetesActivities, STAMP } from '../../activities/kubernetes.js';
import { auditLog, openAuditDb } from '../../src/audit/log.js';
import { parsePlaybook } from '../../src/playbooks/load.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import type { IncidentStatus, TimelineEntry, TimelineGroup } from '../../workflows/contracts.js';
import { startKubeCluster, type KubeCluster } from '../support/kubernetes.js';
import { adminOf, medicDeps, medicKubeConfig, until } from '../support/kube-fixtures.js';
import { incidentIdFrom, startMedic, type Medic } from '../support/medic.js';
import { ROOT } from '../support/paths.js';
import { groupOf, isKind } from '../../workflows/contracts-timeline.js';

let cluster: KubeCluster;
let admin: ReturnType<typeof adminOf>;
let m: Medic;
let db: Database;
const NS = 'shop';

/** A shipped playbook, as `medic validate` loads it. */
function shipped(name: string): Playbook {
  const r = parsePlaybook(readFileSync(join(ROOT, 'playbooks', `${name}.yaml`), 'utf8'), `${name}.yaml`, {});
  expect(r.problems).toEqual([]);
  return r.playbook!;
}

beforeAll(async () => {
  cluster = await startKubeCluster();
  admin = adminOf(cluster);
  await admin.namespace(NS);
  await admin.namespace('kube-system');
  await admin.deployment('kube-system', 'coredns', 'registry.local/coredns:1.11', 2);
  await admin.core.createNamespacedPod({ namespace: 'kube-system', body: { metadata: { name: 'coredns-6d4b-x' }, spec: { containers: [{ name: 'c', image: 'registry.local/coredns:1.11' }] } } });
  await admin.deployment(NS, 'web', 'registry.local/web:1', 1);
  await admin.deployment(NS, 'cart', 'registry.local/cart:1', 1);
  db = openAuditDb(join(mkdtempSync(join(tmpdir(), 'medic-sec-k8s-')), 'audit.db'));
  m = await startMedic({ kubernetes: medicDeps(await medicKubeConfig(cluster), NS), sinks: [createAuditSink(db)] });
  // The shipped node-pressure-drain, cordon only (its verification needs Prometheus; its drain an
  // approver). A copy under another name handles KubeNodeDiskPressure for (d), so the budget
  // (c) spends is its own.
  const nodes = shipped('node-pressure-drain');
  const { verification: _v, ...cordon } = nodes.steps[0]!;
  m.playbooks.push(
    { ...nodes, name: 'node-pressure-cp', match: { alertname: 'KubeNodeDiskPressure' }, steps: [cordon] },
    { ...nodes, steps: [cordon] },
    shipped('crash-looping-pod'),
  );
});
afterAll(async () => {
  await m?.stop();
  db?.close();
  await cluster?.stop();
});

async function fire(labels: Record<string, string>): Promise<string> {
  const res = await m.postAlerts('firing', { severity: 'critical', ...labels });
  expect(res.status).toBe(202);
  return incidentIdFrom(res);
}
const settled = (id: string): Promise<IncidentStatus> => m.waitFor(id, (s) => s.endedAt !== undefined || s.status === 'escalated', 120_000);
const messages = (t: TimelineEntry[], kind: TimelineGroup): string[] => t.filter((e) => groupOf(e.kind) === kind).map((e) => e.message);
/** The audit rows of one incident (the publish is asynchronous: wait for `want`). */
const audited = (incidentId: string, want: (why: string, what: string) => boolean) =>
  until(`audit record of ${incidentId}`, async () => auditLog(db).entries().filter((r) => r.incidentId === incidentId).find((r) => want(r.why, r.what)), 30_000);

/** resourceVersion of every Deployment and Pod in a namespace: any write changes one. */
async function versions(ns: string): Promise<Record<string, string>> {
  const deps = (await admin.apps.listNamespacedDeployment({ namespace: ns })).items;
  const pods = (await admin.core.listNamespacedPod({ namespace: ns })).items;
  return Object.fromEntries([...deps.map((d) => [`deployment/${d.metadata!.name}`, d.metadata!.resourceVersion!]), ...pods.map((p) => [`pod/${p.metadata!.name}`, p.metadata!.resourceVersion!])]);
}
const deployment = (ns: string, name: string): Promise<V1Deployment> => admin.apps.readNamespacedDeployment({ namespace: ns, name });

describe('alert labels cannot choose any Kubernetes target', () => {
  it('control: the shipped crash-looping-pod restarts an allow-listed Deployment', async () => {
    await fire({ alertname: 'KubePodCrashLooping', namespace: NS, deployment: 'cart', pod: 'cart-1' });
    await until('cart restarted', async () => (await deployment(NS, 'cart')).spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], 60_000);
  });

  it('(a) namespace=kube-system: restart and pod delete refused before any API call; kube-system unchanged', async () => {
    const before = await versions('kube-system');
    const dnsBefore = await deployment('kube-system', 'coredns');
    const id = await fire({ alertname: 'KubePodCrashLooping', namespace: 'kube-system', deployment: 'coredns', pod: 'coredns-6d4b-x' });
    const final = await settled(id);
    expect(final.status).toBe('escalated');
    const rule = 'params.namespace value "kube-system" is a system namespace (matches kube-*): refused unless allow.kubernetes.allowSystemNamespaces opts in';
    const timeline = await m.timeline(id);
    expect(messages(timeline, 'gate')).toEqual([
      `step 1/2 (restart deployment) blocked: target refused: ${rule}`,
      `step 2/2 (delete crash-looping pod) blocked: target refused: ${rule}`,
    ]);
    expect(timeline.find((e) => groupOf(e.kind) === 'gate')?.data).toMatchObject({ refusal: { path: 'params.namespace', value: 'kube-system' }, decisions: [{ gate: 'target-allow-list', outcome: 'block' }] });
    expect(messages(timeline, 'action').filter((x) => / (started|finished|failed)/.test(x))).toEqual([]);
    expect(final.escalationReason).toContain(rule);
    const row = await audited(final.incidentId, (why) => why.includes(rule));
    expect(row).toMatchObject({ kind: 'gate', after: 'blocked' });
    expect(await versions('kube-system')).toEqual(before);
    const dnsAfter = await deployment('kube-system', 'coredns');
    expect(dnsAfter.metadata?.annotations).toEqual(dnsBefore.metadata?.annotations);
    expect(dnsAfter.spec?.template.metadata?.annotations).toEqual(dnsBefore.spec?.template.metadata?.annotations);
  });

  it.each([
    ['web/../x', 'web/../x'],
    ['WEB', 'WEB'],
    ['300 characters', 'a'.repeat(300)],
  ])('(b) deployment=%s: refused with the DNS-1123 rule, nothing in the namespace changes', async (_what, value) => {
    const before = await versions(NS);
    const id = await fire({ alertname: 'KubePodCrashLooping', namespace: NS, deployment: value, pod: value });
    const final = await settled(id);
    expect(final.status).toBe('escalated');
    const shown = JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
    const rule = `params.name value ${shown} is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters)`;
    const gates = messages(await m.timeline(id), 'gate');
    expect(gates[0]).toBe(`step 1/2 (restart deployment) blocked: target refused: ${rule}`);
    expect(gates[1]).toBe(`step 2/2 (delete crash-looping pod) blocked: target refused: ${rule}`);
    await audited(final.incidentId, (why) => why.includes(rule));
    expect(await versions(NS)).toEqual(before);
  });

  it('(c) a flood of KubeNodeMemoryPressure, one alert per node: at most 2 nodes cordoned, the rest escalate with the blast-radius reason', async () => {
    const nodes = Array.from({ length: 6 }, (_, i) => `flood-${i + 1}`);
    for (const n of nodes) await admin.node(n);
    const ids = await Promise.all(nodes.map((node) => fire({ alertname: 'KubeNodeMemoryPressure', node })));
    expect(new Set(ids).size).toBe(6);
    const finals = await Promise.all(ids.map(settled));
    const cordoned = [];
    for (const n of nodes) if ((await admin.core.readNode({ name: n })).spec?.unschedulable) cordoned.push(n);
    expect(cordoned).toHaveLength(2);
    expect(finals.filter((f) => f.status === 'resolved')).toHaveLength(2);
    const reason = 'blast radius: playbook node-pressure-drain already touched 2 targets in the last 1h (limit 2)';
    const held = finals.filter((f) => f.status === 'escalated');
    expect(held).toHaveLength(4);
    for (const f of held) {
      expect(f.escalationReason).toBe(`policy blocked step 1/1 (cordon node): ${reason}`);
      const gate = (await m.timeline(f.workflowId)).find(isKind('gate.blocked'));
      expect(gate?.data.decisions.find((d) => d.outcome === 'block')).toEqual({ gate: 'blast-radius', outcome: 'block', reason });
      await audited(f.incidentId, (why) => why.includes(reason));
    }
  });

  it('(d) a node outside allow.kubernetes.nodeSelector (a control-plane node): refused by the activity, the node unchanged', async () => {
    await admin.node('cp-1', { 'node-role.kubernetes.io/control-plane': '' });
    const before = await admin.core.readNode({ name: 'cp-1' });
    const id = await fire({ alertname: 'KubeNodeDiskPressure', node: 'cp-1' });
    const final = await settled(id);
    expect(final.status).toBe('escalated');
    const rule = 'does not match allow.kubernetes.nodeSelector !node-role.kubernetes.io/control-plane';
    const failed = (await m.timeline(id)).find((e) => groupOf(e.kind) === 'action' && e.message.includes(' failed: '));
    expect(failed?.message).toMatch(new RegExp(`^step 1/1 \\(cordon node\\) failed: target refused: node "cp-1" ${rule.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(its labels: .*node-role\\.kubernetes\\.io/control-plane=.*\\); nothing changed$`));
    expect(failed?.data).toMatchObject({ details: { refusal: { path: 'params.node', value: 'cp-1' } } });
    await audited(final.incidentId, (_why, what) => what.includes(rule));
    // (the node lifecycle controller writes its status and taints meanwhile: compare what medic writes)
    const after = await admin.core.readNode({ name: 'cp-1' });
    expect(after.spec?.unschedulable).toBeFalsy();
    expect(after.metadata?.annotations?.[STAMP]).toBeUndefined();
    // The TTL controller adds node.alpha.kubernetes.io/ttl on its own schedule: compare the rest.
    const own = (a: Record<string, string> | undefined) => Object.fromEntries(Object.entries(a ?? {}).filter(([k]) => k !== 'node.alpha.kubernetes.io/ttl'));
    expect(own(after.metadata?.annotations)).toEqual(own(before.metadata?.annotations));
  });

  it('the audit chain still verifies after the refusals', () => {
    expect(auditLog(db).verify()).toMatchObject({ ok: true });
  });
});

describe('deploy/kubernetes/rbac-namespaced.yaml (recommended): the API server fences namespaces too', () => {
  it('medic may restart in its Role namespace and cordon nodes, and is Forbidden in kube-system', async () => {
    // The shipped file under another ServiceAccount name, so the cluster-wide binding above does
    // not add to it.
    const docs = (loadAllYaml(readFileSync(join(ROOT, 'deploy/kubernetes/rbac-namespaced.yaml'), 'utf8')) as KubernetesObject[]).map((d) => {
      const text = JSON.stringify(d).replaceAll('"name":"medic"', '"name":"medic-ns"').replaceAll('"name":"medic-actuator"', '"name":"medic-ns-actuator"').replaceAll('"name":"medic-nodes"', '"name":"medic-ns-nodes"');
      return JSON.parse(text) as KubernetesObject;
    });
    const client = KubernetesObjectApi.makeApiClient(cluster.admin);
    for (const d of docs) {
      if (d.kind === 'Namespace') continue;
      await client.create(d.kind === 'ServiceAccount' ? { ...d, metadata: { ...d.metadata, namespace: 'medic' } } : d).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
    }
    const acts = createKubernetesActivities(medicDeps(await cluster.serviceAccount('medic', 'medic-ns'), NS));
    const common = { dryRun: true, timeoutMs: 10_000 };
    await expect(acts.k8sRestart({ kind: 'Deployment', namespace: NS, name: 'web', idempotencyKey: 'rbac-ns:1', ...common })).resolves.toMatchObject({ dryRun: true });
    await admin.node('rbac-ns-node');
    await expect(acts.k8sCordon({ node: 'rbac-ns-node', idempotencyKey: 'rbac-ns:2', ...common })).resolves.toMatchObject({ dryRun: true });
    await expect(acts.k8sRestart({ kind: 'Deployment', namespace: 'kube-system', name: 'coredns', idempotencyKey: 'rbac-ns:3', ...common })).rejects.toThrow(/HTTP 403 Forbidden/);
  });
});
