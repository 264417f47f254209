// "Take it" on a slack-group rung's request → the `take` Update: the clicker owns the incident and
// the escalation ladder stops. Members of the rung's user group (or medic admins) may take it;
// anyone else, or a click that comes too late, is told why privately and nothing changes.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { WorkflowNotFoundError } from '@temporalio/client';
import { NotFoundError, RejectedError } from '../../../incidents/api.js';
import { statusQuery } from '../../../../workflows/contracts.js';
import { decodeLadderRef, takeMessage } from '../../ui/ladder.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

export const takeIncident =
  (deps: ListenerDeps) =>
  async ({ ack, body, action, client }: Args): Promise<void> => {
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? body.container.channel_id;
    const messageTs = body.message?.ts ?? body.container.message_ts;
    const threadTs = (body.message?.thread_ts as string | undefined) ?? messageTs;
    const tell = (text: string) => client.chat.postEphemeral({ channel, user, text, thread_ts: threadTs });
    const ref = decodeLadderRef(action.value);
    if (!ref || ref.rung === undefined) return void (await tell(':warning: This button carries no incident reference; nothing was changed.'));
    try {
      const status = await deps.client.workflow.getHandle(ref.workflowId).query(statusQuery);
      const waiting = status.ladder?.waiting;
      const group = waiting?.rung === ref.rung ? waiting.group : undefined;
      const via = group ? ((await deps.access.groupVia([group], user)) ?? ((await deps.access.allowed(deps.admins, user)) ? 'admin' : undefined)) : undefined;
      if (group && !via) return void (await tell(`:no_entry: Only members of ${group} (or medic admins) may take this incident. Nothing was changed.`));
      const r = await deps.api.take(ref.workflowId, { user, rung: ref.rung, ...(via ? { via } : {}) });
      if (waiting && messageTs) {
        const mention = mentionIn((body.message?.blocks as unknown[] | undefined) ?? []) ?? waiting.group;
        const m = takeMessage(ref.workflowId, waiting, mention, { outcome: 'taken', by: r.by, at: r.at });
        await client.chat.update({ channel, ts: messageTs, text: m.text, blocks: m.blocks });
      }
    } catch (err) {
      if (err instanceof RejectedError) return void (await tell(`:no_entry: Not taken: ${err.message}. Nothing was changed.`));
      if (err instanceof NotFoundError || err instanceof WorkflowNotFoundError) return void (await tell(':information_source: This incident is no longer running; nothing was changed.'));
      deps.log.error({ err, workflowId: ref.workflowId }, 'take failed');
      await tell(':warning: medic could not record that you took it (Temporal unreachable?). Please try again.');
    }
  };

/** The group mention the request was posted with, so the rewritten message keeps it. */
function mentionIn(blocks: unknown[]): string | undefined {
  return /<!subteam\^[A-Z0-9]+(?:\|[^>]*)?>/.exec(JSON.stringify(blocks))?.[0];
}
