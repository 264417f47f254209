// Prints an incident's timeline live in the terminal (polling its query), until it ends.
import type { Client } from '@temporalio/client';
import { statusQuery, timelineQuery } from '../../workflows/contracts.js';
import { formatEntry } from '../../src/cli/format.js';

export function temporalUiLink(uiUrl: string, workflowId: string, namespace = 'default'): string {
  return `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Resolves with the incident's final status. */
export async function followIncident(
  client: Client,
  workflowId: string,
  uiUrl: string,
  say: (line: string) => void,
  pollMs = 300,
): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  say(`\n▶ incident ${workflowId}\n  Temporal UI: ${temporalUiLink(uiUrl, workflowId)}`);
  let printed = 0; // entries printed so far, counting ones the capped timeline has dropped
  for (;;) {
    try {
      const [status, timeline] = await Promise.all([handle.query(statusQuery), handle.query(timelineQuery)]);
      const first = status.timelineDropped;
      timeline.forEach((e, i) => {
        if (first + i >= printed) say(`  ${formatEntry(e)}`);
      });
      printed = Math.max(printed, first + timeline.length);
      if (status.endedAt !== undefined) {
        say(`■ ${status.incidentId}: ${status.status} — ${status.outcome ?? ''}`);
        return status.status;
      }
    } catch (err) {
      say(`  (cannot query ${workflowId}: ${(err as Error).message})`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
