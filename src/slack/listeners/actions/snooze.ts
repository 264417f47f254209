// "Snooze <duration>" on the root message → the `snooze` Update: an Alertmanager silence of the
// incident's alerts for that long, by the clicker, recorded in the timeline. The workflow's
// validator applies the approver policy (whoever may approve a step of the playbook; a group
// counts once Slack confirms the membership); anyone else is told why, privately.
import { decodeSnoozeRef } from '../../ui/snooze.js';
import type { ListenerDeps } from '../../deps.js';
import { incidentButton } from './incident-button.js';

export const snoozeIncident = (deps: ListenerDeps) =>
  incidentButton(deps, {
    decode: decodeSnoozeRef,
    refused: 'Not snoozed',
    logMessage: 'snooze failed',
    failed: ':warning: medic could not snooze the incident right now (Temporal unreachable?). Please try again.',
    run: async ({ ref, status, user, tell }) => {
      const via = await deps.access.groupVia(status.snoozeApprovers ?? [], user);
      await deps.api.snooze(ref.workflowId, { user, duration: ref.duration, ...(via ? { via } : {}) });
      await tell(`:zzz: Snoozed for ${ref.duration}: the incident's alerts are silenced in Alertmanager; the thread records it.`);
    },
  });
