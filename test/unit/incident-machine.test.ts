// The decision core, event by event: what it records and which commands it gives for each path
// an incident takes (heal, retry, next step, hold, lock, approval, ladder, pages, hand resolve).
import { describe, expect, it } from 'vitest';
import type { IncidentCommand } from '../../src/incident/types.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import { ALLOW, coreDriver, corePlaybook, T0 } from '../support/incident-core.js';

const URL = 'http://127.0.0.1:9';
const verification = { http: { url: `${URL}/healthz` }, window: '2s', interval: '1s', deadline: '10s' };
const pb = (over: Partial<PlaybookInput> = {}) =>
  corePlaybook(
    'core',
    [
      { name: 'restart', action: 'http', params: { method: 'POST', url: `${URL}/restart` }, verification },
      { name: 'hard restart', action: 'http', params: { method: 'POST', url: `${URL}/restart?hard=1` }, verification },
    ],
    over,
  );
const ok = { ok: true as const, summary: 'POST → 200', durationMs: 5, data: { status: 200 } };
/** One http step without verification, admitted and run: the incident has just ended. */
function actedWithoutVerification() {
  const d = coreDriver(pb({ steps: [{ name: 'restart', action: 'http', params: { url: `${URL}/r` } }] }));
  d.send({ kind: 'start', carried: false });
  d.send({ kind: 'admitted', result: ALLOW });
  d.send({ kind: 'actionResult', outcome: ok });
  return d;
}
const healthy = { http: { ok: true, evidence: 'GET /healthz → 200' } };
const sick = { http: { ok: false, evidence: 'GET /healthz → 503' } };
const of = <K extends IncidentCommand['kind']>(cs: IncidentCommand[], kind: K) => cs.filter((c): c is Extract<IncidentCommand, { kind: K }> => c.kind === kind);

