// "Take it" on a slack-group rung's request → the `take` Update: the clicker owns the incident and
// the escalation ladder stops. Members of the rung's user group (or medic admins) may take it;
// anyone else, or a click that comes too late, is told why privately and nothing changes. The
// request message is rewritten by the Slack sink (listeners only answer the clicker).
import { decodeLadderRef } from '../../ui/ladder.js';
import type { ListenerDeps } from '../../deps.js';
import { incidentButton } from './incident-button.js';

/** Only a rung's request carries a rung; a ladder reference without one cannot be taken. */
function decodeRungRef(value: string | undefined): { workflowId: string; rung: number } | undefined {
  const ref = decodeLadderRef(value);
  return ref?.rung === undefined ? undefined : { workflowId: ref.workflowId, rung: ref.rung };
}

export const takeIncident = (deps: ListenerDeps) =>
  incidentButton(deps, {
    decode: decodeRungRef,
    refused: 'Not taken',
    logMessage: 'take failed',
    failed: ':warning: medic could not record that you took it (Temporal unreachable?). Please try again.',
    run: async ({ ref, status, user, tell }) => {
      const waiting = status.ladder?.waiting;
      const group = waiting?.rung === ref.rung ? waiting.group : undefined;
      const via = group ? ((await deps.access.groupVia([group], user)) ?? ((await deps.access.allowed(deps.admins, user)) ? 'admin' : undefined)) : undefined;
      if (group && !via) return void (await tell(`:no_entry: Only members of ${group} (or medic admins) may take this incident. Nothing was changed.`));
      // The request message loses its button when the Slack sink publishes the take.
      await deps.api.take(ref.workflowId, { user, rung: ref.rung, ...(via ? { via } : {}) });
    },
  });
