// The Kubernetes actions against a real kube-apiserver + kube-controller-manager + etcd (RBAC on),
// run with medic's ServiceAccount token bound by the shipped deploy/kubernetes/rbac.yaml: each
// action does its thing and reports before → after; a repeated activity with the same key (what a
// retry after a crash between the API call and completion does) does not act twice; a dry run
// changes nothing; scale bounds are refused; Argo Rollouts pause/abort on the Rollout CRD.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { CustomObjectsApi, type V1Deployment } from '@kubernetes/client-node';
import { createKubernetesActivities, STAMP } from '../../activities/kubernetes.js';
import { installRolloutCrd, startKubeCluster, type KubeCluster } from '../support/kubernetes.js';
import { adminOf, clusterCa, kubeConfigVia, medicDeps, medicKubeConfig, sleep, until } from '../support/kube-fixtures.js';
import { startHoldingProxy } from '../support/crash-proxy.js';

let cluster: KubeCluster;
let admin: ReturnType<typeof adminOf>;
let acts: ReturnType<typeof createKubernetesActivities>;
const NS = 'shop';
const NODE = 'node-a';

beforeAll(async () => {
  cluster = await startKubeCluster();
  await installRolloutCrd(cluster);
  admin = adminOf(cluster);
  await admin.namespace(NS);
  await admin.node(NODE);
  acts = createKubernetesActivities(medicDeps(await medicKubeConfig(cluster), NS));
});
afterAll(() => cluster?.stop());

let seq = 0;
const keyOf = (step = 0, attempt = 1) => `incident:k8s-test:0a1b2c3d:run${++seq}:step-${step}:try-${attempt}`;
const common = (idempotencyKey: string, dryRun = false) => ({ idempotencyKey, dryRun, timeoutMs: 30_000 });
/** Runs an activity with a Temporal activity context (attempt, schedule time, heartbeats). */
const inActivity = async <I, R>(fn: (input: I) => Promise<R>, input: I, info: Partial<Info> = {}): Promise<R> =>
  (await new MockActivityEnvironment(info).run(fn, input)) as R;
const failureOf = async (p: Promise<unknown>): Promise<{ type?: string; nonRetryable?: boolean; message: string }> => {
  try {
    await p;
  } catch (err) {
    return err as { type?: string; nonRetryable?: boolean; message: string };
  }
  throw new Error('expected a failure');
};
const readDeployment = (name: string): Promise<V1Deployment> => admin.apps.readNamespacedDeployment({ namespace: NS, name });
const replicaSetsOf = async (name: string) =>
  (await admin.apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: `app=${name}` })).items;
const RESTARTED = 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]';

