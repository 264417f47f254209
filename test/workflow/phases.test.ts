// Every phase of an incident on the Java time-skipping server, with the outside world as plain
// functions (test/support/fake-activities.ts): detect → decide (the governor's gates, the kill
// switch) → act → verify → escalate. The governor is the real workflow on the same server.
// (The operator API that sets the kill switch and deployment markers: test/integration/gates.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import { governorCaller } from '../../activities/governor.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { setDeploymentUpdate, setPausedUpdate, statusQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { groupOf } from '../../workflows/contracts-timeline.js';
import { fakeWorld } from '../support/fake-activities.js';
import { demoPlaybook } from '../support/fixtures.js';
import { signedUpdates } from '../support/identity.js';
import { entries, MINUTE, startIncident, timeline, useWorkflowHarness, waitForStatus, type StartedIncident } from '../support/workflow-harness.js';

const world = fakeWorld();
const h = useWorkflowHarness('phases', { world });
const TARGET = 'http://target.invalid';
afterEach(() => {
  world.action = () => 200;
  world.healthy = () => true;
});

let n = 0;
const restart = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  action: 'http' as const,
  params: { method: 'POST' as const, url: `${TARGET}/remediate/${name.replace(/\W/g, '-')}`, expectStatus: [200] },
  retries: 0,
  verification: { http: { url: `${TARGET}/healthz` }, window: '1s', interval: '250ms', deadline: '2s' },
  ...extra,
});
const playbook = (overrides: Partial<PlaybookInput> = {}) =>
  demoPlaybook(TARGET, { name: `phase-${++n}`, holdAfterEscalation: '1s', steps: [restart('r')], ...overrides });
const text = async (i: StartedIncident): Promise<string> => (await timeline(i.handle)).map((e) => `${e.kind}: ${e.message}`).join('\n');
const ended = async (i: StartedIncident): Promise<IncidentStatus> => (await i.handle.result()) as IncidentStatus;
/** The actions that reached the target for one incident (its idempotency keys start with the id). */
const actionsOf = (i: StartedIncident) => world.inputs('httpAction').filter((a) => a.idempotencyKey.startsWith(`${i.incidentId}:`) && !a.dryRun);
const governor = () => governorCaller({ client: h.env.client, taskQueue: h.taskQueue });

describe('act and verify', () => {
  it('alert → the step acts once → verification passes → resolved; every entry reaches the sinks once', async () => {
    const i = await startIncident(h, playbook());
    const final = await ended(i);
    expect(final.status).toBe('resolved');
    expect(final.outcome).toBe('healed by step 1/1 (r)');
    expect(actionsOf(i)).toHaveLength(1);
    expect(actionsOf(i)[0]).toMatchObject({ request: { method: 'POST', url: `${TARGET}/remediate/r` } });
    const t = await timeline(i.handle);
    expect(entries(t, 'resolution')).toHaveLength(1);
    const mine = world.published.filter((e) => t.some((x) => x.seq === e.seq && x.message === e.message));
    expect(mine.map((e) => e.seq)).toEqual(t.map((e) => e.seq));
  });

  it('a failing action → the next step → escalation recorded, handed over to on-call', async () => {
    world.action = () => 500;
    const i = await startIncident(h, playbook({ steps: [restart('first try'), restart('second try')] }));
    expect((await ended(i)).status).toBe('escalated');
    const t = await text(i);
    expect(t).toMatch(/step 1\/2 \(first try\) failed: POST .* answered 500/);
    expect(t).toContain('moving on to step 2/2 (second try)');
    expect(t).toContain('escalating: all 2 step(s) tried');
    expect(t).toContain('handed over to on-call');
    expect(actionsOf(i).map((a) => a.request.url)).toEqual([`${TARGET}/remediate/first-try`, `${TARGET}/remediate/second-try`]);
  });

  it('verification that never passes escalates after the last step, and the PagerDuty rung pages once', async () => {
    world.healthy = () => false;
    const pb = playbook({
      steps: [restart('one'), restart('two')],
      escalation: [{ kind: 'record', to: 'on-call' }, { kind: 'pagerduty', routingKeySecret: 'PD_ROUTING_KEY' }],
    });
    const i = await startIncident(h, pb);
    const final = await ended(i);
    expect(final.status).toBe('escalated');
    expect(actionsOf(i)).toHaveLength(2);
    const pages = world.inputs('pagerdutyTrigger').filter((p) => p.page.dedupKey === final.incidentId);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.routingKeySecret).toBe('PD_ROUTING_KEY');
    expect(pages[0]!.page.summary).toMatch(/all 2 step\(s\) tried; last: verification failed$/);
    expect(await text(i)).toContain(`PagerDuty accepted the page: 202 Event processed (dedup_key ${final.incidentId})`);
  });
});

