// The typed timeline: every kind parses, bad entries are refused naming the field and rule, and
// entries written before the union are upgraded by the one mapping (workflows/contracts-timeline-legacy.ts).
import { describe, expect, it } from 'vitest';
import {
  entry,
  groupOf,
  isKind,
  parseTimelineEntry,
  TIMELINE_KINDS,
  TimelineEntryError,
  type NewEntry,
  type TimelineKind,
} from '../../workflows/contracts-timeline.js';
import { isLegacyEntry, readTimelineEntry, upgradeLegacyEntry, type LegacyEntry } from '../../workflows/contracts-timeline-legacy.js';

const AT = Date.UTC(2026, 0, 5, 10, 42);
const request = { step: 0, stepName: 'restart', what: 'step 1/1 (restart): POST http://svc/restart', risk: 'high' as const, approvers: ['U0LEAD'], fourEyes: false, requestedAt: AT, expiresAt: AT + 60_000 };
const take = { rung: 1, group: '@oncall', since: AT, until: AT + 120_000 };
const decisions = [{ gate: 'kill-switch' as const, outcome: 'pass' as const, reason: 'automation is enabled' }];

/** One entry of every kind, built with the constructors (a kind missing here fails to compile). */
const SAMPLES: { [K in TimelineKind]: NewEntry } = {
  'alert.opened': entry.alertOpened({ message: 'incident opened', data: { detection: { source: 'alertmanager', startsAt: new Date(AT - 5_000).toISOString(), receivedAt: AT } } }),
  'alert.received': entry.alertReceived({ message: 'A firing (critical) from alertmanager', data: { labels: { service: 'x' }, status: 'firing', source: 'alertmanager' } }),
  'alert.similar': entry.similarFound({ message: '1 similar past incident', data: { similar: [{ incidentId: 'i0', why: 'same alertname, service', score: 4.5, outcome: 'healed', postmortem: '/api/incidents/i0/postmortem' }] } }),
  'gate.passed': entry.gatePassed({ message: 'gates passed', step: 0, data: { decisions } }),
  'gate.held': entry.gateHeld({ message: 'holding', step: 0, data: { decisions } }),
  'gate.blocked': entry.gateBlocked({ message: 'blocked', step: 0, data: { decisions, refusal: { message: 'no' } } }),
  'gate.demoted': entry.gateDemoted({ message: 'auto-demoted', step: 0, data: { demotion: { demoted: true, failures: 3, runs: 5, reason: 'failed 3 of its last 5 runs' } } }),
  'gate.policy': entry.gatePolicy({
    message: 'policy medic/remediation/decision (server, sha256 0123456789ab): REQUIRE APPROVAL by @sre-leads: major incident',
    step: 0,
    data: { policy: { decision: 'medic/remediation/decision', backend: 'server', hash: '0123456789ab'.repeat(5), outcome: 'require_approval', reasons: ['major incident'], approvers: ['@sre-leads'], durationMs: 4 } },
  }),
  'gate.playbookRefused': entry.playbookRefused({ message: 'blocked: unknown playbook', data: { playbook: { requested: null, loaded: ['a'] } } }),
  'lock.waiting': entry.lockWaiting({ message: 't is already being healed by w; waiting', data: { target: 't', holder: 'w' } }),
  'lock.acquired': entry.lockAcquired({ message: 'lock on t acquired', data: { target: 't' } }),
  'approval.requested': entry.approvalRequested({ message: 'approval needed', step: 0, data: { request } }),
  'approval.partial': entry.approvalPartial({ message: '1 of 2 approvals', step: 0, data: { partial: { by: 'U1', approvals: ['U1'], needed: 2 } } }),
  'approval.decided': entry.approvalDecided({ message: 'approved by U1', step: 0, data: { decision: 'approve', by: 'U1' } }),
  'approval.expired': entry.approvalExpired({ message: 'expired unanswered', step: 0, data: {} }),
  'action.hosts': entry.actionHosts({
    message: 'ran restart-service.yml on 2 host(s)',
    step: 0,
    data: { playbook: 'restart-service.yml', check: false, hosts: [{ host: 'web1', status: 'changed', changedTasks: ['restart demo'] }, { host: 'web2', status: 'unreachable', changedTasks: [], message: 'ssh: connect refused' }] },
  }),
  'action.started': entry.actionStarted({ message: 'started', step: 0, data: { idempotencyKey: 'i:step-0:try-1', stepName: 'restart', try: 1, dryRun: false, action: 'http' } }),
  'action.succeeded': entry.actionSucceeded({ message: 'finished', step: 0, data: { dryRun: false, httpStatus: 200, output: { status: 200 } } }),
  'action.failed': entry.actionFailed({ message: 'failed: boom', step: 0, data: { details: { status: 500 }, httpStatus: 500 } }),
  'action.retrying': entry.actionRetrying({ message: 'trying again', data: { reason: 'action failed (boom)', step: 0, try: 2 } }),
  'action.movedOn': entry.actionMovedOn({ message: 'moving on', data: { reason: 'verification failed', step: 1 } }),
  'verification.started': entry.verificationStarted({ message: 'verifying', step: 0, data: {} }),
  'verification.skipped': entry.verificationSkipped({ message: 'dry run: verification skipped', step: 0, data: {} }),
  'verification.passed': entry.verificationPassed({ message: 'verified', step: 0, data: {} }),
  'verification.probeFailed': entry.verificationProbeFailed({ message: 'probe failed', step: 0, data: {} }),
  'verification.failed': entry.verificationFailed({ message: 'verification failed', step: 0, data: { evidence: 'HTTP 500', probes: 4 } }),
  'escalation.started': entry.escalationStarted({ message: 'escalating: x', data: { reason: 'x' } }),
  'escalation.overflow': entry.escalationOverflow({ message: 'overflow incident', data: { overflow: { reason: 'cap', cap: 50 } } }),
  'escalation.ladder': entry.escalationLadder({ message: 'escalation ladder', data: { ladder: ['hand over to ops'] } }),
  'escalation.handedOver': entry.handedOver({ message: 'handed over to ops', data: { to: 'ops' } }),
  'escalation.notified': entry.notified({ message: 'notified POST http://hook', data: {} }),
  'escalation.webhookRefused': entry.webhookRefused({ message: 'refused', data: { refusal: { message: 'bad url' } } }),
  'escalation.webhookFailed': entry.webhookFailed({ message: 'escalation webhook http://hook failed', data: {} }),
  'escalation.takeRequested': entry.takeRequested({ message: 'asking @oncall', data: { take } }),
  'escalation.takeMissed': entry.takeMissed({ message: 'nobody took it', data: { take: { ...take, outcome: 'missed' } } }),
  'escalation.taken': entry.taken({ message: 'taken by U1', data: { take: { rung: 1, group: '@oncall', outcome: 'taken', by: 'U1', at: AT } } }),
  'page.sending': entry.pageSending({ message: 'paging', data: { pagerduty: { event_action: 'trigger', routingKeySecret: 'PD_KEY', dedupKey: 'i', summary: 's' } } }),
  'page.accepted': entry.pageAccepted({ message: 'accepted', data: { pagerduty: { status: 202, message: 'Event processed', dedupKey: 'i' } } }),
  'page.failed': entry.pageFailed({ message: 'PagerDuty page failed', data: {} }),
  'page.resolving': entry.pageResolving({ message: 'resolving', data: { pagerduty: { event_action: 'resolve', routingKeySecret: 'PD_KEY', dedupKey: 'i' } } }),
  'control.evidence': entry.evidence({ message: 'evidence at open: OOMKilled', data: { evidence: { moment: 'open', collectedAt: AT, missing: [{ part: 'logs', reason: 'no answer within 5000ms' }] } } }),
  'gate.skipped': entry.stepSkipped({ message: 'step 1/2 (rollback) skipped', step: 0, data: { when: 'changed.image within 30m', seen: 'no image change seen' } }),
  'page.resolved': entry.pageResolved({ message: 'accepted the resolve', data: { pagerduty: { status: 202, message: 'Event processed' } } }),
  'page.resolveFailed': entry.pageResolveFailed({ message: 'PagerDuty resolve failed', data: {} }),
  resolution: entry.resolution({ message: 'resolved: healed', data: { status: 'resolved', outcome: 'healed', unverifiedStep: 0 } }),
  'control.killSwitch': entry.killSwitch({ message: 'kill switch ON by U1', data: { paused: true, by: 'U1' } }),
  'control.graphRefused': entry.graphRefused({ message: 'incident graph refused', data: { graph: { refused: true } } }),
  'control.drillReport': entry.drillReport({ message: 'drill passed', data: { drill: { scenario: 'd', passed: true } } }),
  'control.forged': entry.forged({ message: 'refused a forged approval', data: { forged: { kind: 'decide', user: 'U1', what: 'approval', reason: 'no proof' } } }),
  'control.resolvedByHand': entry.resolvedByHand({ message: 'resolved by hand', data: { resolvedBy: { by: 'U1', at: AT } } }),
  'control.silenced': entry.silenced({ message: 'silenced', data: { silence: { purpose: 'medic', id: 's1', until: AT + 900_000, extended: false } } }),
  'control.silenceExpired': entry.silenceExpired({ message: 'expired silence s1', data: { silence: { purpose: 'medic', expired: ['s1'] } } }),
  'control.silenceFailed': entry.silenceFailed({ message: 'silencing failed', data: { silence: { purpose: 'medic', error: 'HTTP 503' } } }),
  'control.snoozed': entry.snoozed({ message: 'U1 snoozed', data: { silence: { purpose: 'snooze', id: 's2', until: AT + 3_600_000, by: 'U1' } } }),
};