describe('restart', () => {
  it('a Deployment gets a new restartedAt in its pod template (a new ReplicaSet rolls out) and the stamp, in one patch', async () => {
    await admin.deployment(NS, 'web-restart', 'registry.local/web:1.0');
    await until('first ReplicaSet', async () => (await replicaSetsOf('web-restart')).length === 1);
    const key = keyOf();
    const r = await inActivity(acts.k8sRestart, { kind: 'Deployment' as const, name: 'web-restart', ...common(key) });
    expect(r).toMatchObject({ dryRun: false, alreadyDone: false, object: `Deployment ${NS}/web-restart` });
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatchObject({ path: RESTARTED, before: null });
    expect(Date.parse(String(r.changes[0]!.after))).toBeGreaterThan(Date.now() - 60_000);
    expect(r.summary).toBe(`restart Deployment ${NS}/web-restart: ${RESTARTED} null → ${JSON.stringify(r.changes[0]!.after)}`);
    const d = await readDeployment('web-restart');
    expect(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(r.changes[0]!.after);
    expect(d.metadata?.annotations?.[STAMP]).toBe(key);
    // The controller really rolls: a second ReplicaSet for the new template.
    await until('a second ReplicaSet', async () => (await replicaSetsOf('web-restart')).length === 2);
  });

  it('a retry with the same key (crash after the patch, before completion) finds its stamp and does not restart twice', async () => {
    await admin.deployment(NS, 'web-retry', 'registry.local/web:1.0');
    const key = keyOf();
    const first = await inActivity(acts.k8sRestart, { kind: 'Deployment' as const, name: 'web-retry', ...common(key) }, { attempt: 1 });
    const afterFirst = await readDeployment('web-retry');
    const retried = await inActivity(acts.k8sRestart, { kind: 'Deployment' as const, name: 'web-retry', ...common(key) }, { attempt: 2 });
    expect(retried.alreadyDone).toBe(true);
    expect(retried.changes).toEqual(first.changes); // what the first attempt did, from the stamp
    expect(retried.summary).toMatch(/already done by an earlier attempt of this step .*; not repeated$/);
    const afterRetry = await readDeployment('web-retry');
    expect(afterRetry.metadata?.generation).toBe(afterFirst.metadata?.generation);
    expect(afterRetry.spec?.template.metadata?.annotations).toEqual(afterFirst.spec?.template.metadata?.annotations);
    // The next try of the step (a new key) does restart again: the stamp is what held it back.
    const next = await inActivity(acts.k8sRestart, { kind: 'Deployment' as const, name: 'web-retry', ...common(keyOf(0, 2)) });
    expect(next.alreadyDone).toBe(false);
    expect((await readDeployment('web-retry')).metadata?.generation).toBe((afterFirst.metadata?.generation ?? 0) + 1);
  });

  it('dry run: the API server validates the patch (dryRun=All) and answers the diff; nothing is stored', async () => {
    await admin.deployment(NS, 'web-dry', 'registry.local/web:1.0');
    const before = await readDeployment('web-dry');
    const r = await acts.k8sRestart({ kind: 'Deployment', name: 'web-dry', ...common(keyOf(), true) });
    expect(r.dryRun).toBe(true);
    expect(r.summary).toMatch(/^dry run: would restart Deployment shop\/web-dry: /);
    expect(r.changes.map((c) => c.path)).toEqual([RESTARTED]);
    const after = await readDeployment('web-dry');
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(after.spec?.template.metadata?.annotations).toBeUndefined();
    expect(after.metadata?.annotations?.[STAMP]).toBeUndefined();
  });

  it('StatefulSets and DaemonSets restart the same way', async () => {
    const labels = { app: 'db' };
    const template = { metadata: { labels }, spec: { containers: [{ name: 'db', image: 'registry.local/db:1' }] } };
    await admin.apps.createNamespacedStatefulSet({ namespace: NS, body: { metadata: { name: 'db' }, spec: { serviceName: 'db', replicas: 1, selector: { matchLabels: labels }, template } } });
    await admin.apps.createNamespacedDaemonSet({ namespace: NS, body: { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { ...template, metadata: { labels: { app: 'agent' } } } } } });
    const sts = await acts.k8sRestart({ kind: 'StatefulSet', name: 'db', ...common(keyOf()) });
    const ds = await acts.k8sRestart({ kind: 'DaemonSet', name: 'agent', ...common(keyOf()) });
    expect([sts.object, sts.changes[0]?.path]).toEqual([`StatefulSet ${NS}/db`, RESTARTED]);
    expect([ds.object, ds.changes[0]?.path]).toEqual([`DaemonSet ${NS}/agent`, RESTARTED]);
    const stored = await admin.apps.readNamespacedStatefulSet({ namespace: NS, name: 'db' });
    expect(stored.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(sts.changes[0]?.after);
  });
});

describe('scale', () => {
  const scale = (name: string, over: { replicas?: number; by?: number }, key: string, dryRun = false) =>
    acts.k8sScale({ kind: 'Deployment', name, min: 1, max: 5, ...over, ...common(key, dryRun) });

  it('scales within bounds and reports spec.replicas before → after; a relative scale retried with its key applies once', async () => {
    await admin.deployment(NS, 'api', 'registry.local/api:1', 2);
    const r = await scale('api', { replicas: 4 }, keyOf());
    expect(r.changes).toEqual([{ path: 'spec.replicas', before: 2, after: 4 }]);
    expect(r.summary).toBe(`scale Deployment ${NS}/api: spec.replicas 2 → 4`);
    const key = keyOf();
    const up = await scale('api', { by: 1 }, key);
    const again = await scale('api', { by: 1 }, key);
    expect(up.changes).toEqual([{ path: 'spec.replicas', before: 4, after: 5 }]);
    expect(again).toMatchObject({ alreadyDone: true, changes: [{ path: 'spec.replicas', before: 4, after: 5 }] });
    expect((await readDeployment('api')).spec?.replicas).toBe(5);
  });

  it('a target outside [min, max] is refused as a non-retryable failure and nothing changes', async () => {
    await admin.deployment(NS, 'api-bounded', 'registry.local/api:1', 2);
    const tooMany = await failureOf(scale('api-bounded', { replicas: 9 }, keyOf()));
    expect(tooMany).toMatchObject({ type: 'KubernetesScaleOutOfBounds', nonRetryable: true });
    expect(tooMany.message).toBe(`scale Deployment ${NS}/api-bounded to 9 refused: outside the playbook's bounds [1, 5] (currently 2)`);
    const tooFew = await failureOf(scale('api-bounded', { by: -2 }, keyOf()));
    expect(tooFew.message).toContain('to 0 refused: outside the playbook\'s bounds [1, 5]');
    expect((await readDeployment('api-bounded')).spec?.replicas).toBe(2);
  });

  it('dry run shows the change and leaves replicas alone', async () => {
    await admin.deployment(NS, 'api-dry', 'registry.local/api:1', 2);
    const r = await scale('api-dry', { replicas: 3 }, keyOf(), true);
    expect(r).toMatchObject({ dryRun: true, changes: [{ path: 'spec.replicas', before: 2, after: 3 }] });
    expect((await readDeployment('api-dry')).spec?.replicas).toBe(2);
  });
});

describe('rollback', () => {
  const image = async (name: string) => (await readDeployment(name)).spec?.template.spec?.containers[0]?.image;
  const revision = async (name: string) => (await readDeployment(name)).metadata?.annotations?.['deployment.kubernetes.io/revision'];
  async function deployTwice(name: string): Promise<void> {
    await admin.deployment(NS, name, 'registry.local/shop:1.0');
    await until('revision 1', async () => (await revision(name)) === '1');
    await admin.apps.patchNamespacedDeployment(
      { namespace: NS, name, body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.local/shop:2.0-bad' }] } } } } },
      admin.merge,
    );
    await until('revision 2', async () => (await revision(name)) === '2');
  }

  it('rolls back to the previous revision (kubectl rollout undo); a retry with the same key does not roll forward again', async () => {
    await deployTwice('shop');
    const key = keyOf();
    const r = await inActivity(acts.k8sRollback, { name: 'shop', ...common(key) });
    expect(r.changes).toEqual([{ path: 'spec.template.spec.containers[0].image', before: 'registry.local/shop:2.0-bad', after: 'registry.local/shop:1.0' }]);
    expect(await image('shop')).toBe('registry.local/shop:1.0');
    // The controller reuses revision 1's ReplicaSet, which becomes revision 3.
    await until('revision 3', async () => (await revision('shop')) === '3');
    const retried = await inActivity(acts.k8sRollback, { name: 'shop', ...common(key) }, { attempt: 2 });
    expect(retried.alreadyDone).toBe(true);
    expect(retried.changes).toEqual(r.changes);
    expect(await image('shop')).toBe('registry.local/shop:1.0');
    expect(await revision('shop')).toBe('3');
  });

  it('dry run shows the template change and keeps the bad image; no earlier revision is a clear non-retryable failure', async () => {
    await deployTwice('shop-dry');
    const dry = await acts.k8sRollback({ name: 'shop-dry', ...common(keyOf(), true) });
    expect(dry.changes).toEqual([{ path: 'spec.template.spec.containers[0].image', before: 'registry.local/shop:2.0-bad', after: 'registry.local/shop:1.0' }]);
    expect(await image('shop-dry')).toBe('registry.local/shop:2.0-bad');
    await admin.deployment(NS, 'fresh', 'registry.local/fresh:1');
    await until('revision 1', async () => (await revision('fresh')) === '1');
    const none = await failureOf(acts.k8sRollback({ name: 'fresh', ...common(keyOf()) }));
    expect(none).toMatchObject({ type: 'KubernetesNoRevision', nonRetryable: true, message: `rollback Deployment ${NS}/fresh: no ReplicaSet with a revision before 1 (revisions: 1)` });
  });
});

describe('delete pod', () => {
  const pod = (name: string) => admin.core.readNamespacedPod({ namespace: NS, name });

  it('deletes the pod (stamped first); a retry finds it terminating with its stamp and does not delete again', async () => {
    await admin.deployment(NS, 'worker', 'registry.local/worker:1', 1);
    const [p] = await until('a pod', async () => {
      const pods = await admin.actAsKubelet(NS, 'app=worker', NODE);
      return pods.length === 1 ? pods : undefined;
    });
    const name = p!.metadata!.name!;
    const key = keyOf();
    const started = Date.now();
    const r = await inActivity(acts.k8sDeletePod, { name, ...common(key) }, { scheduledTimestampMs: started });
    expect(r).toMatchObject({ alreadyDone: false, changes: [{ path: 'pod', before: 'Running', after: 'deleted' }], summary: `delete Pod ${NS}/${name} (Running)` });
    // Bound to a node, the pod terminates gracefully (no kubelet here finishes it).
    const terminating = await pod(name);
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.metadata?.annotations?.[STAMP]).toBe(key);
    const retried = await inActivity(acts.k8sDeletePod, { name, ...common(key) }, { attempt: 2, scheduledTimestampMs: started });
    expect(retried.alreadyDone).toBe(true);
    expect(retried.summary).toMatch(/already deleted by an earlier attempt of this step/);
    await admin.finishTerminating(NS);
    const gone = await inActivity(acts.k8sDeletePod, { name, ...common(key) }, { attempt: 3, scheduledTimestampMs: started });
    expect(gone).toMatchObject({ alreadyDone: true, summary: `delete Pod ${NS}/${name}: already gone` });
  });

  it('the stamp landed but the delete never did (the attempt died in between): the retry deletes the pod, and only then reports done', async () => {
    await admin.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'half-done' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'registry.local/x:1' }] } } });
    const proxy = await startHoldingProxy({ target: cluster.server, ...(clusterCa(cluster) ? { ca: clusterCa(cluster)! } : {}) });
    onTestFinished(() => proxy.close());
    const viaProxy = createKubernetesActivities(medicDeps(kubeConfigVia(await medicKubeConfig(cluster), proxy.url), NS));
    const key = keyOf();
    const started = Date.now();
    const held = proxy.hold((e) => e.method === 'DELETE' && e.url.includes('/pods/half-done'), 'before-target');
    const first = inActivity(viaProxy.k8sDeletePod, { name: 'half-done', ...common(key) }, { scheduledTimestampMs: started });
    await held;
    proxy.drop(); // the worker died with the delete unsent
    await failureOf(first);
    const stamped = await pod('half-done');
    expect(stamped.metadata?.annotations?.[STAMP]).toBe(key);
    expect(stamped.metadata?.deletionTimestamp).toBeUndefined();
    const retried = await inActivity(acts.k8sDeletePod, { name: 'half-done', ...common(key) }, { attempt: 2, scheduledTimestampMs: started });
    expect(retried).toMatchObject({ alreadyDone: false, changes: [{ path: 'pod', before: 'Pending', after: 'deleted' }] });
    expect(retried.summary).toBe(`delete Pod ${NS}/half-done (Pending); the stamp was written by an earlier attempt whose delete had not landed`);
    expect((await pod('half-done')).metadata?.deletionTimestamp).toBeDefined();
    const again = await inActivity(acts.k8sDeletePod, { name: 'half-done', ...common(key) }, { attempt: 3, scheduledTimestampMs: started });
    expect(again.alreadyDone).toBe(true);
    expect(proxy.exchanges.filter((e) => e.method === 'DELETE').map((e) => e.fate)).toEqual(['dropped']);
  });

  it('a pod of the same name recreated after the step began (a StatefulSet replica) is not deleted by the retry', async () => {
    const body = { metadata: { name: 'cache-0', labels: { app: 'cache' } }, spec: { containers: [{ name: 'c', image: 'registry.local/cache:1' }] } };
    await admin.core.createNamespacedPod({ namespace: NS, body });
    await sleep(1_100); // creationTimestamp has whole seconds
    const stepBegan = Date.now();
    const key = keyOf();
    await inActivity(acts.k8sDeletePod, { name: 'cache-0', ...common(key) }, { scheduledTimestampMs: stepBegan });
    await until('cache-0 gone', async () => (await pod('cache-0').catch(() => undefined)) === undefined);
    await sleep(1_100);
    const replacement = await admin.core.createNamespacedPod({ namespace: NS, body });
    const retried = await inActivity(acts.k8sDeletePod, { name: 'cache-0', ...common(key) }, { attempt: 2, scheduledTimestampMs: stepBegan });
    expect(retried.alreadyDone).toBe(true);
    expect(retried.summary).toMatch(/recreated at .* after this step began; not deleting the replacement$/);
    const still = await pod('cache-0');
    expect(still.metadata?.uid).toBe(replacement.metadata?.uid);
    expect(still.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('dry run deletes nothing', async () => {
    await admin.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'keep-me' }, spec: { containers: [{ name: 'c', image: 'registry.local/x:1' }] } } });
    const r = await acts.k8sDeletePod({ name: 'keep-me', ...common(keyOf(), true) });
    expect(r).toMatchObject({ dryRun: true, summary: `dry run: would delete Pod ${NS}/keep-me (Pending)` });
    const p = await pod('keep-me');
    expect(p.metadata?.deletionTimestamp).toBeUndefined();
    expect(p.metadata?.annotations?.[STAMP]).toBeUndefined();
  });
});

