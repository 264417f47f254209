// Thread verbosity (playbook `verbosity`, else config slack.verbosity): which timeline entries
// become thread replies. `summary` keeps routine steps out of the thread (the root message shows
// how many and the latest); `quiet` also keeps out everything but what a person must act on or
// know. Requests with buttons (approvals, take-it) and the ladder are always their own messages.
// Only the Slack thread is filtered: the store, audit log and `medic status` keep every entry.
import type { IncidentStatus, TimelineKind } from '../../../workflows/contracts.js';
import type { Verbosity } from '../../playbooks/thread.js';

const ROUTINE = new Set<TimelineKind>([
  'alert.opened',
  'alert.received',
  'gate.passed',
  'lock.acquired',
  'action.started',
  'action.succeeded',
  'verification.started',
  'verification.passed',
  'control.silenced',
  'control.silenceExpired',
  'page.resolving',
  'page.resolved',
]);

/** What a quiet thread still shows: decisions, failures, escalation and the end. */
const LOUD = new Set<TimelineKind>([
  'approval.requested',
  'approval.decided',
  'approval.expired',
  'gate.blocked',
  'action.failed',
  'verification.failed',
  'escalation.started',
  'escalation.takeRequested',
  'escalation.taken',
  'page.accepted',
  'page.failed',
  'resolution',
  'control.killSwitch',
  'control.forged',
  'control.resolvedByHand',
  'control.snoozed',
]);

export const verbosityOf = (i: IncidentStatus, channel: Verbosity | undefined): Verbosity => i.verbosity ?? channel ?? 'full';

/** Whether an entry of this kind is a thread reply at this verbosity. */
export function inThread(kind: TimelineKind, v: Verbosity): boolean {
  if (v === 'full') return true;
  if (v === 'summary') return !ROUTINE.has(kind);
  return LOUD.has(kind);
}
