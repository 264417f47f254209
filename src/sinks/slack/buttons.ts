// Which messages with buttons must lose them, and what they say instead. A button that can no
// longer do anything is a trap (a click fails, or worse looks like it worked), so every request
// message is rewritten once its action is impossible: decided, expired, the incident resolved by
// its alert or by hand, escalated, or the step superseded by a later one. Pure: unit-testable.
// Decisions and settlements are read from the typed timeline entries (kind), never messages.
import type { IncidentStatus, TimelineEntry } from '../../../workflows/contracts.js';
import type { SlackRefs } from '../../../workflows/contracts-sinks.js';
import type { Decided } from '../../slack/ui/approval.js';
import type { TakeSettled } from '../../slack/ui/ladder.js';

type OpenApproval = SlackRefs['approvals'][number];
type OpenTake = SlackRefs['takes'][number];

export type ApprovalFate =
  /** Still actionable; `refresh` when its four-eyes approvals changed (the count shows on it). */
  | { kind: 'open'; refresh: boolean }
  | { kind: 'closed'; decided: Decided };

/** Why a request without a decision can no longer be decided. */
function closedReason(i: IncidentStatus): string {
  if (i.resolvedByAlert) return 'the alert resolved before medic acted';
  if (i.resolvedBy) return `the incident was resolved by ${i.resolvedBy.by}`;
  if (i.status === 'escalated' || i.status === 'acknowledged' || i.phase === 'escalate') return 'the incident escalated';
  if (i.phase === 'done') return 'the incident ended';
  return 'superseded by a later step';
}

/** The decision recorded for this request among the entries, if any. */
function decisionIn(entries: TimelineEntry[], a: OpenApproval): Decided | undefined {
  for (const e of [...entries].reverse()) {
    if (e.kind !== 'approval.decided' || e.step !== a.request.step || e.at < a.request.requestedAt) continue;
    const approvers = e.data.approvers ?? [];
    return {
      decision: e.data.decision,
      by: e.data.by,
      at: e.at,
      ...(e.data.reason !== undefined ? { reason: e.data.reason } : {}),
      ...(approvers.length > 1 ? { with: approvers.slice(0, -1) } : {}),
    };
  }
  return undefined;
}

export function approvalFate(i: IncidentStatus, entries: TimelineEntry[], a: OpenApproval): ApprovalFate {
  const p = i.pendingApproval;
  const current = p !== undefined && p.step === a.request.step && p.requestedAt === a.request.requestedAt;
  if (current && i.approval) return { kind: 'closed', decided: i.approval };
  const recorded = decisionIn(entries, a);
  if (recorded) return { kind: 'closed', decided: recorded };
  if (current && i.phase === 'approval' && !i.resolvedByAlert && !i.resolvedBy) {
    return { kind: 'open', refresh: (p.approvedBy?.length ?? 0) !== a.approvals };
  }
  return { kind: 'closed', decided: { decision: 'closed', by: 'medic', at: i.endedAt ?? entries.at(-1)?.at ?? a.request.requestedAt, reason: closedReason(i) } };
}

/** How a slack-group rung's request settled, from its entries; 'closed' once the incident ended. */
export function takeFate(i: IncidentStatus, entries: TimelineEntry[], t: OpenTake): TakeSettled | undefined {
  for (const e of entries) {
    if (e.kind === 'escalation.taken' && e.data.take.rung === t.rung) return { outcome: 'taken', by: e.data.take.by, at: e.data.take.at };
    if (e.kind === 'escalation.takeMissed' && e.data.take.rung === t.rung) return { outcome: 'missed' };
  }
  if (i.owner && i.owner.rung !== t.rung) return { outcome: 'closed' };
  return i.phase === 'done' ? { outcome: 'closed' } : undefined;
}
