// Block Kit builders: pure functions, checked against the same shape rules the stand-in (and
// Slack) apply.
import { describe, expect, it } from 'vitest';
import { blocksProblem, viewProblem } from '../../dev/slack/blocks.js';
import { ACTIONS, approvalMessage, decodeRef, denyReasonModal } from '../../src/slack/ui/approval.js';
import { incidentRoot, timelineMessages } from '../../src/slack/ui/incident.js';
import { homeView } from '../../src/slack/ui/home.js';
import type { ApprovalRequest, IncidentStatus, TimelineEntry } from '../../workflows/contracts.js';

const AT = Date.UTC(2026, 10, 25, 10, 42);
const incident = {
  workflowId: 'incident:demo-down:0123456789ab',
  incidentId: 'incident:demo-down:0123456789ab:deadbeef',
  status: 'awaiting_approval',
  playbook: 'demo-down',
  service: 'checkout',
  severity: 'critical',
  target: 'checkout',
  alertname: 'DemoServiceDown',
  stepName: 'failover',
  stepIndex: 0,
  startedAt: AT,
} as unknown as IncidentStatus;
const request: ApprovalRequest = {
  step: 0,
  stepName: 'failover',
  what: 'step 1/1 (failover): POST http://127.0.0.1:9/failover',
  risk: 'high',
  approvers: ['U0ALICE', '@oncall'],
  fourEyes: true,
  requestedAt: AT,
  expiresAt: AT + 30 * 60_000,
};

describe('Slack UI builders', () => {
  it('root message: title, status, severity, service, target, playbook, Temporal link; valid Block Kit', () => {
    const m = incidentRoot({ ...incident, runbookUrl: 'https://wiki.example.com/demo-down' }, { temporalUrl: 'http://localhost:8233/namespaces/default/workflows/x' });
    expect(blocksProblem(m.blocks, 'message')).toBeUndefined();
    const text = JSON.stringify(m.blocks);
    for (const s of ['DemoServiceDown on checkout', 'Awaiting approval', 'critical', 'demo-down', 'failover', '|Temporal UI>', '<https://wiki.example.com/demo-down|Runbook>']) expect(text).toContain(s);
    expect(m.text).toBe('Awaiting approval: DemoServiceDown on checkout (critical)');
    const done = incidentRoot({ ...incident, status: 'resolved', outcome: 'healed by step 1/1 (restart)', endedAt: AT + 60_000 });
    expect(JSON.stringify(done.blocks)).toContain('Resolved');
    expect(JSON.stringify(done.blocks)).toContain('healed by step 1/1');
  });

  it('coalesces a burst of timeline entries into few valid messages, every entry kept in order', () => {
    const entries: TimelineEntry[] = Array.from({ length: 500 }, (_, seq) => ({ seq, at: AT, kind: 'alert.received', message: `event ${seq} ${'x'.repeat(seq % 7 === 0 ? 400 : 20)}`, data: { labels: {} } }));
    const msgs = timelineMessages(entries);
    expect(msgs.length).toBeLessThan(10);
    for (const m of msgs) expect(blocksProblem(m.blocks, 'message')).toBeUndefined();
    const lines = msgs.flatMap((m) => m.blocks.flatMap((b) => String((b.text as { text: string }).text).split('\n')));
    expect(lines.map((l) => /event (\d+)/.exec(l)?.[1])).toEqual(entries.map((e) => String(e.seq)));
    expect(msgs.at(-1)!.lastSeq).toBe(499);
    expect(timelineMessages([{ seq: 3, at: AT, kind: 'action.succeeded', step: 0, message: 'a <b> & c', data: { dryRun: false, output: {} } }])[0]!.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: ':hammer_and_wrench: `10:42` a &lt;b&gt; &amp; c' },
    });
  });

  it('approval request shows what, risk, approvers and expiry with Approve/Deny; decided form has no buttons', () => {
    const m = approvalMessage(incident.workflowId, request);
    expect(blocksProblem(m.blocks, 'message')).toBeUndefined();
    const text = JSON.stringify(m.blocks);
    for (const s of ['POST http://127.0.0.1:9/failover', 'high', 'four-eyes', '<@U0ALICE>, @oncall', '2026-11-25T11:12:00.000Z']) expect(text).toContain(s);
    const actions = m.blocks.find((b) => b.type === 'actions') as unknown as { elements: { action_id: string; value: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([ACTIONS.approve, ACTIONS.deny]);
    expect(decodeRef(actions.elements[0]!.value)).toEqual({ workflowId: incident.workflowId, step: 0, request: request.requestedAt });
    expect(decodeRef(JSON.stringify({ w: incident.workflowId, s: 0 }))).toEqual({ workflowId: incident.workflowId, step: 0 }); // buttons posted before
    const approved = approvalMessage(incident.workflowId, request, { decision: 'approve', by: 'U0BOB', at: AT });
    expect(approved.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(approved.blocks)).toContain('Approved by <@U0BOB> at 10:42 UTC');
    expect(JSON.stringify(approvalMessage(incident.workflowId, request, { decision: 'deny', by: 'U0BOB', at: AT, reason: 'not now' }).blocks)).toContain('Denied by <@U0BOB> at 10:42 UTC: not now');
    expect(decodeRef('garbage')).toBeUndefined();
  });

  it('deny modal is a valid view carrying the request reference', () => {
    const v = denyReasonModal({ workflowId: incident.workflowId, step: 0 }, 'failover', { channel: 'C1', ts: '1.2' });
    expect(viewProblem(v)).toBeUndefined();
    expect(JSON.parse(v.private_metadata as string)).toEqual({ workflowId: incident.workflowId, step: 0, channel: 'C1', ts: '1.2' });
  });

  it('App Home is a valid home view with the kill-switch button and 7-day numbers', () => {
    const open = [{ workflowId: incident.workflowId, status: 'acting', service: 'checkout', severity: 'critical', startedAt: '', runStatus: 'RUNNING' }];
    const running = homeView({ pause: { paused: false }, open, week: { autoResolved: 3, escalated: 1, mttrMs: 95_000 } });
    expect(viewProblem(running)).toBeUndefined();
    const text = JSON.stringify(running.blocks);
    for (const s of ['Automation is running', '"value":"pause"', 'Acting', 'checkout', 'Auto-resolved (7 days)*\\n3', 'MTTR (7 days)*\\n2m']) expect(text).toContain(s);
    const paused = homeView({ pause: { paused: true, by: 'U0ROOT', reason: 'db migration' }, open: [], week: { autoResolved: 0, escalated: 0 }, notice: 'You paused automation.' });
    expect(viewProblem(paused)).toBeUndefined();
    expect(JSON.stringify(paused.blocks)).toContain('"value":"resume"');
    expect(JSON.stringify(paused.blocks)).toContain('MTTR (7 days)*\\n—');
  });
});
