// Prints incident timelines live in the demo terminal. One follower per workflow id, for as long
// as the demo runs: once an incident has closed, a re-fired alert starts a new run under the same
// id (README, How an incident runs), which is a new incident with its own header and end line.
import type { Client } from '@temporalio/client';
import { queryChecked, statusQuery, timelineQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { formatEntry } from '../../src/cli/format.js';

export function temporalUiLink(uiUrl: string, workflowId: string, namespace = 'default'): string {
  return `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

export interface FollowOptions {
  /** Called once per incident when it ends (after its end line is printed). */
  onEnd?: (status: IncidentStatus) => void;
  pollMs?: number;
}

export interface Follower {
  /** Stops polling (resolves when the current poll is done). */
  stop(): Promise<void>;
}

interface Current {
  incidentId: string;
  runId: string; // the latest run seen (continue-as-new moves it on within one incident)
  printed: number; // entries printed so far, counting ones the capped timeline has dropped
  ended: boolean;
}

export function followWorkflow(client: Client, workflowId: string, uiUrl: string, say: (line: string) => void, o: FollowOptions = {}): Follower {
  const pollMs = o.pollMs ?? 300;
  let stopped = false;
  let wake: (() => void) | undefined;
  let current: Current | undefined;
  let lastError = '';

  const end = (c: Current, status: IncidentStatus): void => {
    c.ended = true;
    say(`■ ${status.incidentId}: ${status.status} — ${status.outcome ?? ''}`);
    o.onEnd?.(status);
  };

  const poll = async (): Promise<void> => {
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    // An ended incident's run answers the same queries forever: only look again at a new run.
    if (current?.ended && current.runId === runId) return;
    const run = client.workflow.getHandle(workflowId, runId);
    const [status, early] = await Promise.all([queryChecked(run, statusQuery), queryChecked(run, timelineQuery)]);
    // Two queries, two moments: once the incident has ended its timeline is final, so read it again.
    const timeline = status.endedAt === undefined ? early : await queryChecked(run, timelineQuery);
    if (current?.incidentId !== status.incidentId) {
      // The previous incident closed and a new one started between two polls: print its end first.
      if (current && !current.ended) end(current, await queryChecked(client.workflow.getHandle(workflowId, current.runId), statusQuery));
      current = { incidentId: status.incidentId, runId, printed: 0, ended: false };
      say(`\n▶ incident ${status.incidentId}\n  Temporal UI: ${temporalUiLink(uiUrl, workflowId)}`);
    }
    const c = current;
    c.runId = runId;
    timeline.forEach((e, i) => {
      if (status.timelineDropped + i >= c.printed) say(`  ${formatEntry(e)}`);
    });
    c.printed = Math.max(c.printed, status.timelineDropped + timeline.length);
    if (status.endedAt !== undefined && !c.ended) end(c, status);
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await poll();
        lastError = '';
      } catch (err) {
        const message = (err as Error).message;
        if (message !== lastError) say(`  (cannot query ${workflowId}: ${message})`); // once per distinct problem
        lastError = message;
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, pollMs);
      });
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
