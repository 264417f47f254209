// Deny button → a modal asking why (the reason goes into the timeline and the audit). Opening it
// comes first: the trigger id Slack hands us is valid for 3 seconds only.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decodeRef, denyReasonModal } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export const denyStep =
  (deps: ListenerDeps) =>
  async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    const ref = decodeRef(action.value);
    const channel = body.channel?.id ?? body.container.channel_id;
    const ts = body.message?.ts ?? body.container.message_ts;
    const thread = (body.message?.thread_ts as string | undefined) ?? (body.container.thread_ts as string | undefined);
    if (!ref || !ts) {
      await client.chat.postEphemeral({ channel, user: body.user.id, text: ':warning: This button carries no incident reference; nothing was changed.' });
      return;
    }
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(ref, `step ${ref.step + 1}`, { channel, ts, ...(thread ? { thread } : {}) }) });
    } catch (err) {
      deps.log.error({ err, workflowId: ref.workflowId }, 'could not open the deny modal');
    }
  };
