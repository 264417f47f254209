// Policy gates, the kill switch and the escalation ladder on a real Temporal dev server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { demoPlaybook } from '../support/fixtures.js';
import { incidentIdFrom, startMedic, TOKENS, type Medic } from '../support/medic.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

let m: Medic;
beforeAll(async () => {
  m = await startMedic();
});
afterAll(() => m?.stop());

let n = 0;
/** Registers a playbook for a fresh alertname and returns a function that fires it. */
function playbook(overrides: Partial<PlaybookInput> & { steps?: PlaybookInput['steps'] } = {}) {
  const alertname = `Gate${++n}`;
  const pb = demoPlaybook(m.demo.url, {
    name: `gate-${n}`,
    match: { alertname },
    holdAfterEscalation: '1s',
    ...overrides,
  });
  m.playbooks.push(pb);
  return async (service: string): Promise<string> => {
    const res = await m.postAlerts('firing', { alertname, service, severity: 'critical' });
    expect(res.status).toBe(202);
    return incidentIdFrom(res);
  };
}

const restart = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  action: 'http' as const,
  params: { method: 'POST' as const, url: `${m.demo.url}/remediate` },
  retries: 0,
  verification: { http: { url: `${m.demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '2s' },
  ...extra,
});

const messages = async (id: string): Promise<string[]> => (await m.timeline(id)).map((e) => `${e.kind}: ${e.message}`);
const cancel = async (id: string): Promise<void> => void (await m.env.client.workflow.getHandle(id).cancel());

describe('escalation ladder', () => {
  it('failing action → next step → escalation recorded', async () => {
    m.demo.state.fault = 'broken-remediation';
    const fire = playbook({ steps: [restart('first try'), restart('second try')] });
    const id = await fire('ladder');
    const final = await m.waitFor(id, (s) => s.endedAt !== undefined);
    expect(final.status).toBe('escalated');
    const text = (await messages(id)).join('\n');
    expect(text).toMatch(/step 1\/2 \(first try\) failed: POST .* answered 500/);
    expect(text).toContain('moving on to step 2/2 (second try)');
    expect(text).toContain('escalating: all 2 step(s) tried');
    expect(text).toContain('handed over to on-call');
    m.demo.state.fault = 'none';
  });
});

describe('each gate blocks with its reason', () => {
  it('maintenance window holds the step', async () => {
    const start = new Date(Date.now() - 60_000).toISOString();
    const end = new Date(Date.now() + 3_600_000).toISOString();
    const fire = playbook({ maintenanceWindows: [{ start, end, reason: 'db upgrade' }], steps: [restart('r')] });
    const id = await fire('maint');
    await m.waitFor(id, (s) => s.status === 'holding');
    expect((await messages(id)).join('\n')).toContain('maintenance window active (db upgrade); holding until');
    await cancel(id);
  });

  it('a deploying="true" label blocks automation and escalates', async () => {
    const fire = playbook({ steps: [restart('r')] });
    const res = await m.postAlerts('firing', { alertname: `Gate${n}`, service: 'deploying-svc', deploying: 'true' });
    const id = await incidentIdFrom(res);
    void fire;
    const final = await m.waitFor(id, (s) => s.endedAt !== undefined);
    expect(final.status).toBe('escalated');
    expect((await messages(id)).join('\n')).toContain('alert carries deploying="true"');
  });

  it('a deployment marker set through the API holds the step; only admins may set it', async () => {
    const fire = playbook({ steps: [restart('r')] });
    expect((await m.api('POST', '/api/deployments', TOKENS.alice, { target: 'marked', minutes: 30 })).status).toBe(403);
    expect((await m.api('POST', '/api/deployments', TOKENS.admin, { target: 'marked', minutes: 30 })).status).toBe(200);
    const id = await fire('marked');
    await m.waitFor(id, (s) => s.status === 'holding');
    expect((await messages(id)).join('\n')).toContain('deployment in progress (marked by root)');
    await cancel(id);
  });

  it('blast radius blocks a step touching too many targets', async () => {
    const fire = playbook({ steps: [restart('wide', { targets: ['{{labels.service}}-a', '{{labels.service}}-b'] })] });
    const id = await fire('wide');
    await m.waitFor(id, (s) => s.endedAt !== undefined);
    expect((await messages(id)).join('\n')).toContain('step would touch 2 targets (wide-a, wide-b), above the blast radius of 1');
  });

  it('rate limit per target holds the second remediation within the hour', async () => {
    m.demo.state.fault = 'outage';
    const fire = playbook({ limits: { maxActionsPerHourPerTarget: 1 }, steps: [restart('r')] });
    const first = await fire('rated');
    // wait for the run to close, not just decide: an alert before the close joins that run
    expect(((await m.env.client.workflow.getHandle(first).result()) as { status: string }).status).toBe('resolved');
    const second = await fire('rated');
    expect(second).toBe(first); // same grouping → same workflow id, a fresh run
    await m.waitFor(second, (s) => s.status === 'holding');
    expect((await messages(second)).join('\n')).toMatch(/1 actions in the last hour on this target \(limit 1\); next slot at/);
    await cancel(second);
  });

  it('a target already being healed makes a second incident wait for the lock', async () => {
    const holder = playbook({ target: 'shared-target', steps: [restart('needs ok', { requiresApproval: true, approvers: ['bob'] })] });
    const waiter = playbook({ target: 'shared-target', steps: [restart('r')] });
    const a = await holder('lock-a');
    await m.waitFor(a, (s) => s.status === 'awaiting_approval');
    const b = await waiter('lock-b');
    await m.waitFor(b, (s) => s.status === 'holding');
    const aStatus = await m.status(a);
    expect((await messages(b)).join('\n')).toContain(`shared-target is already being healed by ${aStatus.incidentId}; waiting`);
    const deny = await m.api('POST', `/api/incidents/${encodeURIComponent(a)}/deny`, TOKENS.bob, { reason: 'not now' });
    expect(deny.status).toBe(200);
    // a is escalated and lets go of the target; b is told and proceeds
    await m.waitFor(b, (s) => s.lockHeld, 15_000);
    await m.waitFor(b, (s) => s.endedAt !== undefined);
  });

  it('cooldown after a failed remediation blocks the next incident on that target', async () => {
    m.demo.state.fault = 'stubborn';
    const fire = playbook({ target: 'cooling', cooldown: '10m', steps: [restart('r')] });
    const first = await fire('cool-1');
    expect((await m.waitFor(first, (s) => s.endedAt !== undefined)).status).toBe('escalated');
    const second = await fire('cool-2');
    await m.waitFor(second, (s) => s.endedAt !== undefined);
    expect((await messages(second)).join('\n')).toMatch(/target is cooling down until .* after a failed remediation in incident:gate-\d+:/);
    m.demo.state.fault = 'none';
  });
});

describe('concurrency', () => {
  it('global concurrency limit holds a second action while the first runs', async () => {
    const { startDemoService } = await import('../../dev/demo-service.js');
    const slow = await startDemoService(0, { remediateDelayMs: 1_500 });
    try {
      slow.state.fault = 'outage';
      const step = { name: 'slow restart', action: 'http' as const, params: { method: 'POST' as const, url: `${slow.url}/remediate` }, retries: 0 };
      const fire = playbook({ limits: { maxConcurrentGlobal: 1 }, steps: [step] });
      const a = await fire('conc-a');
      await m.waitFor(a, (s) => s.status === 'acting');
      const b = await fire('conc-b');
      await m.waitFor(b, (s) => s.status === 'holding');
      expect((await messages(b)).join('\n')).toContain('1 action(s) running across medic (limit 1)');
      await m.waitFor(a, (s) => s.endedAt !== undefined);
      await m.waitFor(b, (s) => s.endedAt !== undefined, 20_000);
      expect(Object.keys(slow.state.applied)).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });
});

describe('kill switch', () => {
  it('only admins may pause', async () => {
    const res = await m.api('POST', '/api/pause', TOKENS.alice, { reason: 'x' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'alice is not an admin: this needs the admin scope (the token has read, operate)', missingScope: 'admin' });
  });

  it("stops a running incident's next step within a second, and resume lets it go on", async () => {
    m.demo.state.fault = 'stubborn';
    const slowVerify = { verification: { http: { url: `${m.demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '3s' } };
    const fire = playbook({ steps: [restart('one', slowVerify), restart('two', slowVerify)] });
    const id = await fire('paused-svc');
    await m.waitFor(id, (s) => s.status === 'verifying');
    const pausedAt = Date.now();
    const res = await m.api('POST', '/api/pause', TOKENS.admin, { reason: 'bad rollout' });
    expect(res.status).toBe(200);
    const seen = await m.waitFor(id, (s) => s.pause.paused, 5_000);
    expect(seen.pause.by).toBe('root');
    const control = (await m.timeline(id)).find((e) => groupOf(e.kind) === 'control');
    expect(control!.at - pausedAt).toBeLessThan(1_000);
    await m.waitFor(id, (s) => s.status === 'holding' && s.stepIndex === 1, 10_000);
    expect((await messages(id)).join('\n')).toContain('automation is paused by root: bad rollout; holding until resumed');
    const appliedWhilePaused = Object.keys(m.demo.state.applied).length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(Object.keys(m.demo.state.applied).length).toBe(appliedWhilePaused);
    expect((await m.api('POST', '/api/resume', TOKENS.admin, {})).status).toBe(200);
    await m.waitFor(id, (s) => s.endedAt !== undefined, 20_000);
    expect(Object.keys(m.demo.state.applied).length).toBe(appliedWhilePaused + 1);
    m.demo.state.fault = 'none';
  });
});
