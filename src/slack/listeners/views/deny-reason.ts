// The deny modal's submission → Temporal Update with the reason. Slack waits 3 seconds for the
// answer, so only the local check (a reason is given) answers inside the modal; the submission is
// acknowledged before anything slow (the status query, the user-group check, the Update) and the
// clicker hears the outcome privately in the incident's thread. The request message itself is
// rewritten by the Slack sink once the denial is in the timeline (one writer per message).
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { WorkflowNotFoundError } from '@temporalio/client';
import { NotFoundError, RejectedError } from '../../../incidents/api.js';
import { queryChecked, statusQuery } from '../../../../workflows/contracts.js';
import { DENY_REASON_ACTION, DENY_REASON_BLOCK, parseDenyMeta } from '../../ui/approval.js';
import { esc } from '../../ui/escape.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

export const denyReasonSubmitted =
  (deps: ListenerDeps) =>
  async ({ ack, body, view, client }: Args): Promise<void> => {
    const user = body.user.id;
    const reason = view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_ACTION]?.value?.trim() ?? '';
    const fieldError = (text: string) => ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: text } });
    if (reason.length < 3) return void (await fieldError('Please say why (at least 3 characters).'));
    const meta = parseDenyMeta(view.private_metadata);
    if (!meta) return void (await fieldError('This form lost its incident reference; nothing was changed.'));
    await ack();
    const tell = (text: string) => client.chat.postEphemeral({ channel: meta.channel, user, text, thread_ts: meta.thread ?? meta.ts });
    try {
      const status = await queryChecked(deps.client.workflow.getHandle(meta.workflowId), statusQuery);
      const request = status.pendingApproval;
      const via = request ? await deps.access.groupVia(request.approvers, user) : undefined;
      await deps.api.decide(meta.workflowId, { decision: 'deny', user, reason, step: meta.step, ...(meta.request !== undefined ? { request: meta.request } : {}), ...(via ? { via } : {}) });
    } catch (err) {
      if (err instanceof RejectedError) return void (await tell(`:no_entry: Not denied: ${esc(err.message)}. Nothing was changed.`));
      if (err instanceof NotFoundError || err instanceof WorkflowNotFoundError) return void (await tell(':information_source: This incident is no longer running; nothing was changed.'));
      deps.log.error({ err, workflowId: meta.workflowId }, 'deny failed');
      await tell(':warning: medic could not record your denial right now (Temporal unreachable?). Please try again.');
    }
  };
