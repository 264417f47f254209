// Approve button → Temporal Update on the incident. The workflow's validator is the judge: a
// refusal reaches only the clicker (ephemeral) and changes nothing; success rewrites the request
// message so everyone sees who approved, with the buttons gone.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { WorkflowNotFoundError } from '@temporalio/client';
import { NotFoundError, RejectedError } from '../../../incidents/api.js';
import { statusQuery } from '../../../../workflows/contracts.js';
import { approvalMessage, decodeRef } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export const approveStep =
  (deps: ListenerDeps) =>
  async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? body.container.channel_id;
    const messageTs = body.message?.ts ?? body.container.message_ts;
    const threadTs = (body.message?.thread_ts as string | undefined) ?? messageTs;
    const tell = (text: string) => client.chat.postEphemeral({ channel, user, text, thread_ts: threadTs });
    const ref = decodeRef(action.value);
    if (!ref) return void (await tell(':warning: This button carries no incident reference; nothing was changed.'));
    try {
      const status = await deps.client.workflow.getHandle(ref.workflowId).query(statusQuery);
      const request = status.pendingApproval;
      // Group approvers (@handle) count only once Slack confirms the membership.
      const via = request ? await deps.access.groupVia(request.approvers, user) : undefined;
      const r = await deps.api.decide(ref.workflowId, { decision: 'approve', user, step: ref.step, ...(via ? { via } : {}) });
      if (request && messageTs) {
        const m = approvalMessage(ref.workflowId, request, { decision: 'approve', by: r.by, at: r.at });
        await client.chat.update({ channel, ts: messageTs, text: m.text, blocks: m.blocks });
      }
    } catch (err) {
      if (err instanceof RejectedError) return void (await tell(`:no_entry: Not approved: ${err.message}. Nothing was changed.`));
      if (err instanceof NotFoundError || err instanceof WorkflowNotFoundError) return void (await tell(':information_source: This incident is no longer running; nothing was changed.'));
      deps.log.error({ err, workflowId: ref.workflowId }, 'approve failed');
      await tell(':warning: medic could not record your approval right now (Temporal unreachable?). Please try again.');
    }
  };
