// The approval validator (it runs before an Update is accepted, so a refused click never reaches
// history) and alert resolution, as plain functions over incident state.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/intake/schemas.js';
import { StepSchema } from '../../src/playbooks/schema.js';
import type { IncidentState } from '../../workflows/contracts.js';
import { applyAlerts, approvalRequest, newState, refuseDecision } from '../../src/incident/state.js';

const NOW = Date.parse('2024-01-15T10:00:00Z');
const MIN = 60_000;

function alert(fingerprint: string, status: Alert['status'] = 'firing'): Alert {
  return {
    status,
    alertname: 'WebDown',
    severity: 'critical',
    labels: { alertname: 'WebDown', service: 'checkout' },
    annotations: {},
    startsAt: '2024-01-15T09:59:00Z',
    fingerprint,
    source: 'alertmanager',
    receivedAt: NOW,
  };
}

const riskyStep = StepSchema.parse({
  name: 'failover database',
  action: 'http',
  params: { url: 'http://127.0.0.1:9/failover' },
  risk: 'high',
  requiresApproval: true,
  approvers: ['alice', 'bob'],
  fourEyes: true,
});

/** An incident waiting for approval of step index 1 (shown to humans as step 2), requested by bob. */
function awaiting(over: { fourEyes?: boolean; requestedBy?: string } = {}): IncidentState {
  const s = newState('incident:db:abc123-1a2b3c4d', alert('fp1'), NOW);
  const step = { ...riskyStep, fourEyes: over.fourEyes ?? true };
  s.stepIndex = 1;
  s.pendingApproval = approvalRequest(step, 1, 'POST http://127.0.0.1:9/failover', over.requestedBy ?? 'bob', NOW, 30 * MIN);
  return s;
}

describe('refuseDecision', () => {
  it('refuses when nothing is pending', () => {
    const s = newState('incident:db:abc123-1a2b3c4d', alert('fp1'), NOW);
    expect(refuseDecision(s, { decision: 'approve', user: 'alice' }, NOW)).toBe(
      'incident:db:abc123-1a2b3c4d has no approval pending',
    );
  });

  it('refuses a stale click on an older request', () => {
    expect(refuseDecision(awaiting(), { decision: 'approve', user: 'alice', step: 0 }, NOW)).toBe(
      'that request (step 1) is no longer current; step 2 is pending',
    );
  });

  it('accepts a click that names the current step', () => {
    expect(refuseDecision(awaiting(), { decision: 'approve', user: 'alice', step: 1 }, NOW)).toBeUndefined();
  });

  it('refuses a second decision, saying who decided', () => {
    const approved = awaiting();
    approved.approval = { decision: 'approve', by: 'alice', at: NOW };
    expect(refuseDecision(approved, { decision: 'deny', user: 'bob' }, NOW)).toBe('step 2 was already approved by alice');
    const denied = awaiting();
    denied.approval = { decision: 'deny', by: 'bob', at: NOW, reason: 'not now' };
    expect(refuseDecision(denied, { decision: 'approve', user: 'alice' }, NOW)).toBe('step 2 was already denied by bob');
  });

  it('refuses after expiry, whether or not the workflow has recorded it yet', () => {
    const expiresAt = NOW + 30 * MIN;
    const message = `the request for step 2 expired at ${new Date(expiresAt).toISOString()}`;
    expect(message).toContain('2024-01-15T10:30:00.000Z');
    expect(refuseDecision(awaiting(), { decision: 'approve', user: 'alice' }, expiresAt)).toBe(message);
    expect(refuseDecision(awaiting(), { decision: 'approve', user: 'alice' }, expiresAt - 1)).toBeUndefined();
    const recorded = awaiting();
    recorded.approval = { decision: 'expired', by: 'medic', at: expiresAt };
    expect(refuseDecision(recorded, { decision: 'approve', user: 'alice' }, NOW)).toBe(message);
  });

  it('refuses anyone who is not an approver, listing who is', () => {
    expect(refuseDecision(awaiting(), { decision: 'approve', user: 'mallory' }, NOW)).toBe(
      'mallory may not decide step 2; approvers: alice, bob',
    );
    expect(refuseDecision(awaiting(), { decision: 'deny', user: 'mallory' }, NOW)).toBe(
      'mallory may not decide step 2; approvers: alice, bob',
    );
  });

  it('default deny: with no approvers listed, nobody may decide', () => {
    const s = awaiting();
    s.pendingApproval = { ...s.pendingApproval!, approvers: [] };
    expect(refuseDecision(s, { decision: 'approve', user: 'alice' }, NOW)).toBe(
      'alice may not decide step 2; approvers: nobody',
    );
  });

  it('four-eyes: the requester may not approve, but may deny', () => {
    expect(refuseDecision(awaiting(), { decision: 'approve', user: 'bob' }, NOW)).toBe(
      'four-eyes step: bob requested it and may not approve it',
    );
    expect(refuseDecision(awaiting(), { decision: 'deny', user: 'bob' }, NOW)).toBeUndefined();
  });

  it('an allowed approver is accepted; without four-eyes the requester may approve too', () => {
    expect(refuseDecision(awaiting(), { decision: 'approve', user: 'alice' }, NOW)).toBeUndefined();
    expect(refuseDecision(awaiting({ fourEyes: false }), { decision: 'approve', user: 'bob' }, NOW)).toBeUndefined();
  });
});

