// Crash points for PagerDuty trigger and resolve (Events API v2 through pdjs, over HTTPS) on the
// local stand-in (dev/pagerduty), behind a holding proxy that serves the stand-in's
// certificate (the worker trusts its CA through NODE_EXTRA_CA_CERTS). Applications are counted at
// the stand-in, which keeps one alert per dedup_key as PagerDuty does: alerts opened for the
// incident (a trigger re-sent with the same dedup_key updates the open alert, it pages no one
// again), and resolves applied to it (a resolve of a resolved alert is dropped, as PagerDuty does).
import { afterAll, beforeAll, it } from 'vitest';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { firingAlert, remediateStep, stopAll } from '../support/fixtures.js';
import { HOLD_POINTS, startHoldingProxy, type Exchange, type HoldingProxy, type HoldPoint } from '../support/crash-proxy.js';
import { crashPlaybook, startCrashHarness, type CrashCase, type CrashHarness } from './crash-harness.js';

const ROUTING_KEY = 'PDR0UT1NGKEY0123456789abcdefABCD';
let pd: PagerDutyStandIn;
let demo: DemoService;
let proxy: HoldingProxy;
let harness: CrashHarness;

beforeAll(async () => {
  [pd, demo] = await Promise.all([startPagerDutyStandIn(), startDemoService()]);
  demo.state.fault = 'broken-remediation'; // the step fails: the incident escalates to a page
  proxy = await startHoldingProxy({ target: pd.url, ca: pd.certs.ca, tls: { cert: pd.certs.cert, key: pd.certs.key } });
  harness = await startCrashHarness(() => ({
    MEDIC_PAGERDUTY_SERVER: new URL(proxy.url).host,
    MEDIC_SECRET_PD_ROUTING_KEY: ROUTING_KEY,
    NODE_EXTRA_CA_CERTS: pd.certs.caPath,
  }));
}, 300_000);
afterAll(() => stopAll(harness, proxy, pd, demo));

function playbook(name: string, alertname: string, hold: string): Playbook {
  return crashPlaybook({
    name,
    match: { alertname },
    target: `pd/${name}`,
    steps: [remediateStep(demo.url, { params: { method: 'POST', url: `${demo.url}/remediate`, expectStatus: [200] }, timeout: '5s', retries: 0 })],
    escalation: [{ kind: 'pagerduty', routingKeySecret: 'PD_ROUTING_KEY' }],
    holdAfterEscalation: hold,
  });
}

/** The dedup_key is the incident id, which starts with the workflow id (it names the playbook). */
const eventOf = (name: string, action: 'trigger' | 'resolve') => (e: Exchange) =>
  e.method === 'POST' && e.url === '/v2/enqueue' && e.body.includes(`"event_action":"${action}"`) && e.body.includes(`incident:${name}:`);
const alertsOf = (name: string) => pd.alerts.filter((a) => a.dedupKey.startsWith(`incident:${name}:`));

function triggerCase(point: HoldPoint, i: number): CrashCase {
  const name = `crash-pd-trigger-${i}`;
  const alertname = `CrashPdTrigger${i}`;
  return {
    actuator: 'pagerduty trigger (stand-in)',
    point,
    playbook: playbook(name, alertname, '1s'),
    proxy,
    effect: eventOf(name, 'trigger'),
    touches: (e) => e.body.includes(`incident:${name}:`),
    activity: 'pagerdutyTrigger',
    alert: firingAlert({ alertname, service: name }),
    applied: async () => alertsOf(name).length,
    expected: 'escalated',
  };
}

function resolveCase(point: HoldPoint, i: number): CrashCase {
  const name = `crash-pd-resolve-${i}`;
  const alertname = `CrashPdResolve${i}`;
  const labels = { alertname, service: name };
  return {
    actuator: 'pagerduty resolve (stand-in)',
    point,
    playbook: playbook(name, alertname, '10m'),
    proxy,
    effect: eventOf(name, 'resolve'),
    touches: (e) => e.body.includes(`incident:${name}:`),
    activity: 'pagerdutyResolve',
    // Paged first (no hold), then the alert resolves while the incident holds after escalating.
    async start(ctx) {
      const workflowId = await ctx.fire(firingAlert(labels));
      await ctx.until(workflowId, (s) => s.pages?.some((p) => p.sent) ?? false, `${name}: the page`);
      const held = ctx.arm();
      await ctx.fire(firingAlert(labels, 'resolved'));
      return { workflowId, held };
    },
    applied: async () => alertsOf(name).flatMap((a) => a.log.filter((l) => l.action === 'resolve')).length,
    expected: 'resolved',
  };
}

it('pagerduty: SIGKILL at every crash point of trigger and resolve, each applied exactly once at the stand-in', async () => {
  let i = 0;
  const cases = [...HOLD_POINTS.map((p) => triggerCase(p, i++)), ...HOLD_POINTS.map((p) => resolveCase(p, i++))];
  await harness.run('pagerduty', cases);
}, 1_200_000);