describe('cordon and uncordon', () => {
  const unschedulable = async () => (await admin.core.readNode({ name: 'node-c' })).spec?.unschedulable;

  it('cordon marks the node unschedulable (retry: already done), uncordon undoes it, and a dry run changes nothing', async () => {
    await admin.node('node-c');
    const dry = await acts.k8sCordon({ node: 'node-c', ...common(keyOf(), true) });
    expect(dry).toMatchObject({ dryRun: true, changes: [{ path: 'spec.unschedulable', before: false, after: true }] });
    expect(await unschedulable()).toBeUndefined();
    const key = keyOf();
    const c = await acts.k8sCordon({ node: 'node-c', ...common(key) });
    expect(c).toMatchObject({ object: 'Node node-c', changes: [{ path: 'spec.unschedulable', before: false, after: true }], summary: 'cordon Node node-c: spec.unschedulable false → true' });
    expect(await unschedulable()).toBe(true);
    expect((await acts.k8sCordon({ node: 'node-c', ...common(key) })).alreadyDone).toBe(true);
    const u = await acts.k8sUncordon({ node: 'node-c', ...common(keyOf()) });
    expect(u.changes).toEqual([{ path: 'spec.unschedulable', before: true, after: false }]);
    expect(await unschedulable()).toBeFalsy(); // the API server omits false
    const again = await acts.k8sUncordon({ node: 'node-c', ...common(keyOf()) });
    expect(again).toMatchObject({ changes: [], summary: 'uncordon Node node-c: not cordoned; nothing to do' });
  });
});

