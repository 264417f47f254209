// "Resolve" on the escalation ladder → the `resolve` Update: the incident ends as resolved by the
// clicker, and a PagerDuty page it sent is resolved (same dedup_key). Allowed: whoever took the
// incident, members of the ladder's user groups, and medic admins; anyone else is told why.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { WorkflowNotFoundError } from '@temporalio/client';
import { NotFoundError, RejectedError } from '../../../incidents/api.js';
import { statusQuery } from '../../../../workflows/contracts.js';
import { decodeLadderRef } from '../../ui/ladder.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export const resolveIncident =
  (deps: ListenerDeps) =>
  async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? body.container.channel_id;
    const threadTs = (body.message?.thread_ts as string | undefined) ?? body.message?.ts ?? body.container.message_ts;
    const tell = (text: string) => client.chat.postEphemeral({ channel, user, text, thread_ts: threadTs });
    const ref = decodeLadderRef(action.value);
    if (!ref) return void (await tell(':warning: This button carries no incident reference; nothing was changed.'));
    try {
      const status = await deps.client.workflow.getHandle(ref.workflowId).query(statusQuery);
      const may = status.owner?.by === user || (await deps.access.allowed([...deps.admins, ...(status.ladder?.groups ?? [])], user));
      if (!may) return void (await tell(':no_entry: Only whoever took the incident, members of its escalation groups or medic admins may resolve it. Nothing was changed.'));
      await deps.api.resolve(ref.workflowId, { user, reason: 'resolved from Slack' });
    } catch (err) {
      if (err instanceof RejectedError) return void (await tell(`:no_entry: Not resolved: ${err.message}. Nothing was changed.`));
      if (err instanceof NotFoundError || err instanceof WorkflowNotFoundError) return void (await tell(':information_source: This incident is no longer running; nothing was changed.'));
      deps.log.error({ err, workflowId: ref.workflowId }, 'resolve failed');
      await tell(':warning: medic could not resolve the incident right now (Temporal unreachable?). Please try again.');
    }
  };
