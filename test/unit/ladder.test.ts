// The escalation ladder's pure parts: rung descriptions, the take/resolve validators, the Slack
// messages (checked with the stand-in's Block Kit rules, as Slack would), and the store KPIs.
import { describe, expect, it } from 'vitest';
import { auditFields } from '../../activities/audit.js';
import { blocksProblem } from '../../dev/slack/blocks.js';
import { EscalationRungSchema } from '../../src/playbooks/schema.js';
import { ladderMessage, rungMarks, takeMessage } from '../../src/slack/ui/ladder.js';
import { actionCounts, approvalKpis, type KpiEvent } from '../../src/store/kpis.js';
import { newState } from '../../src/incident/state.js';
import { describeRung, newLadder, refuseResolve, refuseTake } from '../../src/incident/ladder.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { firingAlert } from '../support/fixtures.js';

const AT = Date.UTC(2026, 10, 25, 10, 0);
const rungs = [
  EscalationRungSchema.parse({ kind: 'slack-group', group: '@oncall' }),
  EscalationRungSchema.parse({ kind: 'pagerduty', routingKeySecret: 'PD', after: '5m' }),
  EscalationRungSchema.parse({ kind: 'webhook', request: { url: 'https://hooks.example/x?token=secret' } }),
];

describe('escalation rungs', () => {
  it('slack-group defaults to a 15 minute wait; groups must be @handles or S… ids', () => {
    expect(rungs[0]).toEqual({ kind: 'slack-group', group: '@oncall', wait: '15m' });
    expect(EscalationRungSchema.safeParse({ kind: 'slack-group', group: 'oncall' }).success).toBe(false);
    expect(EscalationRungSchema.safeParse({ kind: 'slack-group', group: 'S0ONCALL', wait: 'soon' }).success).toBe(false);
  });
  it('descriptions name what each rung does, its delay, and never a query string', () => {
    expect(rungs.map(describeRung)).toEqual(['ask @oncall to take it (waits 15m)', 'page PagerDuty, after 5m', 'notify POST https://hooks.example/x']);
  });
});

describe('take and resolve validators', () => {
  const state = () => {
    const s = newState('incident:x:0123456789ab:abcdef01', firingAlert(), AT);
    s.ladder = { ...newLadder(rungs, AT), waiting: { rung: 0, group: '@oncall', since: AT, until: AT + 900_000 } };
    return s;
  };
  it('a take needs a waiting rung, the current one, and nobody before', () => {
    const s = state();
    expect(refuseTake(s, { user: 'U1', rung: 0 })).toBeUndefined();
    expect(refuseTake(s, { user: 'U1', rung: 1 })).toBe('that request (rung 2) is no longer current; rung 1 is waiting');
    s.owner = { by: 'U2', at: AT, rung: 0 };
    expect(refuseTake(s, { user: 'U1', rung: 0 })).toBe('already taken by U2');
    const t = state();
    t.ladder!.waiting = undefined;
    expect(refuseTake(t, { user: 'U1', rung: 0 })).toContain('is not waiting for anyone');
  });
  it('a resolve is refused once resolved or ended', () => {
    const s = state();
    expect(refuseResolve(s)).toBeUndefined();
    s.resolvedBy = { by: 'U3', at: AT };
    expect(refuseResolve(s)).toBe('already resolved by U3');
    s.phase = 'done';
    expect(refuseResolve(s)).toMatch(/has already ended/);
  });
});

describe('ladder messages', () => {
  const status = (over: Partial<IncidentStatus>): IncidentStatus =>
    ({ workflowId: 'incident:x:0123456789ab', phase: 'escalate', ladder: { ...newLadder(rungs, AT), waiting: { rung: 0, group: '@oncall', since: AT, until: AT + 900_000 } }, ...over }) as IncidentStatus;
  it('marks the current rung and offers Resolve while the incident runs; valid Block Kit', () => {
    const m = ladderMessage(status({}));
    expect(blocksProblem(m.blocks, 'message')).toBeUndefined();
    expect(rungMarks(status({}).ladder!, status({}))).toEqual(['waiting', 'pending', 'pending']);
    expect(JSON.stringify(m.blocks)).toContain('*:hourglass_flowing_sand: 1. ask @oncall to take it (waits 15m) — waiting until 10:15 UTC*');
    expect(JSON.stringify(m.blocks)).toContain('resolve_incident');
  });
  it('once taken: the taker, later rungs skipped; once resolved by hand: who, no button', () => {
    const taken = status({ owner: { by: 'U0BOB', at: AT + 60_000, rung: 0 } });
    expect(rungMarks(taken.ladder!, taken)).toEqual(['taken', 'skipped', 'skipped']);
    const done = ladderMessage({ ...taken, phase: 'done', resolvedBy: { by: 'U0BOB', at: AT + 120_000 } });
    expect(blocksProblem(done.blocks, 'message')).toBeUndefined();
    expect(JSON.stringify(done.blocks)).toContain('Resolved by <@U0BOB> at 10:02 UTC');
    expect(JSON.stringify(done.blocks)).not.toContain('resolve_incident');
  });
  it('the take request mentions the group with Take it; settled, it loses the button', () => {
    const req = { rung: 0, group: '@oncall', since: AT, until: AT + 900_000 };
    const open = takeMessage('incident:x:0123456789ab', req, '<!subteam^S0ONCALL>');
    expect(blocksProblem(open.blocks, 'message')).toBeUndefined();
    expect(open.text).toContain('<!subteam^S0ONCALL>');
    expect(JSON.stringify(open.blocks)).toContain('take_incident');
    for (const outcome of ['taken', 'missed', 'closed'] as const) {
      const m = takeMessage('incident:x:0123456789ab', req, '<!subteam^S0ONCALL>', { outcome, by: 'U0BOB', at: AT });
      expect(blocksProblem(m.blocks, 'message')).toBeUndefined();
      expect(JSON.stringify(m.blocks)).not.toContain('take_incident');
    }
  });
});

