// Approve button → Temporal Update on the incident. The workflow's validator is the judge: a
// refusal reaches only the clicker (ephemeral) and changes nothing. The request message is the
// Slack sink's to rewrite (who approved, buttons gone; or "1 of 2 approvals" for four-eyes), once
// the decision is in the timeline: listeners only ever answer the clicker.
import { decodeRef } from '../../ui/approval.js';
import type { ListenerDeps } from '../../deps.js';
import { incidentButton } from './incident-button.js';

export const approveStep = (deps: ListenerDeps) =>
  incidentButton(deps, {
    decode: decodeRef,
    refused: 'Not approved',
    logMessage: 'approve failed',
    failed: ':warning: medic could not record your approval right now (Temporal unreachable?). Please try again.',
    run: async ({ ref, status, user, tell }) => {
      const request = status.pendingApproval;
      // Group approvers (@handle) count only once Slack confirms the membership.
      const via = request ? await deps.access.groupVia(request.approvers, user) : undefined;
      const r = await deps.api.decide(ref.workflowId, { decision: 'approve', user, step: ref.step, ...(ref.request !== undefined ? { request: ref.request } : {}), ...(via ? { via } : {}) });
      if (r.complete === false) await tell(`:ballot_box_with_check: Your approval is recorded (${r.approvals?.length ?? 1} of ${r.needed ?? 2}); four-eyes: a different approver must approve too.`);
    },
  });
