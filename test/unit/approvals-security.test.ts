// The pure parts behind approvals security: the identity proof (sign/refuse), four-eyes decisions
// on an incident's state, runbook runners, per-team visibility and Slack escaping.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identityPayload, PROOF_MAX_AGE_MS, refuseIdentity, signIdentity } from '../../src/identity/sign.js';
import { RunbookSchema } from '../../src/runbooks/schema.js';
import { PlaybookSchema } from '../../src/playbooks/schema.js';
import { refuseRunner } from '../../src/slack/runbooks.js';
import { esc } from '../../src/slack/ui/escape.js';
import { incidentRoot, timelineMessages } from '../../src/slack/ui/incident.js';
import { approvalMessage } from '../../src/slack/ui/approval.js';
import { playbookOfWorkflowId, viewerOf, visibleIncidents } from '../../src/slack/visibility.js';
import { applyDecision, newState, refuseDecision } from '../../src/incident/state.js';
import type { ApprovalRequest, DecisionInput, IncidentState, IncidentStatus } from '../../workflows/contracts.js';
import { firingAlert } from '../support/fixtures.js';

const key = randomBytes(32);
const NOW = 1_800_000_000_000;

describe('identity proof', () => {
  const claim: DecisionInput = { decision: 'approve', user: 'U0ALICE', step: 0 };
  it('accepts what the app signed, for that incident, within the window', () => {
    const signed = signIdentity(key, 'decide', 'incident:x:abc:01234567', claim, NOW);
    expect(refuseIdentity(key, 'decide', 'incident:x:abc:01234567', signed, NOW + 1_000)).toBeUndefined();
  });
  it('refuses a missing proof, another key, another incident, another kind, a changed field, a stale proof, and no key', () => {
    const signed = signIdentity(key, 'decide', 'inc-1', claim, NOW);
    expect(refuseIdentity(key, 'decide', 'inc-1', claim, NOW)).toMatch(/^no identity proof/);
    expect(refuseIdentity(randomBytes(32), 'decide', 'inc-1', signed, NOW)).toMatch(/does not match/);
    expect(refuseIdentity(key, 'decide', 'inc-2', signed, NOW)).toMatch(/does not match/);
    expect(refuseIdentity(key, 'take', 'inc-1', signed, NOW)).toMatch(/does not match/);
    for (const changed of [{ user: 'U0ONCALL' }, { decision: 'deny' }, { step: 1 }, { via: '@oncall' }]) {
      expect(refuseIdentity(key, 'decide', 'inc-1', { ...signed, ...changed }, NOW), JSON.stringify(changed)).toMatch(/does not match/);
    }
    expect(refuseIdentity(key, 'decide', 'inc-1', signed, NOW + PROOF_MAX_AGE_MS + 1)).toMatch(/outside the 5-minute window/);
    expect(refuseIdentity(undefined, 'decide', 'inc-1', signed, NOW)).toMatch(/no identity key/);
  });
  it('covers every field but the proof, in a fixed order', () => {
    expect(identityPayload('decide', 'i', { user: 'u', decision: 'approve' }, 1)).toBe(identityPayload('decide', 'i', { decision: 'approve', user: 'u' }, 1));
    expect(identityPayload('decide', 'i', { user: 'u', proof: { x: 1 } }, 1)).toBe(identityPayload('decide', 'i', { user: 'u' }, 1));
  });
});

function awaiting(request: Partial<ApprovalRequest>): IncidentState {
  const s = newState('incident:p:abc:01234567', firingAlert(), NOW);
  s.pendingApproval = { step: 0, stepName: 'restart', what: 'POST /remediate', risk: 'high', approvers: ['alice', 'bob', 'carol'], fourEyes: true, needed: 2, requestedAt: NOW, expiresAt: NOW + 60_000, ...request };
  return s;
}
const label = (i: number) => `step ${i + 1}/1 (restart)`;

describe('four-eyes decisions', () => {
  it('the first approval is partial, the same approver again is refused, a different one completes it', () => {
    const s = awaiting({});
    const first = applyDecision(s, { decision: 'approve', user: 'alice' }, NOW + 1, label);
    expect(first.result).toMatchObject({ complete: false, approvals: ['alice'], needed: 2 });
    expect(s.approval).toBeUndefined();
    expect(refuseDecision(s, { decision: 'approve', user: 'alice' }, NOW + 2)).toBe('four-eyes step: alice already approved step 1; it needs 2 different approvers (1 so far: alice)');
    expect(refuseDecision(s, { decision: 'approve', user: 'bob' }, NOW + 2)).toBeUndefined();
    const second = applyDecision(s, { decision: 'approve', user: 'bob' }, NOW + 3, label);
    expect(second.result).toMatchObject({ complete: true, approvals: ['alice', 'bob'] });
    expect(s.approval).toMatchObject({ decision: 'approve', by: 'bob', with: ['alice'] });
    expect(second.entry.message).toBe('step 1/1 (restart) approved by alice and bob (four-eyes: 2 of 2)');
  });
  it('a decision bound to an earlier request for the same step (a stale click, a replayed proof) is refused', () => {
    const s = awaiting({ requestedAt: NOW + 5_000 });
    expect(refuseDecision(s, { decision: 'approve', user: 'bob', step: 0, request: NOW }, NOW + 6_000)).toMatch(/^that request for step 1 is no longer current/);
    expect(refuseDecision(s, { decision: 'approve', user: 'bob', step: 0, request: NOW + 5_000 }, NOW + 6_000)).toBeUndefined();
  });
  it('never the requester; a deny by any approver denies after a partial approval', () => {
    const s = awaiting({ requestedBy: 'carol' });
    expect(refuseDecision(s, { decision: 'approve', user: 'carol' }, NOW)).toBe('four-eyes step: carol requested it and may not approve it');
    applyDecision(s, { decision: 'approve', user: 'alice' }, NOW, label);
    expect(refuseDecision(s, { decision: 'deny', user: 'alice', reason: 'changed my mind' }, NOW)).toBeUndefined();
    applyDecision(s, { decision: 'deny', user: 'alice', reason: 'changed my mind' }, NOW, label);
    expect(s.approval).toMatchObject({ decision: 'deny', by: 'alice' });
  });
  it('a request from before four-eyes counted approvers (no `needed`) is decided by one approval, as it was', () => {
    const s = awaiting({ needed: undefined });
    expect(applyDecision(s, { decision: 'approve', user: 'bob' }, NOW, label).result).toEqual({ decision: 'approve', by: 'bob', at: NOW, step: 0 });
    expect(s.approval).toEqual({ decision: 'approve', by: 'bob', at: NOW });
  });
});

