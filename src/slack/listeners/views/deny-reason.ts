// The deny modal's submission → Temporal Update with the reason. The Update answers in
// milliseconds, so the decision is made before ack(): a refusal (not an approver, already
// decided, expired) is shown as a field error inside the modal instead of silently closing it.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { WorkflowNotFoundError } from '@temporalio/client';
import { NotFoundError, RejectedError } from '../../../incidents/api.js';
import { statusQuery } from '../../../../workflows/contracts.js';
import { approvalMessage, DENY_REASON_ACTION, DENY_REASON_BLOCK } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;
interface Meta {
  workflowId: string;
  request?: number;
  step: number;
  channel: string;
  ts: string;
}

export const denyReasonSubmitted =
  (deps: ListenerDeps) =>
  async ({ ack, body, view, client }: Args): Promise<void> => {
    const user = body.user.id;
    const reason = view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_ACTION]?.value?.trim() ?? '';
    const fieldError = (text: string) => ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: text } });
    if (reason.length < 3) return void (await fieldError('Please say why (at least 3 characters).'));
    let meta: Meta;
    try {
      meta = JSON.parse(view.private_metadata) as Meta;
    } catch {
      return void (await fieldError('This form lost its incident reference; nothing was changed.'));
    }
    try {
      const status = await deps.client.workflow.getHandle(meta.workflowId).query(statusQuery);
      const request = status.pendingApproval;
      const via = request ? await deps.access.groupVia(request.approvers, user) : undefined;
      const r = await deps.api.decide(meta.workflowId, { decision: 'deny', user, reason, step: meta.step, ...(Number.isInteger(meta.request) ? { request: meta.request } : {}), ...(via ? { via } : {}) });
      await ack();
      if (request) {
        const m = approvalMessage(meta.workflowId, request, { decision: 'deny', by: r.by, at: r.at, reason });
        await client.chat.update({ channel: meta.channel, ts: meta.ts, text: m.text, blocks: m.blocks });
      }
    } catch (err) {
      if (err instanceof RejectedError) return void (await fieldError(`Not denied: ${err.message}. Nothing was changed.`.slice(0, 2000)));
      if (err instanceof NotFoundError || err instanceof WorkflowNotFoundError) return void (await fieldError('This incident is no longer running; nothing was changed.'));
      deps.log.error({ err, workflowId: meta.workflowId }, 'deny failed');
      await fieldError('medic could not record this right now (Temporal unreachable?). Please try again.');
    }
  };
