// Pure helpers over an incident's state: creation, the capped timeline, the status projection
// and the approval validator. No Temporal APIs here, so they are unit-testable as plain functions.
import { graphFor } from '../src/graphs/query.js';
import type { Step } from '../src/playbooks/schema.js';
import type {
  Alert,
  ApprovalRequest,
  DecisionInput,
  IncidentInput,
  IncidentOptions,
  IncidentState,
  IncidentStatus,
  TimelineEntry,
} from './contracts.js';

export const DEFAULT_OPTIONS: IncidentOptions = {
  maxHistoryEvents: 8_000,
  timelineCap: 200,
  lockLeaseMs: 2 * 3_600_000,
};

export function newState(incidentId: string, alert: Alert, now: number): IncidentState {
  return {
    incidentId,
    status: 'open',
    phase: 'gates',
    stepIndex: 0,
    stepTry: 1,
    alertsReceived: 0,
    lastAlert: alert,
    fingerprints: {},
    resolvedByAlert: false,
    pause: { paused: false },
    lockHeld: false,
    calls: 0,
    acted: false,
    escalationSent: false,
    startedAt: now,
    timeline: [],
    timelineDropped: 0,
    publishedSeq: 0,
    sinkRefs: {},
    continuedAsNew: 0,
  };
}

export function record(
  s: IncidentState,
  cap: number,
  fields: Omit<TimelineEntry, 'seq'>,
): TimelineEntry {
  const entry: TimelineEntry = { seq: s.timelineDropped + s.timeline.length, ...fields };
  s.timeline.push(entry);
  while (s.timeline.length > cap) {
    s.timeline.shift();
    s.timelineDropped += 1;
  }
  return entry;
}

/** Applies incoming alerts; returns the ones worth a timeline entry (new or changed). */
export function applyAlerts(s: IncidentState, alerts: Alert[]): Alert[] {
  const changed: Alert[] = [];
  for (const a of alerts) {
    s.alertsReceived += 1;
    s.lastAlert = a;
    if (s.fingerprints[a.fingerprint] !== a.status) changed.push(a);
    s.fingerprints[a.fingerprint] = a.status;
  }
  const states = Object.values(s.fingerprints);
  s.resolvedByAlert = states.length > 0 && states.every((st) => st === 'resolved');
  return changed;
}

const graphQueryOf = (s: IncidentState, input: IncidentInput, workflowId: string): { graphQuery?: string } => {
  const ctx = { incident: { id: s.incidentId, workflowId }, labels: input.alert.labels, annotations: input.alert.annotations, target: input.target };
  const q = graphFor(input.playbook, input.alert, ctx).query;
  return q ? { graphQuery: q } : {};
};

export function statusOf(s: IncidentState, input: IncidentInput, workflowId: string): IncidentStatus {
  const { timeline: _t, lastAlert, sinkRefs: _r, ...rest } = s;
  const step = input.playbook.steps[s.stepIndex];
  return {
    ...rest,
    workflowId,
    playbook: input.playbook.name,
    service: lastAlert.labels.service ?? '',
    severity: lastAlert.severity,
    alertname: lastAlert.alertname,
    target: input.target,
    alertLinks: {
      ...(input.alert.annotations.generatorURL ? { graph: input.alert.annotations.generatorURL } : {}),
      ...(input.alert.annotations.silenceURL ? { silence: input.alert.annotations.silenceURL } : {}),
    },
    ...graphQueryOf(s, input, workflowId),
    ...(step ? { stepName: step.name } : {}),
    ...(input.playbook.runbookUrl ? { runbookUrl: input.playbook.runbookUrl } : {}),
  };
}

export function approvalRequest(
  step: Step,
  index: number,
  what: string,
  requestedBy: string | undefined,
  now: number,
  expiresInMs: number,
): ApprovalRequest {
  return {
    step: index,
    stepName: step.name,
    what,
    risk: step.risk,
    approvers: step.approvers,
    fourEyes: step.fourEyes,
    ...(requestedBy ? { requestedBy } : {}),
    requestedAt: now,
    expiresAt: now + expiresInMs,
  };
}

/** Why a decision must be refused, or undefined when it may be applied. Default deny. */
export function refuseDecision(s: IncidentState, d: DecisionInput, now: number): string | undefined {
  const p = s.pendingApproval;
  if (!p) return `${s.incidentId} has no approval pending`;
  if (d.step !== undefined && d.step !== p.step) {
    return `that request (step ${d.step + 1}) is no longer current; step ${p.step + 1} is pending`;
  }
  if (s.approval) {
    return s.approval.decision === 'expired'
      ? `the request for step ${p.step + 1} expired at ${new Date(p.expiresAt).toISOString()}`
      : `step ${p.step + 1} was already ${s.approval.decision === 'approve' ? 'approved' : 'denied'} by ${s.approval.by}`;
  }
  if (now >= p.expiresAt) return `the request for step ${p.step + 1} expired at ${new Date(p.expiresAt).toISOString()}`;
  // A group handle counts only when the Slack app vouched for the membership (`via`).
  if (!p.approvers.includes(d.user) && !(d.via !== undefined && p.approvers.includes(d.via))) {
    return `${d.user} may not decide step ${p.step + 1}; approvers: ${p.approvers.join(', ') || 'nobody'}`;
  }
  if (d.decision === 'approve' && p.fourEyes && d.user === p.requestedBy) {
    return `four-eyes step: ${d.user} requested it and may not approve it`;
  }
  return undefined;
}
