// The part every incident button shares: ack, decode the button's reference, query the incident's
// status, and answer the clicker privately — refusals, ended incidents and failures alike.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { WorkflowNotFoundError } from '@temporalio/client';
import { NotFoundError, RejectedError } from '../../../incidents/api.js';
import { queryChecked, statusQuery, type IncidentStatus } from '../../../../workflows/contracts.js';
import type { ListenerDeps } from '../../deps.js';
import { esc } from '../../ui/escape.js';

export type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export interface ButtonContext<R> {
  args: ButtonArgs;
  ref: R;
  status: IncidentStatus;
  user: string;
  channel: string;
  messageTs: string | undefined;
  /** Ephemeral reply to the clicker, in the incident's thread. */
  tell: (text: string) => Promise<unknown>;
}

export interface IncidentButton<R extends { workflowId: string }> {
  decode: (value: string | undefined) => R | undefined;
  /** Prefix of the reply when the workflow's validator refuses, e.g. "Not approved". */
  refused: string;
  /** Logged, with the error, when the Update could not be made. */
  logMessage: string;
  /** Told to the clicker when the Update could not be made. */
  failed: string;
  run: (ctx: ButtonContext<R>) => Promise<void>;
}

export const incidentButton =
  <R extends { workflowId: string }>(deps: ListenerDeps, button: IncidentButton<R>) =>
  async (args: ButtonArgs): Promise<void> => {
    const { ack, body, action, client } = args;
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? body.container.channel_id;
    const messageTs = body.message?.ts ?? body.container.message_ts;
    const threadTs = (body.message?.thread_ts as string | undefined) ?? messageTs;
    const tell = (text: string) => client.chat.postEphemeral({ channel, user, text, thread_ts: threadTs });
    const ref = button.decode(action.value);
    if (!ref) return void (await tell(':warning: This button carries no incident reference; nothing was changed.'));
    try {
      const status = await queryChecked(deps.client.workflow.getHandle(ref.workflowId), statusQuery);
      await button.run({ args, ref, status, user, channel, messageTs, tell });
    } catch (err) {
      if (err instanceof RejectedError) return void (await tell(`:no_entry: ${button.refused}: ${esc(err.message)}. Nothing was changed.`));
      if (err instanceof NotFoundError || err instanceof WorkflowNotFoundError) return void (await tell(':information_source: This incident is no longer running; nothing was changed.'));
      deps.log.error({ err, workflowId: ref.workflowId }, button.logMessage);
      await tell(button.failed);
    }
  };
