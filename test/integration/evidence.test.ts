// The evidence pack against real parts: a kube-apiserver + kube-controller-manager (pods with an
// OOMKilled last state and CrashLoopBackOff, events, the owner chain, a node under memory
// pressure, a new ReplicaSet revision with an image and env diff, a changed ConfigMap), all read
// with medic's ServiceAccount under the shipped RBAC; a real VictoriaLogs for the last log lines
// (a secret in a line is redacted); a real Prometheus scraping the demo service for the named
// queries' values. Then the bad input: a Prometheus answering garbage, a log store that never
// answers and an HTTP target that is down — the pack names each missing part and why, within the
// deadline, and keeps the rest.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvidenceActivities, victoriaLogsSource } from '../../activities/evidence/index.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';
import type { EvidenceRequest } from '../../src/evidence/request.js';
import { factsOf } from '../../src/evidence/schema.js';
import { evaluateWhen } from '../../src/evidence/when.js';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { installRolloutCrd } from '../support/kubernetes.js';
import { adminOf, until } from '../support/kube-fixtures.js';
import { startCrashingWeb } from '../support/evidence-fixtures.js';
import { perFile } from '../support/fixtures.js';
import { startUnleash, type Unleash } from '../support/unleash.js';

const NS = 'shop';
const NODE = 'node-mem';
const web = perFile(() => startCrashingWeb(NS, NODE));
let demo: DemoService;
let prom: PrometheusStack;
let unleash: Unleash;
const hostile: Server[] = [];

