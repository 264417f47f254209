// Playbooks with kubernetes steps through real incident workflows: Temporal dev server, medic's
// worker and HTTP intake, and the real control plane behind a pass-through proxy (which injects
// 503s and hangs on demand). medic acts with the ServiceAccount bound by deploy/kubernetes/rbac.yaml.
// The timeline shows before → after; API outages are retried by Temporal without acting twice;
// a 4xx is a clear, non-retryable failure in the timeline; a dry run shows the server's diff.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Deployment } from '@kubernetes/client-node';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { startKubeCluster, type KubeCluster } from '../support/kubernetes.js';
import { adminOf, medicDeps, medicKubeConfig, sleep, startFlakyProxy, until, type FlakyProxy } from '../support/kube-fixtures.js';
import { actionEntry, runIncident as runIncidentIn, startMedic, type Medic } from '../support/medic.js';
import { actionOutput, groupOf } from '../../workflows/contracts-timeline.js';

let cluster: KubeCluster;
let admin: ReturnType<typeof adminOf>;
let proxy: FlakyProxy;
let m: Medic;
const NS = 'store';
const NODE = 'node-e2e';
let kubelet = true;
let kubeletLoop: Promise<void> | undefined;

beforeAll(async () => {
  cluster = await startKubeCluster();
  admin = adminOf(cluster);
  await admin.namespace(NS);
  await admin.node(NODE);
  proxy = await startFlakyProxy(cluster);
  const deps = medicDeps(proxy.configFor(await medicKubeConfig(cluster)), NS, { requestTimeoutMs: 5_000 });
  m = await startMedic({ kubernetes: deps });
  // The scheduler's and kubelet's part for every pod in the namespace (see kube-fixtures.ts).
  kubeletLoop = (async () => {
    while (kubelet) {
      await admin.actAsKubelet(NS, '', NODE).catch(() => undefined);
      await admin.finishTerminating(NS).catch(() => undefined);
      await sleep(300);
    }
  })();
});
afterAll(async () => {
  kubelet = false;
  await kubeletLoop;
  await m?.stop();
  await proxy?.close();
  await cluster?.stop();
});

const deployment = (name: string): Promise<V1Deployment> => admin.apps.readNamespacedDeployment({ namespace: NS, name });
const action = actionEntry;

