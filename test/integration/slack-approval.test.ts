// Approve / Deny from Slack, end to end on real parts: the Slack sink posts the incident's root
// message, thread and approval request into the stand-in; signed clicks reach real Bolt on
// medic's server; the workflow's Update validator decides.
import { describe, expect, it } from 'vitest';
import { approvalStep, demoPlaybook, perFile } from '../support/fixtures.js';
import { pendingApproval as pendingIn, SLACK, startSlackMedic, U, waitUntil } from '../support/slack.js';
import type { StandInMessage } from '../../dev/slack/server.js';
import { groupOf } from '../../workflows/contracts-timeline.js';
import { approvalMessage } from '../../src/slack/ui/approval.js';

const m = perFile(() => startSlackMedic());

let n = 0;
const approvalPlaybook = (over: { fourEyes?: boolean; approvalTimeout?: string; approvers?: string[] } = {}) =>
  demoPlaybook(m.demo.url, {
    name: `needs-approval-${++n}`,
    steps: [approvalStep(m.demo.url, { approvers: over.approvers ?? [U.alice, '@oncall'], fourEyes: over.fourEyes ?? false, approvalTimeout: over.approvalTimeout ?? '2m' })],
  });

const pendingApproval = (workflowId: string): Promise<StandInMessage> => pendingIn(m, workflowId);
const hasButtons = (msg: StandInMessage | undefined) => JSON.stringify(msg?.blocks ?? []).includes('approve_step');
const ephemeralsFor = (user: string) => m.slack.ephemerals.filter((e) => e.user === user).map((e) => e.text);

