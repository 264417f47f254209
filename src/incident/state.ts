// Pure helpers over an incident's state: creation, the capped timeline, the status projection
// and the approval validator. No Temporal APIs here, so they are unit-testable as plain functions.
import { graphFor } from '../graphs/query.js';
import { scopeOf } from './scope.js';
import { snoozeApproversOf } from './silences.js';
import { whatWorked } from '../store/similar.js';

const tryWhatWorkedOf = (s: IncidentState, steps: { name: string }[]): Pick<IncidentStatus, 'tryWhatWorked'> => {
  const w = s.similar ? whatWorked(s.similar, steps) : undefined;
  return w ? { tryWhatWorked: w } : {};
};
import type { Step } from '../playbooks/schema.js';
import type {
  Alert,
  ApprovalRequest,
  DecisionInput,
  DecisionResult,
  RunningIncidentInput,
  IncidentOptions,
  IncidentState,
  IncidentStatus,
  TimelineEntry,
} from '../../workflows/contracts.js';
import { entry, type NewEntry } from '../../workflows/contracts-timeline.js';
import type { SinkRefs } from '../../workflows/contracts-sinks.js';
import { readTimelineEntry } from '../../workflows/contracts-timeline-legacy.js';

export const DEFAULT_OPTIONS: IncidentOptions = {
  maxHistoryEvents: 8_000,
  timelineCap: 200,
  lockLeaseMs: 2 * 3_600_000,
  fingerprintCap: 1_000,
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

/** Entries kept past the cap while the sinks are down, at most this many times the cap: the
 * state is carried across continue-as-new and a Temporal payload has a size limit. */
export const OUTAGE_CAP_FACTOR = 5;

/**
 * Appends an entry. Over `cap`, the oldest entries already published are spilled (counted in
 * timelineDropped); an entry the sinks have not confirmed is never spilled, so an outage leaves
 * no gap in the Slack thread, the store or the audit log. Only past OUTAGE_CAP_FACTOR × cap (a
 * long outage under an alert flood) are unpublished entries given up, counted in timelineLost.
 */
export function record(s: IncidentState, cap: number, fields: NewEntry & { at: number }): TimelineEntry {
  const e = { seq: s.timelineDropped + s.timeline.length, ...fields } as TimelineEntry;
  s.timeline.push(e);
  while (s.timeline.length > cap && s.timeline[0]!.seq < s.publishedSeq) {
    s.timeline.shift();
    s.timelineDropped += 1;
  }
  while (s.timeline.length > Math.max(1, cap) * OUTAGE_CAP_FACTOR) {
    s.timeline.shift();
    s.timelineDropped += 1;
    s.timelineLost = (s.timelineLost ?? 0) + 1;
    s.publishedSeq = Math.max(s.publishedSeq, s.timeline[0]!.seq);
  }
  return e;
}

/** State carried across continue-as-new by a run from before typed timelines holds old entries:
 * they are upgraded once, when the next run starts (workflows/contracts-timeline-legacy.ts). */
export function upgradeCarriedTimeline(s: IncidentState): void {
  s.timeline = s.timeline.map((e) => readTimelineEntry(e));
}

/** Published entries spilled once the cap allows it again (called after the cursor moved). */
export function spillPublished(s: IncidentState, cap: number): void {
  while (s.timeline.length > cap && s.timeline[0]!.seq < s.publishedSeq) {
    s.timeline.shift();
    s.timelineDropped += 1;
  }
}

/** Applies incoming alerts; returns the ones worth a timeline entry (new or changed). With a
 * `cap` (workflows from after the bound), at most `cap` fingerprints are kept: see boundedApply. */
export function applyAlerts(s: IncidentState, incoming: Alert[], cap?: number): Alert[] {
  const alerts = incoming.filter((a) => firstDelivery(s, a));
  if (cap !== undefined) return boundedApply(s, alerts, cap);
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

/** Bus alerts remembered per incident for recognising redeliveries. A bus redelivers only what a
 * crashed consumer had not acknowledged, at most intake.bus.maxInFlight messages (≤ 1,024), so
 * the latest 2,048 suffice; the window bounds the state carried across continue-as-new. */
export const DELIVERY_WINDOW = 2_048;

/** False for an alert from a bus message this incident has already counted (a redelivery). */
function firstDelivery(s: IncidentState, a: Alert): boolean {
  if (!a.delivery) return true;
  const key = `${a.delivery}|${a.fingerprint}`;
  const seen = (s.deliveries ??= []);
  if (seen.includes(key)) {
    s.redeliveries = (s.redeliveries ?? 0) + 1;
    return false;
  }
  seen.push(key);
  if (seen.length > DELIVERY_WINDOW) seen.splice(0, seen.length - DELIVERY_WINDOW);
  return true;
}

/** What a status needs of the playbook (while the playbook is still being looked up, a stand-in). */
type StatusInput = Omit<RunningIncidentInput, 'playbook'> & { playbook: Pick<RunningIncidentInput['playbook'], 'name' | 'steps' | 'runbookUrl' | 'graph'> & Partial<Pick<RunningIncidentInput['playbook'], 'scope' | 'verbosity' | 'silence' | 'demotionApprovers'>> };

const graphQueryOf = (s: IncidentState, input: StatusInput, workflowId: string): { graphQuery?: string } => {
  const ctx = { incident: { id: s.incidentId, workflowId }, labels: input.alert.labels, annotations: input.alert.annotations, target: input.target };
  const q = graphFor(input.playbook, input.alert, ctx).query;
  return q ? { graphQuery: q } : {};
};

/** A flood of distinct alerts must not grow workflow state (carried across continue-as-new)
 * without bound. Past `cap` fingerprints the oldest resolved one is evicted, else the oldest;
 * evictions are counted. An evicted firing alert keeps the incident from resolving by alert
 * until a resolved alert with a fingerprint it no longer knows arrives (taken to be that one):
 * evicting must never make an incident look resolved while something may still fire. */
function boundedApply(s: IncidentState, alerts: Alert[], cap: number): Alert[] {
  const order = (s.fingerprintOrder ??= Object.keys(s.fingerprints));
  const evicted = (s.fingerprintsEvicted ??= { total: 0, firing: 0 });
  const changed: Alert[] = [];
  for (const a of alerts) {
    s.alertsReceived += 1;
    s.lastAlert = a;
    const prev = s.fingerprints[a.fingerprint];
    if (prev !== a.status) changed.push(a);
    if (prev === undefined) {
      if (a.status === 'resolved' && evicted.firing > 0) evicted.firing -= 1;
      order.push(a.fingerprint);
    }
    s.fingerprints[a.fingerprint] = a.status;
    evictOver(s, order, evicted, cap);
  }
  evictOver(s, order, evicted, cap); // state carried from before the bound may be over it
  const states = Object.values(s.fingerprints);
  s.resolvedByAlert = states.length > 0 && evicted.firing === 0 && states.every((st) => st === 'resolved');
  return changed;
}

function evictOver(s: IncidentState, order: string[], evicted: { total: number; firing: number }, cap: number): void {
  while (order.length > Math.max(1, cap)) {
    const resolved = order.findIndex((f) => s.fingerprints[f] === 'resolved');
    const [gone] = order.splice(resolved >= 0 ? resolved : 0, 1);
    if (gone === undefined) return;
    if (s.fingerprints[gone] === 'firing') evicted.firing += 1;
    evicted.total += 1;
    delete s.fingerprints[gone];
  }
}

export function statusOf(s: IncidentState, input: StatusInput, workflowId: string): IncidentStatus {
  const { timeline: _t, lastAlert, sinkRefs: _r, machine: _m, scope: _s, deliveries: _d, ...rest } = s;
  const step = input.playbook.steps[s.stepIndex];
  return {
    ...rest,
    coverage: scopeOf(s, input.playbook),
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
    ...(input.playbook.verbosity ? { verbosity: input.playbook.verbosity } : {}),
    ...tryWhatWorkedOf(s, input.playbook.steps),
    ...(input.playbook.silence ? { snoozeChoices: input.playbook.silence.snooze, snoozeApprovers: snoozeApproversOf(input.playbook) } : {}),
    ...(lastAlert.annotations.summary ? { summary: lastAlert.annotations.summary.slice(0, 500) } : {}),
  };
}

export function approvalRequest(
  step: Step,
  index: number,
  what: string,
  requestedBy: string | undefined,
  now: number,
  expiresInMs: number,
  needed?: number,
): ApprovalRequest {
  return {
    step: index,
    stepName: step.name,
    what,
    risk: step.risk,
    approvers: step.approvers,
    fourEyes: step.fourEyes,
    ...(needed !== undefined ? { needed } : {}),
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
  if (d.request !== undefined && d.request !== p.requestedAt) {
    return `that request for step ${p.step + 1} is no longer current; a newer one was made at ${new Date(p.requestedAt).toISOString()}`;
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
  const earlier = p.approvedBy ?? [];
  if (d.decision === 'approve' && earlier.some((a) => a.by === d.user)) {
    return `four-eyes step: ${d.user} already approved step ${p.step + 1}; it needs ${p.needed ?? 1} different approvers (${earlier.length} so far: ${earlier.map((a) => a.by).join(', ')})`;
  }
  return undefined;
}

/** What an accepted decision does: a timeline entry, and the state and answer it leaves. */
export interface AppliedDecision {
  result: DecisionResult;
  entry: NewEntry;
}

/**
 * Applies a decision the validator accepted. A four-eyes request (`needed` 2) records the first
 * approval as partial and keeps waiting; the second, different approver completes it. A deny by
 * any allowed approver denies, whatever approvals came before.
 */
export function applyDecision(s: IncidentState, d: DecisionInput, at: number, stepLabel: (i: number) => string): AppliedDecision {
  const p = s.pendingApproval;
  const step = p?.step ?? s.stepIndex;
  const needed = p?.needed ?? 1;
  const reason = d.reason ? { reason: d.reason } : {};
  if (d.decision === 'approve' && p && needed > 1) {
    const so = [...(p.approvedBy ?? []), { by: d.user, at, ...(d.via ? { via: d.via } : {}) }];
    const names = so.map((a) => a.by);
    if (so.length < needed) {
      p.approvedBy = so;
      return {
        result: { decision: 'approve', by: d.user, at, step, complete: false, approvals: names, needed },
        entry: entry.approvalPartial({
          step,
          message: `${stepLabel(step)}: ${so.length} of ${needed} approvals: ${names.join(', ')}; four-eyes: waiting for a different approver`,
          data: { partial: { by: d.user, approvals: names, needed } },
        }),
      };
    }
    s.approval = { decision: 'approve', by: d.user, at, ...reason, with: names.slice(0, -1) };
    return {
      result: { decision: 'approve', by: d.user, at, step, complete: true, approvals: names, needed },
      entry: entry.approvalDecided({
        step,
        message: `${stepLabel(step)} approved by ${names.join(' and ')} (four-eyes: ${names.length} of ${needed})`,
        data: { decision: 'approve', by: d.user, approvers: names, ...reason },
      }),
    };
  }
  s.approval = { decision: d.decision, by: d.user, at, ...reason };
  return {
    result: { decision: d.decision, by: d.user, at, step },
    entry: entry.approvalDecided({
      step,
      message: d.decision === 'approve' ? `${stepLabel(step)} approved by ${d.user}` : `${stepLabel(step)} denied by ${d.user}: ${d.reason ?? 'no reason given'}`,
      data: { decision: d.decision, by: d.user, ...reason },
    }),
  };
}

/** The sinks confirmed every entry up to `lastSeq`: the cursor moves past them (never back), the
 * refs they returned are kept, and published entries over the cap are spilled. */
export function markPublished(s: IncidentState, lastSeq: number, refs: SinkRefs, cap: number): void {
  s.publishedSeq = Math.max(s.publishedSeq, lastSeq + 1);
  Object.assign(s.sinkRefs, refs);
  spillPublished(s, cap);
}

export const unpublished = (s: IncidentState): TimelineEntry[] => s.timeline.filter((e) => e.seq >= s.publishedSeq);