describe('Argo Rollouts', () => {
  const custom = () => cluster.admin.makeApiClient(CustomObjectsApi);
  const ref = (name: string) => ({ group: 'argoproj.io', version: 'v1alpha1', namespace: NS, plural: 'rollouts', name });
  const rollout = async (name: string) => (await custom().getNamespacedCustomObject(ref(name))) as { spec?: { paused?: boolean }; status?: { abort?: boolean }; metadata?: { annotations?: Record<string, string> } };
  async function createRollout(name: string): Promise<void> {
    await custom().createNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'rollouts',
      body: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.local/checkout:2.0' }] } },
          strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }] } },
        },
      },
    });
    // What the Argo controller reports mid-canary (it is not running here).
    await custom().patchNamespacedCustomObjectStatus({ ...ref(name), body: { status: { phase: 'Paused', currentStepIndex: 1 } } }, admin.merge);
  }

  it('pause sets spec.paused; abort sets status.abort through the status subresource; both stamped, retries do nothing', async () => {
    await createRollout('checkout');
    const pauseKey = keyOf();
    const p = await acts.k8sRolloutPause({ name: 'checkout', ...common(pauseKey) });
    expect(p).toMatchObject({ object: `Rollout ${NS}/checkout`, changes: [{ path: 'spec.paused', before: null, after: true }] });
    expect((await acts.k8sRolloutPause({ name: 'checkout', ...common(pauseKey) })).alreadyDone).toBe(true);
    const abortKey = keyOf(1);
    const a = await acts.k8sRolloutAbort({ name: 'checkout', ...common(abortKey) });
    expect(a).toMatchObject({ alreadyDone: false, changes: [{ path: 'status.abort', before: null, after: true }], summary: `abort Rollout ${NS}/checkout: status.abort null → true` });
    const stored = await rollout('checkout');
    expect(stored.spec?.paused).toBe(true);
    expect(stored.status?.abort).toBe(true);
    expect(stored.metadata?.annotations?.[STAMP]).toBe(abortKey);
    const retried = await acts.k8sRolloutAbort({ name: 'checkout', ...common(abortKey) });
    expect(retried).toMatchObject({ alreadyDone: true, changes: a.changes });
  });

  it('dry run abort changes nothing', async () => {
    await createRollout('checkout-dry');
    const r = await acts.k8sRolloutAbort({ name: 'checkout-dry', ...common(keyOf(), true) });
    expect(r).toMatchObject({ dryRun: true, changes: [{ path: 'status.abort', before: null, after: true }] });
    const stored = await rollout('checkout-dry');
    expect(stored.status?.abort).toBeUndefined();
    expect(stored.metadata?.annotations?.[STAMP]).toBeUndefined();
  });
});