describe('each gate blocks with its reason', () => {
  it('a deploying="true" label blocks automation and escalates', async () => {
    const i = await startIncident(h, playbook(), { labels: { deploying: 'true' } });
    expect((await ended(i)).status).toBe('escalated');
    expect(await text(i)).toContain('alert carries deploying="true"');
    expect(actionsOf(i)).toEqual([]);
  });

  it('a deployment marker on the target holds the step', async () => {
    const pb = playbook({ target: 'marked' });
    await governor()(setDeploymentUpdate, { target: 'marked', until: (await h.env.currentTimeMs()) + 30 * MINUTE, by: 'root' }, `deploy-${n}`);
    const i = await startIncident(h, pb);
    await waitForStatus(i.handle, (s) => s.status === 'holding', 'the deployment hold');
    expect(await text(i)).toContain('deployment in progress (marked by root)');
    expect(actionsOf(i)).toEqual([]);
    await governor()(setDeploymentUpdate, { target: 'marked', until: null, by: 'root' }, `undeploy-${n}`);
    await i.handle.cancel();
  });

  it('blast radius blocks a step touching too many targets', async () => {
    const i = await startIncident(h, playbook({ steps: [restart('wide', { targets: ['{{labels.service}}-a', '{{labels.service}}-b'] })] }), { labels: { service: 'wide' } });
    await ended(i);
    expect(await text(i)).toContain('step would touch 2 targets (wide-a, wide-b), above the blast radius of 1');
    expect(actionsOf(i)).toEqual([]);
  });

  it('rate limit per target holds the second remediation within the hour', async () => {
    const pb = playbook({ target: 'rated', limits: { maxActionsPerHourPerTarget: 1 } });
    const first = await startIncident(h, pb);
    expect((await ended(first)).status).toBe('resolved');
    const second = await startIncident(h, pb);
    await waitForStatus(second.handle, (s) => s.status === 'holding', 'the rate-limit hold');
    expect(await text(second)).toMatch(/1 actions in the last hour on this target \(limit 1\); next slot at/);
    expect(actionsOf(second)).toEqual([]);
    await second.handle.cancel();
  });

  it('a target already being healed makes a second incident wait for the lock', async () => {
    const holder = await startIncident(h, playbook({ target: 'shared', steps: [restart('needs ok', { requiresApproval: true, approvers: ['bob'] })] }));
    await waitForStatus(holder.handle, (s) => s.status === 'awaiting_approval', 'the approval request');
    const waiter = await startIncident(h, playbook({ target: 'shared' }));
    await waitForStatus(waiter.handle, (s) => s.status === 'holding', 'the lock wait');
    expect(await text(waiter)).toContain(`shared is already being healed by ${holder.incidentId}; waiting`);
    await signedUpdates(h.env.client).decide(holder.handle.workflowId, { decision: 'deny', user: 'bob', reason: 'not now' });
    // the holder escalates and lets go of the target; the waiter is told and proceeds
    await waitForStatus(waiter.handle, (s) => s.lockHeld, 'the lock handed over');
    expect((await ended(waiter)).status).toBe('resolved');
    expect(actionsOf(holder)).toEqual([]);
    expect(actionsOf(waiter)).toHaveLength(1);
  });

  it('cooldown after a failed remediation blocks the next incident on that target', async () => {
    world.healthy = () => false;
    const pb = playbook({ target: 'cooling', cooldown: '10m' });
    const first = await startIncident(h, pb);
    expect((await ended(first)).status).toBe('escalated');
    const second = await startIncident(h, pb);
    await ended(second);
    expect(await text(second)).toMatch(/target is cooling down until .* after a failed remediation in incident:phase-\d+:/);
    expect(actionsOf(second)).toEqual([]);
  });

  it('the global concurrency limit holds a second action while the first runs', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    world.action = async (a) => {
      if (a.request.url.endsWith('/slow')) await held;
      return 200;
    };
    const pb = playbook({ limits: { maxConcurrentGlobal: 1 }, steps: [restart('slow', { verification: undefined })] });
    const a = await startIncident(h, pb);
    await waitForStatus(a.handle, (s) => s.status === 'acting', 'the first action');
    const b = await startIncident(h, pb);
    await waitForStatus(b.handle, (s) => s.status === 'holding', 'the concurrency hold');
    expect(await text(b)).toContain('1 action(s) running across medic (limit 1)');
    release();
    expect((await ended(a)).status).toBe('resolved');
    expect((await ended(b)).status).toBe('resolved');
    expect(actionsOf(a)).toHaveLength(1);
    expect(actionsOf(b)).toHaveLength(1);
  });
});

describe('kill switch', () => {
  it("stops a running incident's next step, and resume lets it go on", async () => {
    world.healthy = () => false;
    const slowVerify = { verification: { http: { url: `${TARGET}/healthz` }, window: '1s', interval: '250ms', deadline: '3s' } };
    const i = await startIncident(h, playbook({ steps: [restart('one', slowVerify), restart('two', slowVerify)] }));
    await waitForStatus(i.handle, (s) => s.status === 'verifying', 'verification of step 1');
    const pausedAt = await h.env.currentTimeMs(); // workflow time: earlier tests skipped it ahead
    await governor()(setPausedUpdate, { paused: true, by: 'root', reason: 'bad rollout' }, `pause-${n}`);
    const seen = await waitForStatus(i.handle, (s) => s.pause.paused, 'the pause', 5_000);
    expect(seen.pause.by).toBe('root');
    const control = (await timeline(i.handle)).find((e) => groupOf(e.kind) === 'control');
    expect(control!.at - pausedAt).toBeLessThan(1_000);
    await waitForStatus(i.handle, (s) => s.status === 'holding' && s.stepIndex === 1, 'the hold before step 2');
    expect(await text(i)).toContain('automation is paused by root: bad rollout; holding until resumed');
    expect(actionsOf(i)).toHaveLength(1);
    await h.env.sleep(10 * MINUTE); // paused for ten minutes of workflow time: still nothing done
    expect((await i.handle.query(statusQuery)).status).toBe('holding');
    expect(actionsOf(i)).toHaveLength(1);
    await governor()(setPausedUpdate, { paused: false, by: 'root' }, `resume-${n}`);
    expect((await ended(i)).status).toBe('escalated');
    expect(actionsOf(i)).toHaveLength(2);
  });
});