describe('timeline entry schema', () => {
  it('parses an entry of every kind, as its constructor built it', () => {
    for (const kind of TIMELINE_KINDS) {
      const built = SAMPLES[kind];
      expect(built.kind).toBe(kind);
      expect(parseTimelineEntry({ seq: 3, at: AT, ...built })).toEqual({ seq: 3, at: AT, ...built });
    }
    expect(new Set(TIMELINE_KINDS.map(groupOf))).toEqual(new Set(['alert', 'gate', 'lock', 'approval', 'action', 'verification', 'escalation', 'resolution', 'control']));
  });

  it('refuses bad entries with an error naming the field and the rule', () => {
    const bad = (raw: unknown, text: string): void => {
      expect(() => parseTimelineEntry(raw)).toThrow(TimelineEntryError);
      expect(() => parseTimelineEntry(raw)).toThrow(text);
    };
    bad({ seq: 0, at: AT, kind: 'action.exploded', message: 'x', data: {} }, 'kind');
    bad({ seq: 0, at: AT, ...SAMPLES['action.started'], step: undefined }, 'invalid timeline entry (kind action.started): step: Invalid input: expected number');
    bad({ seq: 0, at: AT, kind: 'action.started', step: 0, message: 'x', data: { stepName: 'r', try: 1, dryRun: false } }, 'data.idempotencyKey');
    bad({ seq: -1, at: AT, ...SAMPLES['lock.acquired'] }, 'seq: Too small');
    bad({ seq: 0, at: AT, ...SAMPLES['approval.decided'], data: { decision: 'maybe', by: 'U1' } }, 'data.decision: Invalid option');
    bad({ seq: 0, at: AT, ...SAMPLES['control.killSwitch'], data: { paused: true, secret: 'x' } }, 'Unrecognized key: "secret"');
    bad('not an entry', 'invalid timeline entry');
  });

  it('narrows by kind', () => {
    const t = TIMELINE_KINDS.map((k, seq) => parseTimelineEntry({ seq, at: AT, ...SAMPLES[k] }));
    expect(t.filter(isKind('action.succeeded', 'action.failed')).map((e) => e.data.httpStatus)).toEqual([200, 500]);
  });
});

