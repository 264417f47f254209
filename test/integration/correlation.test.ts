// Correlation on a real Temporal server: alerts for the same service inside the window, and
// downstream symptoms of a service's dependency, attach to the open incident (the timeline shows
// every attached alert) instead of opening more incidents.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Correlator, CorrelationSchema } from '../../src/intake/correlate.js';
import { ingestAlerts, type IngestDeps } from '../../src/intake/ingest.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';
import { startMedic, type Medic } from '../support/medic.js';

let m: Medic;
let deps: IngestDeps;
beforeAll(async () => {
  m = await startMedic({ correlation: { window: '10m' } });
  const guarded = (name: string, alertname: string) =>
    demoPlaybook(m.demo.url, {
      name,
      match: { alertname },
      steps: [{ name: 'guarded', action: 'http', params: { method: 'POST', url: `${m.demo.url}/remediate` }, requiresApproval: true, approvers: ['bob'] }],
    });
  m.playbooks.push(guarded('latency', 'HighLatency'), guarded('errors', 'HighErrorRate'), guarded('db', 'DbDown'));
  deps = {
    client: m.env.client,
    taskQueue: m.config.temporal.taskQueue,
    playbooks: () => m.playbooks,
    log: silentLog,
    correlator: new Correlator(CorrelationSchema.parse({ window: '10m', dependsOn: { checkout: ['db'] } })),
  };
});
// Incidents still open (awaiting approval, or mid governor call) are left running: stopping the
// worker drains their governor calls first (the governor worker stops last; see
// test/integration/worker-shutdown.test.ts), so no cleanup is needed before it.
afterAll(() => m?.stop());

describe('correlation', () => {
  it('attaches a different alert for the same service to the open incident', async () => {
    const first = await ingestAlerts(deps, [firingAlert({ alertname: 'HighLatency', service: 'cart' })]);
    const id = first.incidents[0]!.workflowId;
    const second = await ingestAlerts(deps, [firingAlert({ alertname: 'HighErrorRate', service: 'cart' })]);
    expect(second.incidents).toEqual([]);
    expect(second.correlated).toEqual([{ workflowId: id, alerts: 1, reason: 'same service cart' }]);
    const status = await m.waitFor(id, (s) => s.alertsReceived === 2);
    expect(Object.keys(status.fingerprints)).toHaveLength(2);
    expect((await m.timeline(id)).map((e) => e.message)).toContain('HighErrorRate firing (critical) from alertmanager — correlated: same service cart');
  });

  it('folds downstream symptoms into the upstream incident, and their resolution follows them', async () => {
    const db = await ingestAlerts(deps, [firingAlert({ alertname: 'DbDown', service: 'db' })]);
    const id = db.incidents[0]!.workflowId;
    const symptom = firingAlert({ alertname: 'HighLatency', service: 'checkout' });
    const folded = await ingestAlerts(deps, [symptom]);
    expect(folded.correlated).toEqual([{ workflowId: id, alerts: 1, reason: 'checkout depends on db' }]);
    // the incident resolves only when the upstream alert and the folded symptom both resolved
    await ingestAlerts(deps, [{ ...firingAlert({ alertname: 'DbDown', service: 'db' }), status: 'resolved' }]);
    const mid = await m.waitFor(id, (s) => Object.values(s.fingerprints).includes('resolved'));
    expect(mid.resolvedByAlert).toBe(false);
    await ingestAlerts(deps, [{ ...symptom, status: 'resolved' }]);
    const final = (await m.env.client.workflow.getHandle(id).result()) as { status: string; alertsReceived: number };
    expect(final.status).toBe('resolved');
    expect(final.alertsReceived).toBe(4);
  });

  it('an alert for a service outside the window or without an open incident opens its own', async () => {
    const r = await ingestAlerts(deps, [firingAlert({ alertname: 'HighLatency', service: 'search' })]);
    expect(r.incidents).toHaveLength(1);
    expect(r.correlated).toEqual([]);
  });
});

describe('correlation through the HTTP intake (config `correlation`)', () => {
  it('the server correlates webhook alerts for a service with an open incident', async () => {
    const first = await m.postAlerts('firing', { alertname: 'HighLatency', service: 'web', severity: 'critical' });
    const { incidents } = (await first.json()) as { incidents: { workflowId: string }[] };
    const second = await m.postAlerts('firing', { alertname: 'HighErrorRate', service: 'web', severity: 'critical' });
    const body = (await second.json()) as { incidents: unknown[]; correlated: { workflowId: string; reason: string }[] };
    expect(body.incidents).toEqual([]);
    expect(body.correlated).toEqual([{ workflowId: incidents[0]!.workflowId, alerts: 1, reason: 'same service web' }]);
  });
});

describe('Correlator', () => {
  it('forgets incidents after the window', () => {
    let now = 0;
    const c = new Correlator(CorrelationSchema.parse({ window: '1m' }), () => now);
    c.opened('cart', 'incident:a:1');
    expect(c.route('cart', 'fp', 'incident:b:2')?.workflowId).toBe('incident:a:1');
    now = 61_000;
    expect(c.route('cart', 'fp', 'incident:b:2')).toBeUndefined();
  });
});
