// Approve button → Temporal Update on the incident. The workflow's validator is the judge: a
// refusal reaches only the clicker (ephemeral) and changes nothing; success rewrites the request
// message so everyone sees who approved, with the buttons gone.
import { approvalMessage, decodeRef } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';
import { incidentButton } from './incident-button.js';

export const approveStep = (deps: ListenerDeps) =>
  incidentButton(deps, {
    decode: decodeRef,
    refused: 'Not approved',
    logMessage: 'approve failed',
    failed: ':warning: medic could not record your approval right now (Temporal unreachable?). Please try again.',
    run: async ({ args: { client }, ref, status, user, channel, messageTs }) => {
      const request = status.pendingApproval;
      // Group approvers (@handle) count only once Slack confirms the membership.
      const via = request ? await deps.access.groupVia(request.approvers, user) : undefined;
      const r = await deps.api.decide(ref.workflowId, { decision: 'approve', user, step: ref.step, ...(via ? { via } : {}) });
      if (request && messageTs) {
        const m = approvalMessage(ref.workflowId, request, { decision: 'approve', by: r.by, at: r.at });
        await client.chat.update({ channel, ts: messageTs, text: m.text, blocks: m.blocks });
      }
    },
  });
