// Approve button → Temporal Update on the incident. The workflow's validator is the judge: a
// refusal reaches only the clicker (ephemeral) and changes nothing; success rewrites the request
// message so everyone sees who approved, with the buttons gone — or, for a four-eyes step still
// waiting for a second, different approver, with "1 of 2 approvals: @alice" and its buttons.
import { approvalMessage, decodeRef } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';
import { incidentButton } from './incident-button.js';

export const approveStep = (deps: ListenerDeps) =>
  incidentButton(deps, {
    decode: decodeRef,
    refused: 'Not approved',
    logMessage: 'approve failed',
    failed: ':warning: medic could not record your approval right now (Temporal unreachable?). Please try again.',
    run: async ({ args: { client }, ref, status, user, channel, messageTs, tell }) => {
      const request = status.pendingApproval;
      // Group approvers (@handle) count only once Slack confirms the membership.
      const via = request ? await deps.access.groupVia(request.approvers, user) : undefined;
      const r = await deps.api.decide(ref.workflowId, { decision: 'approve', user, step: ref.step, ...(ref.request !== undefined ? { request: ref.request } : {}), ...(via ? { via } : {}) });
      if (request && messageTs) {
        const approvedBy = (r.approvals ?? []).map((by) => ({ by, at: r.at }));
        const m =
          r.complete === false
            ? approvalMessage(ref.workflowId, { ...request, approvedBy })
            : approvalMessage(ref.workflowId, request, { decision: 'approve', by: r.by, at: r.at, with: (r.approvals ?? []).slice(0, -1) });
        await client.chat.update({ channel, ts: messageTs, text: m.text, blocks: m.blocks });
      }
      if (r.complete === false) await tell(`:ballot_box_with_check: Your approval is recorded (${r.approvals?.length ?? 1} of ${r.needed ?? 2}); four-eyes: a different approver must approve too.`);
    },
  });
