// The receiver's refusals (before Bolt sees a request) and the validator's group rule.
import { describe, expect, it } from 'vitest';
import { slackSignature } from '../../dev/slack/interact.js';
import { FastifyReceiver } from '../../src/slack/receiver.js';
import { refuseDecision, approvalRequest, newState } from '../../src/incident/state.js';
import { silentLog, firingAlert } from '../support/fixtures.js';
import type { Step } from '../../src/playbooks/schema.js';

const SECRET = 'receiver-secret-0123456789';
const NOW = 1_800_000_000_000;

describe('Slack request verification', () => {
  const receiver = () => new FastifyReceiver({ signingSecret: SECRET, log: silentLog, now: () => NOW });
  const ts = NOW / 1000;
  it('accepts a correct v0 signature once; a replay, a forgery or a stale/future timestamp is refused', () => {
    const r = receiver();
    const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
    const sig = slackSignature(SECRET, ts, body);
    expect(r.verify(body, String(ts), sig)).toBeUndefined();
    expect(r.verify(body, String(ts), sig)).toBe('replayed request');
    expect(r.verify(`${body}&x=1`, String(ts + 1), sig)).toBe('invalid signature');
    expect(r.verify(body, String(ts - 301), slackSignature(SECRET, ts - 301, body))).toBe('stale or invalid request timestamp');
    expect(r.verify(body, String(ts + 301), slackSignature(SECRET, ts + 301, body))).toBe('stale or invalid request timestamp');
    expect(r.verify(body, String(ts - 299), slackSignature(SECRET, ts - 299, body))).toBeUndefined();
    expect(r.verify(body, undefined, sig)).toBe('missing Slack signature headers');
    expect(r.verify(body, 'soon', sig)).toBe('stale or invalid request timestamp');
    expect(r.verify(body, String(ts), slackSignature('another-secret-0123456789', ts, body))).toBe('invalid signature');
  });
});

describe('approver groups in the validator', () => {
  const step = { name: 'failover', risk: 'high', approvers: ['U0ALICE', '@oncall'], fourEyes: true } as Step;
  const state = () => {
    const s = newState('inc-1', firingAlert(), NOW);
    s.pendingApproval = approvalRequest(step, 0, 'POST /failover', 'U0BOB', NOW, 60_000);
    return s;
  };
  it('a group counts only with `via` naming a listed group; four-eyes still applies to the user', () => {
    expect(refuseDecision(state(), { decision: 'approve', user: 'U0CAROL' }, NOW)).toContain('may not decide');
    expect(refuseDecision(state(), { decision: 'approve', user: 'U0CAROL', via: '@oncall' }, NOW)).toBeUndefined();
    expect(refuseDecision(state(), { decision: 'approve', user: 'U0CAROL', via: '@admins' }, NOW)).toContain('may not decide');
    expect(refuseDecision(state(), { decision: 'approve', user: 'U0BOB', via: '@oncall' }, NOW)).toContain('four-eyes');
  });
});
