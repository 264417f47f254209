// Approvals on the Java time-skipping test server: expiry escalates without acting, a listed
// approver lets the step run, four-eyes takes two different approvers, and the update validator
// turns away everyone else. Decisions are signed as medic's app signs them (test/support/identity.ts).
import { describe, expect, it } from 'vitest';
import { decideUpdate, statusQuery } from '../../workflows/contracts.js';
import { demoPlaybook } from '../support/fixtures.js';
import { signedUpdates } from '../support/identity.js';
import { appliedFor, entries, MINUTE, startIncident, timeline, updateRejection, waitForStatus, useWorkflowHarness } from '../support/workflow-harness.js';

const h = useWorkflowHarness('approval');
const signed = () => signedUpdates(h.env.client);

/** The demo playbook whose only step (POST /remediate) needs approval, expiring after 30 minutes.
 * Its 1m verification window keeps an approved incident running (time skipping is locked until
 * the test awaits the result), so late decisions meet a live workflow. */
function approvalPlaybook(approvers: string[], fourEyes = false) {
  const [restart] = demoPlaybook(h.demo.url).steps;
  const verification = { http: { url: `${h.demo.url}/healthz` }, window: '1m', interval: '10s', deadline: '5m' };
  return demoPlaybook(h.demo.url, {
    holdAfterEscalation: '1h',
    steps: [{ ...restart!, risk: 'high', requiresApproval: true, approvers, fourEyes, approvalTimeout: '30m', verification }],
  });
}

const awaitingApproval = (i: Awaited<ReturnType<typeof startIncident>>) =>
  waitForStatus(i.handle, (s) => s.status === 'awaiting_approval', 'the approval request');

