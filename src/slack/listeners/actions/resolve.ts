// "Resolve" on the escalation ladder → the `resolve` Update: the incident ends as resolved by the
// clicker, and a PagerDuty page it sent is resolved (same dedup_key). Allowed: whoever took the
// incident, members of the ladder's user groups, and medic admins; anyone else is told why.
import { decodeLadderRef } from '../../ui/ladder.js';
import type { ListenerDeps } from '../../deps.js';
import { incidentButton } from './incident-button.js';

export const resolveIncident = (deps: ListenerDeps) =>
  incidentButton(deps, {
    decode: decodeLadderRef,
    refused: 'Not resolved',
    logMessage: 'resolve failed',
    failed: ':warning: medic could not resolve the incident right now (Temporal unreachable?). Please try again.',
    run: async ({ ref, status, user, tell }) => {
      const may = status.owner?.by === user || (await deps.access.allowed([...deps.admins, ...(status.ladder?.groups ?? [])], user));
      if (!may) return void (await tell(':no_entry: Only whoever took the incident, members of its escalation groups or medic admins may resolve it. Nothing was changed.'));
      await deps.api.resolve(ref.workflowId, { user, reason: 'resolved from Slack' });
    },
  });