describe('approvalRequest', () => {
  it('carries the step, its approvers and the expiry', () => {
    expect(approvalRequest(riskyStep, 2, 'failover', 'carol', NOW, 5 * MIN)).toEqual({
      step: 2,
      stepName: 'failover database',
      what: 'failover',
      risk: 'high',
      approvers: ['alice', 'bob'],
      fourEyes: true,
      requestedBy: 'carol',
      requestedAt: NOW,
      expiresAt: NOW + 5 * MIN,
    });
    expect(approvalRequest(riskyStep, 0, 'x', undefined, NOW, MIN)).not.toHaveProperty('requestedBy');
  });
});

describe('applyAlerts', () => {
  it('resolves only when every fingerprint has resolved; a re-fire un-resolves', () => {
    const s = newState('incident:web:abc-1', alert('a'), NOW);
    expect(s.resolvedByAlert).toBe(false);

    applyAlerts(s, [alert('a'), alert('b')]);
    expect(s.resolvedByAlert).toBe(false);

    applyAlerts(s, [alert('a', 'resolved')]);
    expect(s.fingerprints).toEqual({ a: 'resolved', b: 'firing' });
    expect(s.resolvedByAlert).toBe(false);

    applyAlerts(s, [alert('b', 'resolved')]);
    expect(s.resolvedByAlert).toBe(true);

    applyAlerts(s, [alert('a')]);
    expect(s.resolvedByAlert).toBe(false);
    expect(s.fingerprints).toEqual({ a: 'firing', b: 'resolved' });
  });

  it('the last status in one batch wins for a fingerprint', () => {
    const s = newState('incident:web:abc-1', alert('a'), NOW);
    applyAlerts(s, [alert('a'), alert('a', 'resolved')]);
    expect(s.resolvedByAlert).toBe(true);
  });

  it('returns only alerts that are new or changed, and counts every one', () => {
    const s = newState('incident:web:abc-1', alert('a'), NOW);
    expect(applyAlerts(s, [alert('a')]).map((a) => a.fingerprint)).toEqual(['a']);
    expect(applyAlerts(s, [alert('a'), alert('b')]).map((a) => a.fingerprint)).toEqual(['b']);
    const changed = applyAlerts(s, [alert('a', 'resolved'), alert('b')]);
    expect(changed.map((a) => `${a.fingerprint}:${a.status}`)).toEqual(['a:resolved']);
    expect(s.alertsReceived).toBe(5);
    expect(s.lastAlert).toMatchObject({ fingerprint: 'b', status: 'firing' });
  });

  it('an empty batch resolves nothing', () => {
    const s = newState('incident:web:abc-1', alert('a'), NOW);
    expect(applyAlerts(s, [])).toEqual([]);
    expect(s.resolvedByAlert).toBe(false);
  });
});