/** Entries as medic wrote them before typed timelines (shapes taken from the old producers). */
const old = (kind: LegacyEntry['kind'], message: string, rest: Partial<LegacyEntry> = {}): LegacyEntry => ({ seq: 7, at: AT, kind, message, ...rest });
const UPGRADES: [LegacyEntry, { kind: TimelineKind; step?: number; data: unknown }][] = [
  [old('alert', 'incident opened: A (critical) on t; playbook p', { data: { detection: { source: 'alertmanager', startsAt: '2026-01-05T10:41:00Z', receivedAt: AT } } }), { kind: 'alert.opened', data: { detection: { source: 'alertmanager', startsAt: '2026-01-05T10:41:00Z', receivedAt: AT } } }],
  [old('alert', 'A resolved (critical) from generic — correlated: x', { data: { labels: { a: 'b' } } }), { kind: 'alert.received', data: { labels: { a: 'b' }, status: 'resolved', source: 'generic' } }],
  [old('gate', 'gates passed for step 1/1 (r): kill-switch', { step: 0, data: { decisions } }), { kind: 'gate.passed', step: 0, data: { decisions } }],
  [old('gate', 'holding step 1/1 (r): paused', { step: 0, data: { decisions } }), { kind: 'gate.held', step: 0, data: { decisions } }],
  [old('gate', 'step 1/1 (r) blocked: target refused: no', { step: 0, data: { decisions, refusal: { message: 'no' } } }), { kind: 'gate.blocked', step: 0, data: { decisions, refusal: { message: 'no' } } }],
  [old('gate', 'blocked: unknown; nothing runs', { data: { playbook: { requested: null, loaded: [] } } }), { kind: 'gate.playbookRefused', data: { playbook: { requested: null, loaded: [] } } }],
  [old('lock', 'web-1 is already being healed by incident:x; waiting'), { kind: 'lock.waiting', data: { target: 'web-1', holder: 'incident:x' } }],
  [old('lock', 'lock on web-1 acquired'), { kind: 'lock.acquired', data: { target: 'web-1' } }],
  [old('approval', 'approval needed for …', { step: 0, data: { request } }), { kind: 'approval.requested', step: 0, data: { request } }],
  [old('approval', 'step 1/1 (r) denied by U1: no', { step: 0, data: { decision: 'deny', by: 'U1', reason: 'no' } }), { kind: 'approval.decided', step: 0, data: { decision: 'deny', by: 'U1', reason: 'no' } }],
  [old('approval', 'approval for step 1/1 (r) expired unanswered', { step: 0 }), { kind: 'approval.expired', step: 0, data: {} }],
  [old('action', 'step 2/3 (drain node) started: SSM Run Command AWS-RunShellScript on i-1', { step: 1, data: { idempotencyKey: 'i:step-1:try-2' } }), { kind: 'action.started', step: 1, data: { idempotencyKey: 'i:step-1:try-2', stepName: 'drain node', try: 2, dryRun: false, action: 'ssm-command' } }],
  [old('action', 'step 1/1 (r) dry run: POST http://x', { step: 0, data: { idempotencyKey: 'i:step-0:try-1', action: 'http' } }), { kind: 'action.started', step: 0, data: { idempotencyKey: 'i:step-0:try-1', stepName: 'r', try: 1, dryRun: true, action: 'http' } }],
  [old('action', 'step 1/1 (r) finished: POST http://x → 200 (12ms)', { step: 0, data: { status: 200, bodyExcerpt: 'ok' } }), { kind: 'action.succeeded', step: 0, data: { dryRun: false, httpStatus: 200, output: { status: 200, bodyExcerpt: 'ok' } } }],
  [old('action', 'step 1/1 (r) failed: HTTP 404', { step: 0, data: { status: 404, reason: 'NotFound', failed: true } }), { kind: 'action.failed', step: 0, data: { httpStatus: 404, details: { status: 404, reason: 'NotFound' } } }],
  [old('action', 'step 1/1 (r) failed: timeout', { step: 0 }), { kind: 'action.failed', step: 0, data: {} }],
  [old('action', 'step 1/2 (r): action failed (boom); trying again (try 2 of 3)'), { kind: 'action.retrying', data: { reason: 'action failed (boom)', step: 0, try: 2 } }],
  [old('action', 'verification failed; moving on to step 2/2 (s)'), { kind: 'action.movedOn', data: { reason: 'verification failed', step: 1 } }],
  [old('verification', 'verifying step 1/1 (r): GET http://x must pass for 30s (deadline 5m)', { step: 0 }), { kind: 'verification.started', step: 0, data: {} }],
  [old('verification', 'dry run: verification skipped', { step: 0 }), { kind: 'verification.skipped', step: 0, data: {} }],
  [old('verification', 'verified: healthy for 30s (3 probes); ok', { step: 0 }), { kind: 'verification.passed', step: 0, data: {} }],
  [old('verification', 'probe failed: HTTP 500', { step: 0 }), { kind: 'verification.probeFailed', step: 0, data: {} }],
  [old('verification', 'verification failed: not healthy', { step: 0, data: { evidence: 'HTTP 500', probes: 9 } }), { kind: 'verification.failed', step: 0, data: { evidence: 'HTTP 500', probes: 9 } }],
  [old('escalation', 'escalating: all 1 step(s) tried'), { kind: 'escalation.started', data: { reason: 'all 1 step(s) tried' } }],
  [old('escalation', 'handed over to on-call'), { kind: 'escalation.handedOver', data: { to: 'on-call' } }],
  [old('escalation', 'asking @oncall to take it', { data: { take } }), { kind: 'escalation.takeRequested', data: { take } }],
  [old('escalation', 'taken by U1', { data: { take: { rung: 1, group: '@oncall', outcome: 'taken', by: 'U1', at: AT } } }), { kind: 'escalation.taken', data: { take: { rung: 1, group: '@oncall', outcome: 'taken', by: 'U1', at: AT } } }],
  [old('escalation', 'paging PagerDuty (dedup_key i): s', { data: { pagerduty: { event_action: 'trigger', routingKeySecret: 'K', dedupKey: 'i', summary: 's' } } }), { kind: 'page.sending', data: { pagerduty: { event_action: 'trigger', routingKeySecret: 'K', dedupKey: 'i', summary: 's' } } }],
  [old('escalation', 'PagerDuty accepted the resolve: 202 ok', { data: { pagerduty: { action: 'resolve', status: 202, message: 'ok', dedupKey: 'i' } } }), { kind: 'page.resolved', data: { pagerduty: { action: 'resolve', status: 202, message: 'ok', dedupKey: 'i' } } }],
  [old('escalation', 'PagerDuty page failed: 503'), { kind: 'page.failed', data: {} }],
  [old('resolution', 'resolved: step 2/2 (r) succeeded (no verification configured)'), { kind: 'resolution', data: { status: 'resolved', outcome: 'step 2/2 (r) succeeded (no verification configured)', unverifiedStep: 1 } }],
  [old('resolution', 'escalated: all 1 step(s) tried'), { kind: 'resolution', data: { status: 'escalated', outcome: 'all 1 step(s) tried' } }],
  [old('control', 'kill switch ON by U1', { data: { paused: true, by: 'U1', reason: 'freeze' } }), { kind: 'control.killSwitch', data: { paused: true, by: 'U1', reason: 'freeze' } }],
  [old('control', 'refused a forged approval', { data: { forged: { kind: 'decide', user: 'U1', what: 'approval', reason: 'no proof' } } }), { kind: 'control.forged', data: { forged: { kind: 'decide', user: 'U1', what: 'approval', reason: 'no proof' } } }],
  [old('control', 'U1 resolved the incident by hand', { data: { resolvedBy: { by: 'U1', at: AT } } }), { kind: 'control.resolvedByHand', data: { resolvedBy: { by: 'U1', at: AT } } }],
];

describe('entries from before typed timelines', () => {
  it.each(UPGRADES.map(([o, want]) => [`${o.kind}: ${o.message}`, o, want] as const))('upgrades %s', (_, o, want) => {
    expect(isLegacyEntry(o)).toBe(true);
    const e = upgradeLegacyEntry(o);
    expect(e).toEqual({ seq: o.seq, at: o.at, message: o.message, ...want });
    expect(readTimelineEntry(o)).toEqual(e);
    // an upgraded entry is a typed one: reading it again changes nothing
    expect(isLegacyEntry(e)).toBe(false);
    expect(readTimelineEntry(e)).toEqual(e);
  });

  it('refuses an old entry whose data names no known fact, saying which', () => {
    expect(() => upgradeLegacyEntry(old('control', 'something else', { data: { other: 1 } }))).toThrow('cannot upgrade a control entry (seq 7) from before typed timelines');
    expect(() => upgradeLegacyEntry(old('approval', 'approval needed', { step: 0, data: { request: { requestedAt: AT } } }))).toThrow('data.request.stepName');
  });
});