describe('store KPIs from timeline rows', () => {
  const row = (incident: string, seq: number, kind: string, message: string, data?: unknown, step: number | null = 0, ended: number | null = null): KpiEvent => ({
    incident_id: incident, seq, at: AT + seq * 1000, kind, step, message, data: data ? JSON.stringify(data) : null, ended_at: ended,
  });
  // Rows as stored before typed timelines: read through the one-time upgrade (workflows/contracts-timeline-legacy.ts).
  const request = (requestedAt: number) => ({ step: 0, stepName: 'x', what: 'step 1/1 (x): POST http://x', risk: 'high', approvers: ['alice'], fourEyes: false, requestedAt, expiresAt: requestedAt + 30_000 });
  it('approvals: pending only for running incidents; latency per decision', () => {
    const k = approvalKpis([
      row('a', 1, 'approval', 'approval needed', { request: request(AT + 1000) }),
      row('a', 4, 'approval', 'approved by alice', { decision: 'approve', by: 'alice' }),
      row('b', 1, 'approval', 'approval needed', { request: request(AT + 1000) }),
      row('b', 31, 'approval', 'approval for step 1/1 (x) expired unanswered'),
      row('c', 1, 'approval', 'approval needed', { request: request(AT + 1000) }),
      row('d', 1, 'approval', 'approval needed', { request: request(AT + 1000) }, 0, AT + 9000),
    ]);
    expect(k.pending).toBe(1);
    expect(k.latencies).toEqual([{ decision: 'approve', seconds: 3 }, { decision: 'expired', seconds: 30 }]);
  });
  it('actions: by the kind the start row carries (or its description), and the outcome row', () => {
    expect(
      actionCounts([
        row('a', 1, 'action', 'step 1/2 (r) started: POST http://x/r', { idempotencyKey: 'a:step-0:try-1', action: 'http' }),
        row('a', 2, 'action', 'step 1/2 (r) finished: POST http://x/r → 200', { status: 200 }),
        row('a', 3, 'action', 'step 2/2 (s) started: SSM Run Command AWS-RunShellScript on i-1', { idempotencyKey: 'a:step-1:try-1' }, 1),
        row('a', 4, 'action', 'step 2/2 (s) failed: boom', { failed: true }, 1),
        row('a', 5, 'action', 'action failed (boom); moving on', undefined, null),
      ]),
    ).toEqual([{ type: 'http', result: 'succeeded', n: 1 }, { type: 'ssm-command', result: 'failed', n: 1 }]);
  });
});

describe('audit of takes and hand resolves', () => {
  const incident = { playbook: 'p', escalationReason: 'all steps tried', outcome: 'resolved by U0BOB: fixed' } as IncidentStatus;
  it('names the Slack user who took or resolved the incident', () => {
    const take = auditFields({ seq: 1, at: AT, kind: 'escalation.taken', message: 'taken by U0BOB (@oncall) from @oncall; the escalation ladder stops here', data: { take: { rung: 0, group: '@oncall', outcome: 'taken', by: 'U0BOB', at: AT } } }, incident);
    expect(take).toMatchObject({ who: 'U0BOB', before: 'escalated', after: 'taken' });
    const resolved = auditFields({ seq: 2, at: AT, kind: 'control.resolvedByHand', message: 'U0BOB resolved the incident by hand: fixed', data: { resolvedBy: { by: 'U0BOB', at: AT, reason: 'fixed' } } }, incident);
    expect(resolved).toMatchObject({ who: 'U0BOB', why: 'fixed', before: 'open', after: 'resolved by a person' });
  });
});