describe('playbook schema', () => {
  const step = (approvers: string[]) => ({ name: 's', action: 'http', params: { url: 'http://127.0.0.1:9/x' }, requiresApproval: true, fourEyes: true, approvers });
  it('a four-eyes step needs two approvers or a group: one person alone could never complete it', () => {
    const r = PlaybookSchema.safeParse({ name: 'p', match: { alertname: 'A' }, steps: [step(['U0ALICE'])] });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain('steps.0.fourEyes: four-eyes needs two different approvers: list at least two user ids or a @group');
    for (const ok of [['U0ALICE', 'U0BOB'], ['@oncall']]) expect(PlaybookSchema.safeParse({ name: 'p', match: { alertname: 'A' }, steps: [step(ok)] }).success).toBe(true);
  });
});

describe('runbook runners', () => {
  const rb = (runners: string[]) => RunbookSchema.parse({ name: 'rb', runners, steps: [{ name: 's', action: 'http', params: { url: 'http://127.0.0.1:9/x' } }] });
  const direct = async (list: string[], user: string) => list.includes(user);
  it('default deny: without runners nobody; otherwise only those listed', async () => {
    expect(await refuseRunner(direct, RunbookSchema.parse({ name: 'rb', steps: [{ name: 's', action: 'http', params: { url: 'http://127.0.0.1:9/x' } }] }), 'U1')).toMatch(/lists no runners, so nobody may start it/);
    expect(await refuseRunner(direct, rb(['U1']), 'U2')).toBe('U2 may not start runbook rb; runners: U1');
    expect(await refuseRunner(direct, rb(['U1']), 'U1')).toBeUndefined();
  });
});

describe('visibility by playbook owners', () => {
  const summary = (workflowId: string) => ({ workflowId, status: 'open', service: 's', severity: 'critical', startedAt: '', runStatus: 'RUNNING' });
  const deps = (user: string, admins: string[] = []) => ({
    access: { allowed: async (list: string[], u: string) => list.includes(u) || (list.includes('@payments') && u === 'alice'), groupVia: async () => undefined },
    admins,
    playbooks: () => [{ name: 'owned', owners: ['@payments'] }, { name: 'open', owners: [] }] as never,
    runbooks: () => [],
    user,
  });
  const list = [summary('incident:owned:aaaaaaaaaaaa'), summary('incident:open:bbbbbbbbbbbb'), summary('incident:gone:cccccccccccc')];
  it('owners (and admins) see owned incidents; unowned are visible to all; unknown playbooks only to admins', async () => {
    expect(playbookOfWorkflowId('incident:owned:aaaaaaaaaaaa')).toBe('owned');
    const carol = await visibleIncidents(await viewerOf(deps('carol'), 'carol'), list);
    expect(carol.shown.map((i) => i.workflowId)).toEqual(['incident:open:bbbbbbbbbbbb']);
    expect(carol.hidden).toBe(2);
    const alice = await visibleIncidents(await viewerOf(deps('alice'), 'alice'), list);
    expect(alice.hidden).toBe(1);
    const root = await visibleIncidents(await viewerOf(deps('root', ['root']), 'root'), list);
    expect(root.hidden).toBe(0);
  });
});

describe('Slack escaping', () => {
  const hostile = '<!channel> <http://evil|click> <@U0ROOT> & <!here>';
  it('turns control sequences into text, in blocks and fallback text', () => {
    expect(esc(hostile)).toBe('&lt;!channel&gt; &lt;http://evil|click&gt; &lt;@U0ROOT&gt; &amp; &lt;!here&gt;');
    const status = { alertname: 'A', target: 't', severity: '<!here>', service: 's', playbook: 'p', incidentId: 'i', status: 'open', startedAt: NOW, stepIndex: 0, summary: hostile } as unknown as IncidentStatus;
    const root = incidentRoot(status);
    const thread = timelineMessages([{ seq: 0, at: NOW, kind: 'alert.received', message: hostile, data: { labels: {} } }]);
    const approval = approvalMessage('w', { step: 0, stepName: '<!channel>', what: hostile, risk: 'high', approvers: [], fourEyes: false, requestedAt: NOW, expiresAt: NOW });
    for (const m of [root, ...thread, approval]) {
      for (const s of [m.text, JSON.stringify(m.blocks)]) for (const live of ['<!channel>', '<!here>', '<@U0ROOT>', '<http://evil']) expect(s).not.toContain(live);
    }
  });
});