describe('verification probes', () => {
  it('rollout-finished and pods-ready are false while pods are not ready and true once the kubelet reports them Ready', async () => {
    await admin.deployment(NS, 'probe-web', 'registry.local/web:1', 2);
    const rollout = () => acts.k8sProbe({ check: { check: 'rollout-finished', kind: 'Deployment', name: 'probe-web' } });
    const ready = () => acts.k8sProbe({ check: { check: 'pods-ready', selector: 'app=probe-web', minReady: 2 } });
    await until('two pods', async () => (await admin.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=probe-web' })).items.length === 2);
    expect(await rollout()).toMatchObject({ ok: false, evidence: expect.stringMatching(/^Deployment shop\/probe-web: (rollout in progress|waiting)/) });
    expect(await ready()).toMatchObject({ ok: false, evidence: expect.stringContaining('0/2 ready (need ≥ 2)') });
    await admin.actAsKubelet(NS, 'app=probe-web', NODE);
    const done = await until('rollout finished', async () => {
      const r = await rollout();
      return r.ok ? r : undefined;
    });
    expect(done.evidence).toBe('Deployment shop/probe-web: rollout finished (2 updated, 2 available, 2 total of 2)');
    expect(await ready()).toEqual({ ok: true, evidence: 'pods shop/app=probe-web: 2/2 ready (need ≥ 2)' });
  });

  it('a probe that cannot read its object fails the round (evidence says why) instead of failing the workflow', async () => {
    expect(await acts.k8sProbe({ check: { check: 'rollout-finished', kind: 'Deployment', name: 'gone' } })).toEqual({
      ok: false,
      evidence: `get Deployment ${NS}/gone: HTTP 404 NotFound: deployments.apps "gone" not found`,
    });
  });
});


