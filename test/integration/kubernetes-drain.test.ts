// Drain through the Eviction API on a real control plane, with medic's ServiceAccount: a
// PodDisruptionBudget that allows no disruption blocks the drain until its deadline (a clear,
// non-retryable failure, the node left cordoned); relaxing it mid-drain lets the drain finish, one
// pod at a time as replacements become ready elsewhere; DaemonSet and mirror pods stay; pods
// without a controller are refused unless forced; a dry run evicts nothing. The kubelet's part
// (binding replacement pods, reporting them Ready, finishing graceful deletions) is played by
// the test with the admin credential — see test/support/kube-fixtures.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { V1Pod } from '@kubernetes/client-node';
import { createKubernetesActivities, STAMP, type K8sActionResult } from '../../activities/kubernetes.js';
import { startKubeCluster, type KubeCluster } from '../support/kubernetes.js';
import { adminOf, medicDeps, medicKubeConfig, sleep, until } from '../support/kube-fixtures.js';

let cluster: KubeCluster;
let admin: ReturnType<typeof adminOf>;
let acts: ReturnType<typeof createKubernetesActivities>;

beforeAll(async () => {
  cluster = await startKubeCluster();
  admin = adminOf(cluster);
  acts = createKubernetesActivities(medicDeps(await medicKubeConfig(cluster), 'default'));
});
afterAll(() => cluster?.stop());

let seq = 0;
const key = () => `incident:drain-test:0a1b2c3d:run${++seq}:step-0:try-1`;
const drain = (node: string, timeoutMs: number, over: { dryRun?: boolean; force?: boolean; idempotencyKey?: string } = {}) =>
  new MockActivityEnvironment().run(acts.k8sDrain, { node, timeoutMs, idempotencyKey: over.idempotencyKey ?? key(), dryRun: over.dryRun ?? false, ...(over.force ? { force: true } : {}) }) as Promise<K8sActionResult>;