/** Attempt numbers of each run of the named activity, from the workflow's history. */
async function attemptsOf(workflowId: string, activity: string): Promise<number[]> {
  const { events } = await m.env.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Set(
    (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => String(e.eventId)),
  );
  return (events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

const runIncident = (playbook: PlaybookInput, labels: Record<string, string>) => runIncidentIn(m, playbook, labels, 120_000);

const restartPlaybook = (name: string, deploymentName: string, over: Partial<PlaybookInput> = {}): PlaybookInput => ({
  name,
  match: { alertname: name },
  groupBy: ['alertname', 'deployment'],
  target: `k8s/${NS}/{{labels.deployment}}`,
  steps: [
    {
      name: 'restart',
      action: 'kubernetes',
      timeout: '20s',
      retries: 3,
      params: { operation: 'restart', namespace: NS, name: deploymentName },
    },
  ],
  ...over,
});

describe('kubernetes steps in an incident', () => {
  it('bad deploy: the incident rolls back to the previous revision and verifies the rollout; the timeline shows before → after', async () => {
    await admin.deployment(NS, 'shop', 'registry.local/shop:1.0', 2);
    await until('revision 1', async () => (await deployment('shop')).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1');
    await admin.apps.patchNamespacedDeployment(
      { namespace: NS, name: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.local/shop:2.0-bad' }] } } } } },
      admin.merge,
    );
    await until('revision 2', async () => (await deployment('shop')).metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2');
    const { final, timeline } = await runIncident(
      {
        name: 'bad-deploy-e2e',
        match: { alertname: 'ErrorRateHighAfterDeployE2E' },
        groupBy: ['alertname', 'namespace', 'deployment'],
        target: 'k8s/{{labels.namespace}}/{{labels.deployment}}',
        allow: { kubernetes: { namespaces: [NS], names: { Deployment: ['shop'] } } },
        steps: [
          {
            name: 'roll back',
            action: 'kubernetes',
            timeout: '30s',
            params: { operation: 'rollback', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' },
            verification: {
              kubernetes: { check: 'rollout-finished', namespace: '{{labels.namespace}}', name: '{{labels.deployment}}' },
              window: '2s',
              interval: '1s',
              deadline: '90s',
            },
          },
        ],
      },
      { alertname: 'ErrorRateHighAfterDeployE2E', namespace: NS, deployment: 'shop', severity: 'critical' },
    );
    expect(final.status).toBe('resolved');
    expect(action(timeline, 'started')?.message).toContain(`Kubernetes: roll back Deployment ${NS}/shop to the previous revision`);
    const finished = action(timeline, 'finished');
    expect(finished?.message).toContain(`rollback Deployment ${NS}/shop: spec.template.spec.containers[0].image "registry.local/shop:2.0-bad" → "registry.local/shop:1.0"`);
    expect(actionOutput(finished)).toMatchObject({
      object: `Deployment ${NS}/shop`,
      dryRun: false,
      alreadyDone: false,
      changes: [{ path: 'spec.template.spec.containers[0].image', before: 'registry.local/shop:2.0-bad', after: 'registry.local/shop:1.0' }],
    });
    const verified = timeline.find((e) => groupOf(e.kind) === 'verification' && e.message.startsWith('verified'));
    expect(verified?.message).toContain(`Deployment ${NS}/shop: rollout finished (2 updated, 2 available, 2 total of 2)`);
    expect((await deployment('shop')).spec?.template.spec?.containers[0]?.image).toBe('registry.local/shop:1.0');
  });

  it('API 503s are retried by Temporal, and the restart happens exactly once', async () => {
    await admin.deployment(NS, 'api', 'registry.local/api:1', 1);
    const generation = (await deployment('api')).metadata?.generation ?? 0;
    proxy.fail(2, '503');
    const failedBefore = proxy.failed;
    const { id, final, timeline } = await runIncident(restartPlaybook('api-flaky-e2e', 'api'), { alertname: 'api-flaky-e2e', deployment: 'api' });
    expect(final.status).toBe('resolved');
    expect(proxy.failed - failedBefore).toBe(2);
    expect(await attemptsOf(id, 'k8sRestart')).toEqual([3]); // attempts 1 and 2 met the 503s
    expect(action(timeline, 'finished')?.message).toMatch(/restart Deployment store\/api: spec\.template\.metadata\.annotations\["kubectl\.kubernetes\.io\/restartedAt"\] null → "/);
    expect((await deployment('api')).metadata?.generation).toBe(generation + 1);
  });

  it('a crash after the API call, before completion: the retry finds its stamp and does not restart twice', async () => {
    await admin.deployment(NS, 'orders', 'registry.local/orders:1', 1);
    const generation = (await deployment('orders')).metadata?.generation ?? 0;
    proxy.loseAnswerTo('PATCH'); // the restart lands, its answer never comes back
    const { id, final, timeline } = await runIncident(restartPlaybook('orders-lost-e2e', 'orders'), { alertname: 'orders-lost-e2e', deployment: 'orders' });
    expect(final.status).toBe('resolved');
    expect(await attemptsOf(id, 'k8sRestart')).toEqual([2]);
    const finished = action(timeline, 'finished');
    expect(finished?.message).toMatch(/restart Deployment store\/orders: already done by an earlier attempt of this step at .*; not repeated/);
    expect(actionOutput(finished)).toMatchObject({ alreadyDone: true, changes: [{ path: 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]', before: null }] });
    expect((await deployment('orders')).metadata?.generation).toBe(generation + 1);
  });

  it('a hung API request hits its deadline and the retry goes through', async () => {
    await admin.deployment(NS, 'cart', 'registry.local/cart:1', 1);
    proxy.fail(1, 'hang');
    const { id, final } = await runIncident(restartPlaybook('cart-hang-e2e', 'cart'), { alertname: 'cart-hang-e2e', deployment: 'cart' });
    expect(final.status).toBe('resolved');
    expect(await attemptsOf(id, 'k8sRestart')).toEqual([2]);
    expect((await deployment('cart')).spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
  });

  it('a 4xx is a clear, non-retryable failure in the timeline (one attempt), and the incident moves on to escalation', async () => {
    const { id, final, timeline } = await runIncident(restartPlaybook('missing-e2e', 'does-not-exist'), { alertname: 'missing-e2e', deployment: 'x' });
    expect(final.status).toBe('escalated');
    const failed = action(timeline, 'failed');
    expect(failed?.message).toBe(`step 1/1 (restart) failed: get Deployment ${NS}/does-not-exist: HTTP 404 NotFound: deployments.apps "does-not-exist" not found`);
    expect(failed?.kind).toBe('action.failed');
    expect(actionOutput(failed)).toMatchObject({ status: 404, reason: 'NotFound', request: `get Deployment ${NS}/does-not-exist` });
    expect(await attemptsOf(id, 'k8sRestart')).toEqual([1]);
  });

  it('a dry-run playbook shows the API server’s diff in the timeline and changes nothing', async () => {
    await admin.deployment(NS, 'search', 'registry.local/search:1', 1);
    const before = await deployment('search');
    const { timeline } = await runIncident(
      {
        name: 'search-dry-e2e',
        match: { alertname: 'search-dry-e2e' },
        dryRun: true,
        steps: [{ name: 'scale out', action: 'kubernetes', params: { operation: 'scale', namespace: NS, name: 'search', by: 2, min: 1, max: 4 } }],
      },
      { alertname: 'search-dry-e2e', service: 'search' },
    );
    const finished = action(timeline, 'finished');
    expect(finished?.message).toContain(`dry run: would scale Deployment ${NS}/search: spec.replicas 1 → 3`);
    expect(actionOutput(finished)).toMatchObject({ dryRun: true, changes: [{ path: 'spec.replicas', before: 1, after: 3 }] });
    const after = await deployment('search');
    expect(after.spec?.replicas).toBe(1);
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
  });
});
