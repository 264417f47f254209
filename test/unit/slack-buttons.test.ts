// Which Slack messages must lose their buttons (src/sinks/slack/buttons.ts): a table over every
// way an approval request stops being actionable, and the take-it request's settlements.
import { describe, expect, it } from 'vitest';
import { approvalFate, takeFate } from '../../src/sinks/slack/buttons.js';
import { approvalMessage } from '../../src/slack/ui/approval.js';
import { blocksProblem } from '../../dev/slack/blocks.js';
import type { ApprovalRequest, IncidentStatus, TimelineEntry } from '../../workflows/contracts.js';
import { entry, type NewEntry } from '../../workflows/contracts-timeline.js';

const AT = Date.UTC(2026, 11, 4, 21, 0);
const request: ApprovalRequest = { step: 0, stepName: 'restart', what: 'POST /remediate', risk: 'high', approvers: ['U0ALICE'], fourEyes: false, requestedAt: AT, expiresAt: AT + 60_000 };
const open = { ts: '1.000100', request, approvals: 0 };
const waiting = { workflowId: 'incident:x:1', status: 'awaiting_approval', phase: 'approval', stepIndex: 0, pendingApproval: request, resolvedByAlert: false } as unknown as IncidentStatus;
const at = (seq: number, e: NewEntry): TimelineEntry => ({ seq, at: AT + seq * 1000, ...e }) as TimelineEntry;

describe('approval requests: buttons stay only while the request can still be decided', () => {
  const cases: { name: string; i: IncidentStatus; entries?: TimelineEntry[]; expect: string | 'open' }[] = [
    { name: 'pending, nothing happened', i: waiting, expect: 'open' },
    { name: 'approved (state)', i: { ...waiting, phase: 'gates', approval: { decision: 'approve', by: 'U0ALICE', at: AT + 5_000 } }, expect: 'approve' },
    { name: 'denied (state)', i: { ...waiting, phase: 'escalate', approval: { decision: 'deny', by: 'U0ALICE', at: AT + 5_000, reason: 'no' } }, expect: 'deny' },
    { name: 'expired', i: { ...waiting, phase: 'escalate', approval: { decision: 'expired', by: 'medic', at: AT + 60_000 } }, expect: 'expired' },
    {
      name: 'approved, and the next step already cleared the request (decision from the entries)',
      i: { ...waiting, phase: 'approval', stepIndex: 1, pendingApproval: { ...request, step: 1, requestedAt: AT + 9_000 } },
      entries: [at(3, entry.approvalDecided({ message: 'approved', step: 0, data: { decision: 'approve', by: 'U0ALICE' } }))],
      expect: 'approve',
    },
    { name: 'resolved by its alert while waiting', i: { ...waiting, phase: 'done', status: 'resolved', resolvedByAlert: true, endedAt: AT + 7_000 }, expect: 'closed:the alert resolved before medic acted' },
    { name: 'resolved by hand while waiting', i: { ...waiting, phase: 'done', status: 'resolved', resolvedBy: { by: 'U0ROOT', at: AT + 7_000 }, endedAt: AT + 7_000 }, expect: 'closed:the incident was resolved by U0ROOT' },
    { name: 'escalated while waiting', i: { ...waiting, phase: 'escalate', status: 'escalated' }, expect: 'closed:the incident escalated' },
    { name: 'superseded by a newer request', i: { ...waiting, pendingApproval: { ...request, requestedAt: AT + 30_000 } }, expect: 'closed:superseded by a later step' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const fate = approvalFate(c.i, c.entries ?? [], open);
      if (c.expect === 'open') return void expect(fate).toEqual({ kind: 'open', refresh: false });
      expect(fate.kind).toBe('closed');
      if (fate.kind !== 'closed') return;
      const [decision, reason] = c.expect.split(':');
      expect(fate.decided.decision).toBe(decision);
      if (reason) expect(fate.decided.reason).toBe(reason);
      // The rewritten message has no button left, and is valid Block Kit.
      const m = approvalMessage('incident:x:1', request, fate.decided);
      expect(JSON.stringify(m.blocks)).not.toContain('"button"');
      expect(blocksProblem(m.blocks, 'message')).toBeUndefined();
    });
  }
  it('a four-eyes request with a first approval is refreshed and keeps its buttons', () => {
    const partial = { ...request, fourEyes: true, needed: 2, approvedBy: [{ by: 'U0BOB', at: AT + 1_000 }] };
    expect(approvalFate({ ...waiting, pendingApproval: partial }, [], { ...open, request: partial })).toEqual({ kind: 'open', refresh: true });
    expect(approvalFate({ ...waiting, pendingApproval: partial }, [], { ...open, request: partial, approvals: 1 })).toEqual({ kind: 'open', refresh: false });
  });
});

describe('take-it requests', () => {
  const t = { ts: '2.000100', rung: 1, group: '@oncall', since: AT, until: AT + 60_000 };
  const escalated = { ...waiting, status: 'escalated', phase: 'escalate', pendingApproval: undefined } as unknown as IncidentStatus;
  it('taken, missed, taken at another rung, incident over, still waiting', () => {
    const taken = entry.taken({ message: 'taken', data: { take: { rung: 1, group: '@oncall', outcome: 'taken', by: 'U0BOB', at: AT + 2_000 } } });
    const missed = entry.takeMissed({ message: 'missed', data: { take: { rung: 1, group: '@oncall', since: AT, until: AT + 60_000, outcome: 'missed' } } });
    const otherRung = entry.takeMissed({ message: 'missed', data: { take: { rung: 0, group: '@oncall', since: AT, until: AT + 60_000, outcome: 'missed' } } });
    expect(takeFate(escalated, [at(5, taken)], t)).toEqual({ outcome: 'taken', by: 'U0BOB', at: AT + 2_000 });
    expect(takeFate(escalated, [at(5, missed)], t)).toEqual({ outcome: 'missed' });
    expect(takeFate(escalated, [at(5, otherRung)], t)).toBeUndefined();
    expect(takeFate({ ...escalated, owner: { by: 'U0DANA', at: AT, rung: 2 } }, [], t)).toEqual({ outcome: 'closed' });
    expect(takeFate({ ...escalated, phase: 'done' }, [], t)).toEqual({ outcome: 'closed' });
    expect(takeFate(escalated, [], t)).toBeUndefined();
  });
});
