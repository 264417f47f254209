// Gathers what App Home shows (governor state, open incidents, the last 7 days from Temporal
// visibility) and publishes it for one user.
import type { WebClient } from '@slack/web-api';
import { INCIDENT_WORKFLOW_TYPE, SearchAttributes } from '../../workflows/contracts.js';
import type { ListenerDeps } from './deps.js';
import { homeView, type WeekStats } from './ui/home.js';
import { viewerOf, visibleIncidents } from './visibility.js';

const WEEK_MS = 7 * 24 * 3_600_000;

export async function weekStats(deps: ListenerDeps, now = Date.now()): Promise<WeekStats> {
  const since = new Date(now - WEEK_MS).toISOString();
  const query = `WorkflowType = '${INCIDENT_WORKFLOW_TYPE}' AND TaskQueue = '${deps.taskQueue}' AND ExecutionStatus != 'Running' AND StartTime > '${since}'`;
  let autoResolved = 0;
  let escalated = 0;
  let recoverMs = 0;
  for await (const wf of deps.client.workflow.list({ query })) {
    const status = wf.typedSearchAttributes.get(SearchAttributes.status);
    if (status === 'escalated') escalated += 1;
    if (status === 'resolved') {
      autoResolved += 1;
      if (wf.closeTime) recoverMs += wf.closeTime.getTime() - wf.startTime.getTime();
    }
  }
  return { autoResolved, escalated, ...(autoResolved > 0 ? { mttrMs: recoverMs / autoResolved } : {}) };
}

// Building a view takes several queries, so two requests for one user (Home opened, then a button
// clicked) can finish out of order: a view older than the one already published is dropped, so a
// refusal notice is never overwritten by a slower plain view.
let requests = 0;
const lastPublished = new Map<string, number>();

export async function publishHome(deps: ListenerDeps, web: WebClient, user: string, notice?: string): Promise<void> {
  const request = ++requests;
  const [gov, all, week, maySee] = await Promise.all([deps.api.governorState().catch(() => undefined), deps.api.list(), weekStats(deps), viewerOf(deps, user)]);
  // Only the incidents this user may see (playbook owners); the view says how many are hidden.
  const { shown: open, hidden } = await visibleIncidents(maySee, all);
  if ((lastPublished.get(user) ?? 0) > request) return;
  lastPublished.set(user, request);
  await web.views.publish({ user_id: user, view: homeView({ pause: gov?.pause ?? { paused: false }, open, week, hidden, ...(notice ? { notice } : {}) }) });
}