describe('Slack approvals through Bolt and Temporal Updates', () => {
  it('full loop: alert → root message + thread → approval → Approve by an approver → action → verified → root shows Resolved', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook());
    const request = await pendingApproval(id);
    const root = m.rootOf(id)!;
    expect(request.thread_ts).toBe(root.ts);
    const text = JSON.stringify(request.blocks);
    for (const s of ['POST', '/remediate', 'high', '<@U0ALICE>, @oncall', 'Expires']) expect(text).toContain(s);
    await waitUntil('root shows Awaiting approval', () => JSON.stringify(m.rootOf(id)!.blocks).includes('Awaiting approval'));

    const res = await m.interact.clickButton(U.alice, request, 'approve_step');
    expect(res.status).toBe(200);
    const done = await waitUntil('resolved', async () => ((await m.status(id)).status === 'resolved' ? m.status(id) : undefined));
    expect(done.approval).toMatchObject({ decision: 'approve', by: U.alice });
    expect(Object.keys(m.demo.state.applied)).toHaveLength(1); // the action ran once

    const rewritten = m.slack.message(SLACK.channel, request.ts)!;
    expect(hasButtons(rewritten)).toBe(false);
    expect(JSON.stringify(rewritten.blocks)).toMatch(/Approved by <@U0ALICE> at \d\d:\d\d UTC/);
    await waitUntil('root message resolved', () => JSON.stringify(m.rootOf(id)!.blocks).includes('Resolved'));
    expect(m.rootOf(id)!.updates).toBeGreaterThan(0);
    expect(m.slack.calls.some((c) => c.method === 'chat.getPermalink' && c.ok)).toBe(true);
    // Every timeline entry is in the thread exactly once, in order.
    const timeline = await m.timeline(id);
    const threadText = () => m.threadOf(id).flatMap((x) => (x.blocks as { text?: { text: string } }[]).map((b) => b.text?.text ?? '')).join('\n');
    await waitUntil('thread complete', () => threadText().includes('resolved: healed'));
    const thread = threadText();
    let at = -1;
    // The request itself is the approval message (checked above); every other entry is a line.
    for (const e of timeline.filter((x) => x.kind !== 'approval.requested')) {
      const needle = e.message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').slice(0, 60);
      const pos = thread.indexOf(needle, at + 1);
      expect(pos, `timeline entry ${e.seq} "${e.message}" in thread after ${at}`).toBeGreaterThan(at);
      at = pos;
    }
    const lines = thread.split('\n').filter((l) => !l.includes('Approval needed'));
    expect(lines.filter((l) => l.startsWith(':'))).toHaveLength(timeline.filter((e) => e.kind !== 'approval.requested').length);
    expect(m.slack.calls.filter((c) => !c.ok && c.status !== 429)).toEqual([]);
  });

  it('a non-approver is told why, privately, and nothing changes', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook());
    const request = await pendingApproval(id);
    const res = await m.interact.clickButton(U.carol, request, 'approve_step');
    expect(res.status).toBe(200);
    const told = await waitUntil('ephemeral to carol', () => ephemeralsFor(U.carol).find((t) => t.includes('may not decide')));
    expect(told).toContain('Nothing was changed');
    // A button whose incident is unknown (or long gone): told so, nothing else happens.
    const ghost = { ...request, blocks: JSON.parse(JSON.stringify(request.blocks).split(id).join('incident:ghost:0123456789ab')) as unknown[] };
    await m.interact.clickButton(U.carol, ghost, 'approve_step');
    await waitUntil('told it is gone', () => ephemeralsFor(U.carol).find((t) => t.includes('no longer running')));
    const s = await m.status(id);
    expect(s.status).toBe('awaiting_approval');
    expect(s.approval).toBeUndefined();
    expect(hasButtons(m.slack.message(SLACK.channel, request.ts))).toBe(true);
    await m.env.client.workflow.getHandle(id).terminate('test done');
  });

  it('four-eyes: the requester is refused; a member of the @oncall approver group and another approver make two', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook({ fourEyes: true, approvers: [U.alice, U.root, '@oncall'] }), { requestedBy: U.alice });
    const request = await pendingApproval(id);
    await m.interact.clickButton(U.alice, request, 'approve_step');
    expect(await waitUntil('four-eyes refusal', () => ephemeralsFor(U.alice).find((t) => t.includes('four-eyes')))).toContain('may not approve');
    expect((await m.status(id)).approval).toBeUndefined();
    await m.interact.clickButton(U.bob, request, 'approve_step');
    expect(await waitUntil('bob told his approval is partial', () => ephemeralsFor(U.bob).find((t) => t.includes('1 of 2')))).toContain('a different approver must approve too');
    expect((await m.status(id)).approval).toBeUndefined();
    await m.interact.clickButton(U.root, request, 'approve_step');
    const s = await waitUntil('approved by root', async () => ((await m.status(id)).approval?.by === U.root ? m.status(id) : undefined));
    expect(s.approval).toMatchObject({ decision: 'approve', with: [U.bob] });
    await waitUntil('resolved', async () => (await m.status(id)).status === 'resolved');
  });

  it('double click by two approvers: exactly one wins, the other is told', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook());
    const request = await pendingApproval(id);
    const before = m.slack.ephemerals.length;
    const [a, b] = await Promise.all([m.interact.clickButton(U.alice, request, 'approve_step'), m.interact.clickButton(U.bob, request, 'approve_step')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const s = await waitUntil('decided', async () => ((await m.status(id)).approval ? m.status(id) : undefined));
    const winner = s.approval!.by;
    const loser = winner === U.alice ? U.bob : U.alice;
    expect([U.alice, U.bob]).toContain(winner);
    const told = await waitUntil('loser told', () => m.slack.ephemerals.slice(before).find((e) => e.user === loser));
    expect(told.text).toContain(`already approved by ${winner}`);
    expect(m.slack.ephemerals.slice(before).filter((e) => e.user === winner)).toEqual([]);
    expect((await m.timeline(id)).filter((e) => groupOf(e.kind) === 'approval' && /approved by/.test(e.message))).toHaveLength(1);
    await waitUntil('resolved', async () => (await m.status(id)).status === 'resolved');
  });

  it('a click after expiry is refused; the request shows it expired and the incident escalates', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook({ approvalTimeout: '2s' }));
    const posted = await waitUntil('the approval message', () => m.approvalMessage(id));
    await waitUntil('escalated', async () => (await m.status(id)).status === 'escalated', 15_000);
    // A client still showing the request as first posted (under load the sink may publish it only
    // after it expired, already without buttons): the stale click is refused all the same.
    const pending = (await m.status(id)).pendingApproval!;
    const request = { ...posted, blocks: approvalMessage(id, pending).blocks };
    await m.interact.clickButton(U.alice, request, 'approve_step');
    expect(await waitUntil('expiry refusal', () => ephemeralsFor(U.alice).find((t) => t.includes('expired')))).toContain('Not approved');
    expect((await m.status(id)).approval?.decision).toBe('expired');
    await waitUntil('request marked expired', () => JSON.stringify(m.slack.message(SLACK.channel, request.ts)!.blocks).includes('Expired unanswered'));
    expect(hasButtons(m.slack.message(SLACK.channel, request.ts))).toBe(false);
    await waitUntil('root shows Escalated', () => JSON.stringify(m.rootOf(id)!.blocks).includes('Escalated'));
    await m.env.client.workflow.getHandle(id).terminate('test done');
  });

  it('Deny opens a modal, acknowledged at once; a non-approver is told privately; the reason goes into the timeline and the incident escalates', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook());
    const request = await pendingApproval(id);
    await m.interact.clickButton(U.carol, request, 'deny_step');
    const carolView = await waitUntil('modal for carol', () => m.interact.openViewFor(U.carol));
    const refused = await m.interact.submitView(U.carol, carolView.id, { reason: 'I do not like it' });
    // Acknowledged before the Update (Slack's 3 s): the refusal comes as an ephemeral in the thread.
    expect(refused).toMatchObject({ status: 200, body: '' });
    const told = await waitUntil('carol told why', () => m.slack.ephemerals.find((e) => e.user === U.carol && e.text.includes('Not denied')));
    expect(told.text).toContain('may not decide');
    expect(told.thread_ts).toBe(m.rootOf(id)!.ts);
    expect((await m.status(id)).approval).toBeUndefined();
    expect(hasButtons(m.slack.message(SLACK.channel, request.ts))).toBe(true);

    await m.interact.clickButton(U.alice, request, 'deny_step');
    const view = await waitUntil('modal for alice', () => m.interact.openViewFor(U.alice));
    expect(JSON.stringify(view.view.blocks)).toContain('Reason');
    const tooShort = await m.interact.submitView(U.alice, view.id, { reason: 'no' });
    expect(tooShort.body).toMatchObject({ response_action: 'errors' });
    const ok = await m.interact.submitView(U.alice, view.id, { reason: 'database migration running' });
    expect(ok).toMatchObject({ status: 200, body: '' });
    const s = await waitUntil('escalated', async () => ((await m.status(id)).status === 'escalated' ? m.status(id) : undefined));
    expect(s.approval).toMatchObject({ decision: 'deny', by: U.alice, reason: 'database migration running' });
    const timeline = await m.timeline(id);
    expect(timeline.some((e) => groupOf(e.kind) === 'approval' && e.message.includes('denied by U0ALICE: database migration running'))).toBe(true);
    expect(timeline.some((e) => groupOf(e.kind) === 'escalation')).toBe(true);
    expect(Object.keys(m.demo.state.applied)).not.toContain(expect.stringContaining(id));
    await waitUntil('thread shows the denial', () => m.threadOf(id).some((x) => JSON.stringify(x.blocks).includes('database migration running')));
    // The sink posts the thread lines, then rewrites the request (the next API call): wait for it.
    await waitUntil('the request rewritten as denied', () => JSON.stringify(m.slack.message(SLACK.channel, request.ts)!.blocks).includes('Denied by <@U0ALICE>') || undefined);
    await m.env.client.workflow.getHandle(id).terminate('test done');
  });

  it('medic stayed under Slack\'s limits by itself: not one 429 from the stand-in in this whole file', () => {
    expect(m.slack.calls.length).toBeGreaterThan(50);
    expect(m.slack.calls.filter((c) => c.status === 429)).toEqual([]);
  });

  it('forged signature, stale timestamp and a replayed request are refused with 401, and nothing changes', async () => {
    m.demo.state.fault = 'outage';
    const id = await m.start(approvalPlaybook());
    const request = await pendingApproval(id);
    const forged = await m.interact.clickButton(U.alice, request, 'approve_step', { signature: `v0=${'0'.repeat(64)}` });
    expect(forged).toMatchObject({ status: 401, body: { error: 'invalid signature' } });
    const stale = await m.interact.clickButton(U.alice, request, 'approve_step', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale).toMatchObject({ status: 401, body: { error: 'stale or invalid request timestamp' } });
    const wrongSecret = await m.interact.slashCommand(U.root, '/medic', 'pause', SLACK.channel, { signature: 'v0=deadbeef' });
    expect(wrongSecret.status).toBe(401);
    const s = await m.status(id);
    expect(s.approval).toBeUndefined();
    expect(hasButtons(m.slack.message(SLACK.channel, request.ts))).toBe(true);

    // A genuine request is accepted once; the same bytes sent again are a replay.
    const carolClick = await m.interact.clickButton(U.carol, request, 'approve_step');
    expect(carolClick.status).toBe(200);
    const replayed = await carolClick.replay();
    expect(replayed).toMatchObject({ status: 401, body: { error: 'replayed request' } });
    await waitUntil('carol told once', () => ephemeralsFor(U.carol).length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect((await m.status(id)).approval).toBeUndefined();
    await m.env.client.workflow.getHandle(id).terminate('test done');
  });
});
