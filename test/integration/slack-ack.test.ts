// Slack's 3-second ack: the stand-in gives up on an interaction that is not acknowledged in time
// (operation_timeout, dev/slack/interact.ts). With Slack's user-group calls made slow (4 s
// each), Approve and the deny modal's submission by group members still acknowledge at once; the
// work (membership check, Temporal Update) happens after, and the request is rewritten by the sink.
import { describe, expect, it } from 'vitest';
import { ACK_DEADLINE_MS } from '../../dev/slack/interact.js';
import { approvalStep, demoPlaybook, perFile } from '../support/fixtures.js';
import { SLACK, startSlackMedic, U, waitUntil } from '../support/slack.js';

const m = perFile(() => startSlackMedic());

const SLOW_MS = 4_000;
const guarded = (name: string, approvers: string[]) => demoPlaybook(m.demo.url, { name, steps: [approvalStep(m.demo.url, { approvers })] });
const pending = (id: string) => waitUntil('the approval request', () => m.approvalMessage(id));
const hasButtons = (id: string) => JSON.stringify(m.slack.message(SLACK.channel, m.approvalMessage(id)!.ts)!.blocks).includes('"button"');

describe('interactions are acknowledged within Slack’s 3 seconds, whatever comes after', () => {
  it('Approve and the deny modal, with 4-second user-group lookups, answer in time and still take effect', async () => {
    m.demo.state.fault = 'outage';
    const approveId = await m.start(guarded('ack-approve', ['@sre-admins']));
    const denyId = await m.start(guarded('ack-deny', ['@oncall']));
    const [approveReq, denyReq] = await Promise.all([pending(approveId), pending(denyId)]);
    m.slack.setLatency('usergroups.list', SLOW_MS);
    m.slack.setLatency('usergroups.users.list', SLOW_MS);
    try {
      let t = Date.now();
      const approve = await m.interact.clickButton(U.dana, approveReq, 'approve_step');
      const approveMs = Date.now() - t;
      expect(approve).toEqual(expect.objectContaining({ status: 200 }));
      expect(approve.late).toBeUndefined();

      await m.interact.clickButton(U.bob, denyReq, 'deny_step');
      const view = await waitUntil('the deny modal', () => m.interact.openViewFor(U.bob));
      t = Date.now();
      const submitted = await m.interact.submitView(U.bob, view.id, { reason: 'the database is migrating' });
      const denyMs = Date.now() - t;
      expect(submitted).toMatchObject({ status: 200, body: '' });
      expect(submitted.late).toBeUndefined();
      console.log(`ack times with ${SLOW_MS} ms user-group lookups: approve ${approveMs} ms, deny modal ${denyMs} ms (deadline ${ACK_DEADLINE_MS} ms)`);
      expect(Math.max(approveMs, denyMs)).toBeLessThan(ACK_DEADLINE_MS);

      // The slow work finished after the ack: both decisions are recorded, the requests rewritten.
      const approved = await waitUntil('approved by dana', async () => ((await m.status(approveId)).approval?.by === U.dana ? m.status(approveId) : undefined), 30_000);
      expect(approved.approval).toMatchObject({ decision: 'approve' });
      const deniedS = await waitUntil('denied by bob', async () => ((await m.status(denyId)).approval?.by === U.bob ? m.status(denyId) : undefined), 30_000);
      expect(deniedS.approval).toMatchObject({ decision: 'deny', reason: 'the database is migrating' });
      await waitUntil('both requests lost their buttons', () => !hasButtons(approveId) && !hasButtons(denyId), 30_000);
      // Listeners never rewrote the requests: each was updated by the sink only, once.
      for (const id of [approveId, denyId]) expect(m.slack.message(SLACK.channel, m.approvalMessage(id)!.ts)!.updates).toBe(1);
    } finally {
      m.slack.setLatency('usergroups.list', 0);
      m.slack.setLatency('usergroups.users.list', 0);
    }
    await m.env.client.workflow.getHandle(denyId).terminate('test done');
  });
});