describe('decision core: table', () => {
  it('heals at step 1: governor → action → verification window → resolved and released', () => {
    const d = coreDriver(pb());
    const start = d.send({ kind: 'start', carried: false });
    expect(d.kinds(start)).toEqual(['askGovernor', 'publish']);
    expect(of(start, 'askGovernor')[0]!.admit).toMatchObject({ begin: expect.any(Object), step: { index: 0, approved: false } });
    expect(d.kinds(d.send({ kind: 'admitted', result: ALLOW }))).toEqual(['setStatus', 'runAction', 'publish']);
    expect(of(d.all, 'runAction')[0]).toMatchObject({ step: 0, stepTry: 1, idempotencyKey: 'inc-1:step-0:try-1', dryRun: false });
    expect(d.kinds(d.send({ kind: 'actionResult', outcome: ok }))).toEqual(['endAction', 'setStatus', 'verify', 'publish']);
    expect(d.kinds(d.send({ kind: 'verified', round: healthy }))).toEqual(['startTimer']);
    d.fire();
    d.send({ kind: 'verified', round: healthy });
    d.fire();
    const last = d.send({ kind: 'verified', round: healthy });
    expect(d.kinds(last)).toEqual(['recordRun', 'setStatus', 'release', 'publish']);
    expect(d.state).toMatchObject({ status: 'resolved', phase: 'done', outcome: 'healed by step 1/2 (restart)', acted: true });
    expect(d.notes()).toEqual([
      'incident opened: DemoServiceDown (critical) on api; playbook core',
      'lock on api acquired',
      expect.stringMatching(/^gates passed for step 1\/2 \(restart\): kill-switch, maintenance-window, active-deployment, blast-radius$/),
      `step 1/2 (restart) started: POST ${URL}/restart`,
      'step 1/2 (restart) finished: POST → 200 (5ms)',
      `verifying step 1/2 (restart): GET ${URL}/healthz must pass for 2s (deadline 10s)`,
      'verified: healthy for 2s (3 probes); GET /healthz → 200',
      'resolved: healed by step 1/2 (restart)',
    ]);
    expect(d.state.timeline.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a failed action retries the step, then moves on; a failed verification at the last step escalates with its reason', () => {
    const d = coreDriver(pb({ steps: [{ name: 'restart', action: 'http', params: { url: `${URL}/r` }, attempts: 2, verification }] }));
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: ALLOW });
    const failed = d.send({ kind: 'actionResult', outcome: { ok: false, error: 'HTTP 500', refused: false } });
    expect(d.kinds(failed)).toEqual(['endAction', 'recordRun', 'askGovernor', 'publish']);
    expect(d.state).toMatchObject({ stepIndex: 0, stepTry: 2, acted: true });
    d.send({ kind: 'admitted', result: ALLOW });
    expect(of(d.all, 'runAction')[1]!.idempotencyKey).toBe('inc-1:step-0:try-2');
    d.send({ kind: 'actionResult', outcome: ok });
    d.send({ kind: 'verified', round: sick });
    for (let i = 0; i < 10; i++) {
      d.fire();
      d.send({ kind: 'verified', round: sick });
    }
    expect(d.state.phase).toBe('escalate');
    expect(d.state.escalationReason).toBe('all 1 step(s) tried; last: verification failed');
    expect(d.notes()).toContain('step 1/1 (restart): action failed (HTTP 500); trying again (try 2 of 2)');
    expect(d.notes()).toContain('escalating: all 1 step(s) tried; last: verification failed');
    d.fire(); // the hold after escalation
    expect(d.state).toMatchObject({ status: 'escalated', phase: 'done' });
    expect(of(d.all, 'release')[0]!.cooldownMs).toBe(15 * 60_000); // it acted and still failed: the target cools down
  });

  it('a refused action (nothing sent) moves on without a failed run or a cooldown', () => {
    const d = coreDriver(pb());
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: ALLOW });
    const cs = d.send({ kind: 'actionResult', outcome: { ok: false, error: 'refused: bad instance id', refused: true } });
    expect(d.kinds(cs)).not.toContain('recordRun');
    expect(d.state).toMatchObject({ stepIndex: 1, acted: false });
  });

  it('another incident holds the lock: waits, and the lock-freed signal asks again at once', () => {
    const d = coreDriver(pb());
    d.send({ kind: 'start', carried: false });
    const held = d.send({ kind: 'admitted', result: { granted: false, holder: 'other-incident', pause: { paused: false }, decisions: [], allowed: false } });
    expect(d.kinds(held)).toEqual(['setStatus', 'startTimer', 'publish']);
    expect(of(held, 'startTimer')[0]).toMatchObject({ timer: 'recheck', ms: 30_000 });
    expect(d.state.status).toBe('holding');
    const freed = d.send({ kind: 'lockFreed' }, 2_000);
    expect(d.kinds(freed)).toEqual(['cancelTimer', 'askGovernor']);
  });

  it('a gate blocks (deployment in progress): escalates with the policy reason, nothing acts', () => {
    const d = coreDriver(pb(), { labels: { deploying: 'true' } });
    d.send({ kind: 'start', carried: false });
    expect(of(d.all, 'askGovernor')[0]!.admit.begin).toBeUndefined();
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    expect(d.state.escalationReason).toMatch(/^policy blocked step 1\/2 \(restart\): /);
    expect(of(d.all, 'runAction')).toHaveLength(0);
  });

  it('the kill switch holds the step; turning it off wakes the hold and asks again', () => {
    const d = coreDriver(pb());
    d.send({ kind: 'pause', pause: { paused: true, by: 'ops' } });
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false, pause: { paused: true, by: 'ops' } } });
    expect(d.state.status).toBe('holding');
    expect(d.notes().at(-1)).toMatch(/^holding step 1\/2 \(restart\): /);
    const off = d.send({ kind: 'pause', pause: { paused: false, by: 'ops' } }, 5_000);
    expect(d.kinds(off)).toEqual(['cancelTimer', 'askGovernor', 'publish']);
  });

  it('approval: requested with its approvers and expiry; approve → gates again → act', () => {
    const d = coreDriver(pb({ steps: [{ name: 'failover', action: 'http', params: { url: `${URL}/f` }, requiresApproval: true, approvers: ['U1'], approvalTimeout: '10m' }] }));
    d.send({ kind: 'start', carried: false });
    const asked = d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    expect(d.kinds(asked)).toEqual(['requestApproval', 'setStatus', 'startTimer', 'publish']);
    expect(d.state.pendingApproval).toMatchObject({ approvers: ['U1'], expiresAt: T0 + 600_000 });
    const refused = d.send({ kind: 'decided', decision: { decision: 'approve', user: 'U9' } });
    expect(refused).toEqual([{ kind: 'refuse', reason: 'U9 may not decide step 1; approvers: U1' }]);
    const approved = d.send({ kind: 'decided', decision: { decision: 'approve', user: 'U1' } }, 1_000);
    expect(d.kinds(approved)).toEqual(['answer', 'cancelTimer', 'askGovernor', 'publish']);
    expect(of(approved, 'askGovernor')[0]!.admit.step?.approved).toBe(true);
    d.send({ kind: 'admitted', result: ALLOW });
    expect(of(d.all, 'runAction')).toHaveLength(1);
  });

  it('approval expires unanswered → escalates; a deny → escalates with who and why', () => {
    const steps = [{ name: 'failover', action: 'http' as const, params: { url: `${URL}/f` }, requiresApproval: true, approvers: ['U1'], approvalTimeout: '5m' }];
    const d = coreDriver(pb({ steps }));
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    d.fire();
    expect(d.state.escalationReason).toBe('approval for step 1/1 (failover) expired after 5m');
    expect(d.state.approval?.decision).toBe('expired');
    const e = coreDriver(pb({ steps }));
    e.send({ kind: 'start', carried: false });
    e.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    e.send({ kind: 'decided', decision: { decision: 'deny', user: 'U1', reason: 'not now' } });
    expect(e.state.escalationReason).toBe('step 1/1 (failover) denied by U1: not now');
  });

  it('the alert resolves while waiting for approval: resolved, the wait cancelled, the target released', () => {
    const d = coreDriver(pb({ steps: [{ name: 'failover', action: 'http', params: { url: `${URL}/f` }, requiresApproval: true, approvers: ['U1'] }] }));
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'alerts', alerts: [d.alert] });
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    const cs = d.send({ kind: 'alerts', alerts: [{ ...d.alert, status: 'resolved' }] });
    expect(d.kinds(cs)).toEqual(['cancelTimer', 'setStatus', 'release', 'publish']);
    expect(d.state).toMatchObject({ status: 'resolved', outcome: 'alert resolved before medic acted' });
  });

  it('dry-run mode: every step reports once, nothing verified, then a human decides', () => {
    const d = coreDriver(pb({ mode: 'dry-run' }));
    d.send({ kind: 'start', carried: false });
    for (let i = 0; i < 2; i++) {
      d.send({ kind: 'admitted', result: ALLOW });
      d.send({ kind: 'actionResult', outcome: ok });
    }
    expect(of(d.all, 'runAction').map((c) => c.dryRun)).toEqual([true, true]);
    expect(of(d.all, 'verify')).toHaveLength(0);
    expect(d.state.escalationReason).toMatch(/^dry-run mode: all 2 step\(s\) reported what they would do/);
    expect(d.state.acted).toBe(false);
  });

  it('no verification configured: the step counts as success', () => {
    const d = actedWithoutVerification();
    expect(d.state.outcome).toBe('step 1/1 (restart) succeeded (no verification configured)');
  });

  it('the ladder: a slack-group rung waits for a take; taken → acknowledged, the ladder stops, then the hold ends it', () => {
    const d = coreDriver(
      pb({
        steps: [{ name: 'restart', action: 'http', params: { url: `${URL}/r` }, verification }],
        escalation: [
          { kind: 'slack-group', group: '@oncall', wait: '15m' },
          { kind: 'record', to: 'later' },
        ],
      }),
      { labels: { deploying: 'true' } },
    );
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    expect(d.state.ladder?.waiting).toMatchObject({ rung: 0, group: '@oncall' });
    expect(d.send({ kind: 'taken', take: { user: 'U2', rung: 1 } })).toEqual([{ kind: 'refuse', reason: 'that request (rung 2) is no longer current; rung 1 is waiting' }]);
    const taken = d.send({ kind: 'taken', take: { user: 'U2', rung: 0 } }, 60_000);
    expect(d.kinds(taken)).toEqual(['setStatus', 'answer', 'cancelTimer', 'startTimer', 'publish']);
    expect(d.state.status).toBe('acknowledged');
    expect(d.notes()).not.toContain('handed over to later');
    d.fire();
    expect(d.state).toMatchObject({ status: 'escalated', phase: 'done' });
  });

  it('a pagerduty rung pages in the background; resolved by hand → the page is resolved, then the incident', () => {
    const d = coreDriver(pb({ escalation: [{ kind: 'pagerduty', routingKeySecret: 'PD_KEY' }] }), { labels: { deploying: 'true' } });
    d.send({ kind: 'start', carried: false });
    const esc = d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    expect(of(esc, 'page')[0]).toMatchObject({ rung: 0, routingKeySecret: 'PD_KEY', page: { dedupKey: 'inc-1' } });
    const res = { status: 202, message: 'Event processed', dedupKey: 'inc-1' };
    d.send({ kind: 'paged', rung: 0, action: 'trigger', ok: true, result: res });
    const byHand = d.send({ kind: 'resolvedByHand', resolve: { user: 'U3', reason: 'fixed the disk' } });
    expect(d.kinds(byHand)).toEqual(['answer', 'cancelTimer', 'resolvePage', 'publish']);
    expect(d.send({ kind: 'resolvedByHand', resolve: { user: 'U4' } })).toEqual([{ kind: 'refuse', reason: 'already resolved by U3' }]);
    d.send({ kind: 'paged', rung: 0, action: 'resolve', ok: true, result: res });
    expect(d.state).toMatchObject({ status: 'resolved', outcome: 'resolved by U3: fixed the disk' });
    expect(d.notes().slice(-3)).toEqual(['resolving the PagerDuty alert (dedup_key inc-1)', 'PagerDuty accepted the resolve: 202 Event processed', 'resolved: resolved by U3: fixed the disk']);
  });

  it('continued as new: the wait in progress is re-armed for what remains of it', () => {
    const d = coreDriver(pb());
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: { granted: false, holder: 'x', pause: { paused: false }, decisions: [], allowed: false } });
    const cs = d.send({ kind: 'start', carried: true }, 10_000);
    expect(cs).toEqual([{ kind: 'startTimer', id: 1, timer: 'recheck', ms: 20_000 }]);
    expect(d.state.continuedAsNew).toBe(1);
  });

  it('after the end: Updates are refused, signals change nothing', () => {
    const d = actedWithoutVerification();
    expect(d.state.phase).toBe('done');
    expect(d.send({ kind: 'resolvedByHand', resolve: { user: 'U1' } })).toEqual([{ kind: 'refuse', reason: 'inc-1 has already ended (resolved)' }]);
    expect(d.send({ kind: 'alerts', alerts: [d.alert] })).toEqual([]);
    expect(d.send({ kind: 'pause', pause: { paused: true } })).toEqual([]);
  });
});