const podsOn = async (ns: string, node: string): Promise<V1Pod[]> =>
  (await admin.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${node}` })).items;
const live = (pods: V1Pod[]) => pods.filter((p) => !p.metadata?.deletionTimestamp);

/** A node running two ready `web` replicas (guarded by a PDB), a DaemonSet pod and a mirror pod. */
async function busyNode(ns: string, node: string, minAvailable: number): Promise<void> {
  await admin.namespace(ns);
  await admin.node(node, { pool: node });
  await admin.deployment(ns, 'web', 'registry.local/web:1', 2);
  await admin.apps.createNamespacedDaemonSet({
    namespace: ns,
    body: {
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { pool: node }, containers: [{ name: 'a', image: 'registry.local/agent:1' }] } },
      },
    },
  });
  await admin.core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: `static-${node}`, annotations: { 'kubernetes.io/config.mirror': 'hash' } },
      spec: { nodeName: node, containers: [{ name: 's', image: 'registry.local/static:1' }] },
    },
  });
  await until('web and agent pods bound and ready on the node', async () => {
    await admin.actAsKubelet(ns, 'app in (web, agent)', node);
    return (await podsOn(ns, node)).filter((p) => p.status?.phase === 'Running').length === 3;
  });
  await admin.policy.createNamespacedPodDisruptionBudget({
    namespace: ns,
    body: { metadata: { name: 'web-pdb' }, spec: { minAvailable, selector: { matchLabels: { app: 'web' } } } },
  });
  await until('the disruption controller counted the healthy pods', async () => {
    const pdb = await admin.policy.readNamespacedPodDisruptionBudget({ namespace: ns, name: 'web-pdb' });
    return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.currentHealthy === 2;
  });
}

describe('drain', () => {
  it('a PodDisruptionBudget allowing no disruption blocks it until the deadline: a clear non-retryable failure, node left cordoned', async () => {
    await busyNode('blocked', 'node-blocked', 2);
    const started = Date.now();
    let failure: { type?: string; nonRetryable?: boolean; message: string } | undefined;
    await drain('node-blocked', 3_000).catch((err: unknown) => (failure = err as typeof failure));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(failure).toMatchObject({ type: 'KubernetesDrainTimeout', nonRetryable: true });
    expect(failure!.message).toMatch(/^drain Node node-blocked: 2 pod\(s\) still blocked by a PodDisruptionBudget after \d+s: /);
    expect(failure!.message).toContain('blocked/web-');
    expect(failure!.message).toContain('The disruption budget web-pdb needs 2 healthy pods and has 2 currently');
    expect(failure!.message).toMatch(/\(evicted 0; the node stays cordoned\)$/);
    expect((await admin.core.readNode({ name: 'node-blocked' })).spec?.unschedulable).toBe(true);
    expect(live(await podsOn('blocked', 'node-blocked'))).toHaveLength(4);
  });

  it('relaxing the budget mid-drain lets it finish one pod at a time; DaemonSet and mirror pods stay; node-drained verifies it', async () => {
    await busyNode('paced', 'node-paced', 2);
    await admin.node('node-spare');
    const k = key();
    const running = drain('node-paced', 90_000, { idempotencyKey: k });
    // The kubelet and scheduler elsewhere: replacements land on node-spare and become ready,
    // evicted pods finish terminating.
    let kubelet = true;
    const kubeletLoop = (async () => {
      while (kubelet) {
        await admin.actAsKubelet('paced', 'app=web', 'node-spare').catch(() => undefined);
        await admin.finishTerminating('paced').catch(() => undefined);
        await sleep(300);
      }
    })();
    await sleep(2_000);
    expect(live(await podsOn('paced', 'node-paced')).filter((p) => p.metadata?.labels?.app === 'web')).toHaveLength(2); // still blocked
    await admin.policy.patchNamespacedPodDisruptionBudget({ namespace: 'paced', name: 'web-pdb', body: { spec: { minAvailable: 1 } } }, admin.merge);
    const r = await running.finally(() => (kubelet = false));
    await kubeletLoop;
    expect(r.alreadyDone).toBe(false);
    expect(r.changes).toEqual([{ path: 'spec.unschedulable', before: false, after: true }]);
    expect(r.evicted).toHaveLength(2);
    expect(r.evicted!.every((p) => p.startsWith('paced/web-'))).toBe(true);
    expect(r.skipped!.sort()).toEqual([expect.stringMatching(/^paced\/agent-.+ \(DaemonSet-managed\)$/), 'paced/static-node-paced (mirror pod)']);
    expect(r.summary).toMatch(/^drain Node node-paced: cordoned; evicted 2 pod\(s\), left 2 \(/);
    const node = await admin.core.readNode({ name: 'node-paced' });
    expect(node.metadata?.annotations?.[STAMP]).toBe(k);
    await admin.finishTerminating('paced');
    const probe = await acts.k8sProbe({ check: { check: 'node-drained', node: 'node-paced' } });
    expect(probe).toEqual({ ok: true, evidence: 'Node node-paced: drained' });
    // A retry of the same drain: cordon already done, nothing left to evict.
    const again = await drain('node-paced', 10_000, { idempotencyKey: k });
    expect(again).toMatchObject({ alreadyDone: true, evicted: [] });
  });

  it('pods without a controller are refused unless forced; a dry run evicts and cordons nothing', async () => {
    await admin.namespace('loose');
    await admin.node('node-loose');
    await admin.core.createNamespacedPod({ namespace: 'loose', body: { metadata: { name: 'adhoc' }, spec: { nodeName: 'node-loose', containers: [{ name: 'c', image: 'registry.local/x:1' }] } } });
    const dry = await drain('node-loose', 5_000, { dryRun: true, force: true });
    expect(dry).toMatchObject({ dryRun: true, evicted: ['loose/adhoc'], changes: [{ path: 'spec.unschedulable', before: false, after: true }] });
    expect(dry.summary).toMatch(/^dry run: would drain Node node-loose: /);
    expect((await admin.core.readNode({ name: 'node-loose' })).spec?.unschedulable).toBeUndefined();
    expect(live(await podsOn('loose', 'node-loose'))).toHaveLength(1);
    const refused = await drain('node-loose', 5_000).catch((err: unknown) => err as { type?: string; nonRetryable?: boolean; message: string });
    expect(refused).toMatchObject({
      type: 'KubernetesDrainRefused',
      nonRetryable: true,
      message: 'drain Node node-loose: 1 pod(s) not managed by a controller would be lost: loose/adhoc (set force: true to evict them anyway)',
    });
    expect(live(await podsOn('loose', 'node-loose'))).toHaveLength(1);
    const forced = await drain('node-loose', 5_000, { force: true });
    expect(forced.evicted).toEqual(['loose/adhoc']);
    expect(live(await podsOn('loose', 'node-loose'))).toHaveLength(0);
    const probe = await acts.k8sProbe({ check: { check: 'node-drained', node: 'node-loose' } });
    expect(probe.ok).toBe(false); // still terminating: no kubelet has finished it
    expect(probe.evidence).toBe('Node node-loose: 1 pod(s) left: loose/adhoc (terminating)');
  });
});