/** A local server that answers every request with `answer` (or never, for 'hang'). */
async function misbehaving(answer: 'garbage' | 'hang'): Promise<string> {
  const s = createServer((_req, res) => {
    if (answer === 'garbage') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway from a proxy</html>');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  hostile.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  [demo, unleash] = await Promise.all([startDemoService(), startUnleash()]);
  prom = await startPrometheusStack({ scrapeTarget: new URL(demo.url).host, webhookUrl: 'http://127.0.0.1:9/unused', webhookToken: 'unused-token-0123456789', rules: [], interval: '1s' });
  // Prometheus has scraped the demo service at least once.
  await until('demo_up in Prometheus', async () => {
    const r = (await (await fetch(`${prom.prometheusUrl}/api/v1/query?query=demo_up`)).json()) as { data?: { result?: unknown[] } };
    return (r.data?.result?.length ?? 0) > 0;
  });
}, 120_000);
afterAll(async () => {
  for (const s of hostile) s.close();
  await Promise.all([demo?.close(), prom?.stop(), unleash?.stop()]);
});

const request = (over: Partial<EvidenceRequest> = {}): EvidenceRequest => ({
  incidentId: 'incident:evidence:1',
  moment: 'open',
  at: Date.now(),
  service: 'web',
  target: 'web',
  kubernetes: { kind: 'Deployment', name: 'web' },
  logs: { selector: { namespace: NS, app: 'web' }, lines: 20, sinceMs: 15 * 60_000 },
  queries: [{ name: 'up', query: 'demo_up' }],
  http: [`${demo.url}/healthz`],
  changes: { windowMs: 30 * 60_000 },
  timeoutMs: 5_000,
  refused: [],
  ...over,
});

describe('evidence pack (real parts)', () => {
  it('collects pods, last state, events, owners, node conditions, logs, values, probe responses and what changed', async () => {
    const { collectEvidence } = createEvidenceActivities({
      fetch: globalThis.fetch, secret: () => undefined, prometheusUrl: prom.prometheusUrl,
      kubernetes: web.kube, logs: victoriaLogsSource({ url: web.logs.url }),
    });
    const p = await collectEvidence(request());
    expect(p.missing).toEqual([]);
    const k = p.kubernetes!;
    const crashing = k.pods.find((x) => x.restarts > 0);
    expect(crashing).toMatchObject({ phase: 'Running', node: NODE, restarts: 5, containers: [{ name: 'app', state: 'waiting', reason: 'CrashLoopBackOff', lastState: { reason: 'OOMKilled', exitCode: 137 } }] });
    expect(k.owners).toEqual([`Pod/${k.pods[0]!.name}`, expect.stringMatching(/^ReplicaSet\/web-/), 'Deployment/web']);
    expect(k.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'BackOff', count: 7 }));
    expect(k.nodes).toEqual([{ name: NODE, conditions: [{ type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory' }] }]);
    expect(p.logs).toMatchObject({ source: 'victorialogs', query: expect.stringContaining('{namespace="shop",app="web"}') });
    expect(p.logs!.lines).toHaveLength(20);
    expect(p.logs!.lines.at(-1)!.line).toBe('fatal: out of memory allocating 512MiB; db password=[REDACTED] pool=main');
    expect(p.prometheus!.queries[0]).toMatchObject({ name: 'up', series: [{ labels: expect.objectContaining({ __name__: 'demo_up' }), value: 1 }] });
    expect(p.http!.responses[0]).toMatchObject({ status: 200, ok: true });
    // What changed: the new revision (image + env diff) is the likely cause; the ConfigMap edit is listed.
    const image = p.changes!.items.find((c) => c.kind === 'image')!;
    expect(image).toMatchObject({ what: 'Deployment shop/web revision 2', detail: 'image app: web:1.4 → web:1.5; env app: POOL=10 → 50', service: 'web' });
    expect(p.changes!.items).toContainEqual(expect.objectContaining({ kind: 'configmap', what: 'ConfigMap shop/web-config', detail: expect.stringMatching(/changed by kubernetes-client/), service: 'web' }));
    expect(p.changes!.items[p.changes!.likelyCause!.index]!.service).toBe('web');
    // The facts playbook steps branch on.
    const facts = factsOf(p);
    expect(facts).toMatchObject({ oomKilled: true, crashLoop: true, restarts: 5 });
    expect(evaluateWhen('evidence.oomKilled and changed.image within 30m', facts, Date.now()).holds).toBe(true);
  });

  it('a Prometheus answering garbage, a log store that never answers and a target that is down: named missing, within the deadline, the rest kept', async () => {
    const [garbage, hang] = await Promise.all([misbehaving('garbage'), misbehaving('hang')]);
    const { collectEvidence } = createEvidenceActivities({
      fetch: globalThis.fetch, secret: () => undefined, prometheusUrl: garbage,
      kubernetes: web.kube, logs: victoriaLogsSource({ url: hang }),
    });
    const started = Date.now();
    const p = await collectEvidence(request({ timeoutMs: 1_500, http: ['http://127.0.0.1:9/healthz'] }));
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(p.missing).toEqual(
      expect.arrayContaining([
        { part: 'prometheus', reason: expect.stringMatching(/every query failed: up: HTTP 200, not JSON: "<html>502 Bad Gateway/) },
        { part: 'logs', reason: 'no answer within the deadline' },
      ]),
    );
    expect(p.http!.responses[0]).toMatchObject({ ok: false, error: expect.stringMatching(/fetch failed|ECONNREFUSED/) });
    expect(p.kubernetes!.pods.length).toBeGreaterThan(0); // the parts that answered are kept
    expect(p.prometheus).toBeUndefined();
  });

  it('what changed: an Argo Rollout mid-canary (its controller\'s status) is listed with its step and phase', async () => {
    await installRolloutCrd(web.cluster);
    const custom = web.cluster.admin.makeApiClient(CustomObjectsApi);
    const ref = { group: 'argoproj.io', version: 'v1alpha1', namespace: NS, plural: 'rollouts' };
    // The Rollout shares the Deployment's name (a migration in progress); the Argo controller is not
    // running here, so the test writes the status it would report mid-canary.
    await custom.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:1.5' }] } }, strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }] } } },
      },
    });
    const now = new Date().toISOString();
    await custom.patchNamespacedCustomObjectStatus({ ...ref, name: 'web', body: { status: { phase: 'Paused', currentStepIndex: 1, message: 'CanaryPauseStep', conditions: [{ type: 'Progressing', status: 'True', reason: 'RolloutPaused', lastUpdateTime: now }] } } }, adminOf(web.cluster).merge);
    const { collectEvidence } = createEvidenceActivities({ fetch: globalThis.fetch, secret: () => undefined, kubernetes: web.kube });
    const p = await collectEvidence(request({ at: Date.now() + 1_000, logs: undefined, queries: [], http: [] }));
    expect(p.missing).toEqual([]);
    expect(p.changes!.items).toContainEqual(expect.objectContaining({ kind: 'rollout', what: `Rollout ${NS}/web`, detail: 'step 1/3, Paused: CanaryPauseStep', service: 'web' }));
  });

  it('what changed: a flag switched in Unleash (its event log) joins the cluster’s changes, newest first', async () => {
    await unleash.createFeature('web-checkout-v2');
    await unleash.admin('POST', '/api/admin/projects/default/features/web-checkout-v2/environments/production/on');
    const { collectEvidence } = createEvidenceActivities({ fetch: globalThis.fetch, secret: (n) => (n === 'UNLEASH' ? unleash.adminToken : undefined), kubernetes: web.kube });
    const p = await collectEvidence(request({ at: Date.now() + 1_000, logs: undefined, queries: [], http: [], changes: { windowMs: 30 * 60_000, unleash: { url: unleash.url, tokenSecret: 'UNLEASH' } } }));
    expect(p.missing).toEqual([]);
    const flag = p.changes!.items.find((c) => c.kind === 'flag' && c.detail.startsWith('feature-environment-enabled'));
    expect(flag).toMatchObject({ what: 'flag web-checkout-v2 (production)', service: 'web' });
    expect(p.changes!.items[0]).toBe(flag); // the newest change
    expect(p.changes!.items.map((c) => c.kind)).toEqual(expect.arrayContaining(['flag', 'image', 'configmap']));
    // A token the server refuses: the flags are named missing, the cluster's changes stay.
    const refused = await createEvidenceActivities({ fetch: globalThis.fetch, secret: () => 'not-a-token', kubernetes: web.kube }).collectEvidence(
      request({ logs: undefined, queries: [], http: [], changes: { windowMs: 30 * 60_000, unleash: { url: unleash.url, tokenSecret: 'UNLEASH' } } }),
    );
    expect(refused.missing).toEqual([{ part: 'changes', reason: 'flags: Unleash answered HTTP 401' }]);
    expect(refused.changes!.items.some((c) => c.kind === 'image')).toBe(true);
  });
});