describe('decision core: undo workflows (revertOnResolve)', () => {
  const undo = (id: string) => ({ ...ok, data: { undo: { spec: { kind: 'traffic-weights' }, when: 'resolve' }, undoWorkflowId: id } });
  it('an action with a revert-on-resolve undo is remembered; the end tells its undo workflow how the incident ended', () => {
    const one = pb({ steps: [{ name: 'shift', action: 'http', params: { url: `${URL}/r` } }] });
    const healed = coreDriver(one);
    healed.send({ kind: 'start', carried: false });
    healed.send({ kind: 'admitted', result: ALLOW });
    const end = healed.send({ kind: 'actionResult', outcome: undo('undo:inc-1:step-0:try-1') });
    expect(of(end, 'endUndos')).toEqual([{ kind: 'endUndos', workflowIds: ['undo:inc-1:step-0:try-1'], resolved: true }]);
    // a timer undo (GitOps resume) is not waited on; a failed step's undo never started
    const timer = coreDriver(one);
    timer.send({ kind: 'start', carried: false });
    timer.send({ kind: 'admitted', result: ALLOW });
    const t = timer.send({ kind: 'actionResult', outcome: { ...ok, data: { undo: { when: { afterMs: 1_000 } }, undoWorkflowId: 'undo:x' } } });
    expect(of(t, 'endUndos')).toEqual([]);
  });
  it('an escalated incident tells its undo workflows it did not resolve (the change stays)', () => {
    const d = coreDriver(pb({ steps: [{ name: 'shift', action: 'http', params: { url: `${URL}/r` }, verification }], holdAfterEscalation: '1s' }));
    d.send({ kind: 'start', carried: false });
    d.send({ kind: 'admitted', result: ALLOW });
    d.send({ kind: 'actionResult', outcome: undo('undo:a') });
    for (let i = 0; i < 30 && d.state.phase !== 'done'; i++) {
      if (d.state.machine?.inFlight === 'verify') d.send({ kind: 'verified', round: sick });
      else if (d.state.machine?.wait) d.fire();
      else break;
    }
    expect(d.state.status).toBe('escalated');
    expect(of(d.all, 'endUndos')).toEqual([{ kind: 'endUndos', workflowIds: ['undo:a'], resolved: false }]);
  });
});