describe('approval on a high-risk step', () => {
  it('nobody decides: after 30 minutes the request expires and the incident escalates, nothing is done', async () => {
    h.demo.state.fault = 'outage';
    const i = await startIncident(h, approvalPlaybook(['alice']));
    const pending = await awaitingApproval(i);
    expect(pending.pendingApproval).toMatchObject({ step: 0, approvers: ['alice'], fourEyes: false, risk: 'high' });
    expect(pending.pendingApproval!.expiresAt - pending.pendingApproval!.requestedAt).toBe(30 * MINUTE);

    // 29 minutes of skipped time: still waiting for a human.
    await h.env.sleep(29 * MINUTE);
    expect((await i.handle.query(statusQuery)).status).toBe('awaiting_approval');

    await h.env.sleep(2 * MINUTE);
    const escalated = await waitForStatus(i.handle, (s) => s.status === 'escalated', 'escalation after expiry');
    expect(escalated.approval).toMatchObject({ decision: 'expired', by: 'medic' });
    expect(escalated.escalationReason).toBe('approval for step 1/1 (restart) expired after 30m');

    const t = await timeline(i.handle);
    const [expired] = entries(t, 'approval', 'expired unanswered');
    expect(expired).toBeDefined();
    expect(expired!.at).toBeGreaterThanOrEqual(pending.pendingApproval!.expiresAt);
    const escalation = entries(t, 'escalation', 'escalating: approval for step 1/1 (restart) expired');
    expect(escalation).toHaveLength(1);
    expect(escalation[0]!.at).toBeGreaterThanOrEqual(expired!.at);
    expect(entries(t, 'escalation', 'handed over to on-call')).toHaveLength(1);
    expect(entries(t, 'action')).toEqual([]);

    // A click after expiry gets a clear answer too.
    expect(await updateRejection(signed().decide(i.handle.workflowId, { decision: 'approve', user: 'alice' }))).toMatch(/request for step 1 expired at/);

    const final = await i.handle.result();
    expect(final.status).toBe('escalated');
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);
    expect(h.demo.state.fault).toBe('outage');
  });

  it('a listed approver approves before expiry: the step runs and the incident resolves', async () => {
    h.demo.state.fault = 'outage';
    const i = await startIncident(h, approvalPlaybook(['alice']));
    await awaitingApproval(i);
    await h.env.sleep(10 * MINUTE); // decided well inside the 30 minutes, not at once

    const refused = await updateRejection(signed().decide(i.handle.workflowId, { decision: 'approve', user: 'mallory' }));
    expect(refused).toContain('mallory may not decide step 1; approvers: alice');
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);
    // Claiming alice without the app's signature: refused, recorded as forged, nothing runs.
    const forged = await updateRejection(i.handle.executeUpdate(decideUpdate, { args: [{ decision: 'approve', user: 'alice' }] }));
    expect(forged).toContain('identity not accepted: no identity proof');
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);

    const decided = await signed().decide(i.handle.workflowId, { decision: 'approve', user: 'alice', step: 0 });
    expect(decided).toMatchObject({ decision: 'approve', by: 'alice', step: 0 });

    const final = await i.handle.result();
    expect(final.status).toBe('resolved');
    expect(final.outcome).toBe('healed by step 1/1 (restart)');
    expect(appliedFor(h.demo, i.incidentId)).toBe(1);

    const t = await timeline(i.handle);
    expect(entries(t, 'approval', 'approved by alice')).toHaveLength(1);
    expect(t.some((e) => e.message.includes('mallory'))).toBe(false); // the validator wrote nothing
    expect(entries(t, 'control', 'refused a forged approval of step 1/1 (restart) claiming to be alice')).toHaveLength(1);
    const approvedAt = entries(t, 'approval', 'approved by alice')[0]!.at;
    const [started] = entries(t, 'action', 'started');
    expect(started!.at).toBeGreaterThanOrEqual(approvedAt);
    expect(approvedAt - entries(t, 'approval', 'approval needed')[0]!.at).toBeGreaterThanOrEqual(10 * MINUTE);
  });

  it('four-eyes: the requester may not approve; two different approvers must; the same one twice is refused', async () => {
    h.demo.state.fault = 'outage';
    const i = await startIncident(h, approvalPlaybook(['alice', 'bob', 'carol'], true), { requestedBy: 'alice' });
    const pending = await awaitingApproval(i);
    expect(pending.pendingApproval).toMatchObject({ approvers: ['alice', 'bob', 'carol'], fourEyes: true, needed: 2, requestedBy: 'alice' });

    const decide = (user: string, decision: 'approve' | 'deny' = 'approve') => signed().decide(i.handle.workflowId, { decision, user });

    expect(await updateRejection(decide('alice'))).toBe('four-eyes step: alice requested it and may not approve it');
    expect(await updateRejection(decide('eve'))).toContain('eve may not decide step 1');
    expect(await updateRejection(i.handle.executeUpdate(decideUpdate, { args: [{ decision: 'approve', user: '' }] }))).toMatch(
      /^invalid decision/,
    );
    // A stale click on a request for another step is refused.
    expect(await updateRejection(signed().decide(i.handle.workflowId, { decision: 'approve', user: 'bob', step: 3 }))).toContain('no longer current');
    expect((await i.handle.query(statusQuery)).status).toBe('awaiting_approval');

    // The first approval is partial: nothing runs yet.
    expect(await decide('bob')).toMatchObject({ decision: 'approve', by: 'bob', step: 0, complete: false, approvals: ['bob'], needed: 2 });
    expect(await updateRejection(decide('bob'))).toBe('four-eyes step: bob already approved step 1; it needs 2 different approvers (1 so far: bob)');
    const partial = await i.handle.query(statusQuery);
    expect(partial.status).toBe('awaiting_approval');
    expect(partial.approval).toBeUndefined();
    expect(partial.pendingApproval?.approvedBy?.map((a) => a.by)).toEqual(['bob']);
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);

    expect(await decide('carol')).toMatchObject({ decision: 'approve', by: 'carol', complete: true, approvals: ['bob', 'carol'] });
    // Still verifying (time is locked), so the request is still there, already decided.
    expect(await updateRejection(decide('alice', 'deny'))).toBe('step 1 was already approved by carol');

    const final = await i.handle.result();
    expect(final.status).toBe('resolved');
    expect(final.approval).toMatchObject({ decision: 'approve', by: 'carol', with: ['bob'] });
    expect(appliedFor(h.demo, i.incidentId)).toBe(1);
    const t = await timeline(i.handle);
    expect(entries(t, 'approval').map((e) => e.message)).toEqual([
      expect.stringMatching(/^approval needed for step 1\/1 \(restart\): POST .*\/remediate — risk high; approvers: alice, bob, carol \(four-eyes: 2 different approvers\)/),
      'step 1/1 (restart): 1 of 2 approvals: bob; four-eyes: waiting for a different approver',
      'step 1/1 (restart) approved by bob and carol (four-eyes: 2 of 2)',
    ]);
  });

  it('four-eyes: a deny by any approver denies, even after a first approval', async () => {
    h.demo.state.fault = 'outage';
    const i = await startIncident(h, approvalPlaybook(['alice', 'bob'], true));
    await awaitingApproval(i);
    expect(await signed().decide(i.handle.workflowId, { decision: 'approve', user: 'alice' })).toMatchObject({ complete: false });
    expect(await signed().decide(i.handle.workflowId, { decision: 'deny', user: 'bob', reason: 'not now' })).toMatchObject({ decision: 'deny', by: 'bob' });
    const final = await i.handle.result();
    expect(final.status).toBe('escalated');
    expect(final.escalationReason).toBe('step 1/1 (restart) denied by bob: not now');
    expect(appliedFor(h.demo, i.incidentId)).toBe(0);
  });
});
