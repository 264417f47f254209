// Who sees which incident in Slack's read commands (/medic status, /medic incidents, App Home).
// A playbook (or runbook) with `owners` shows its incidents only to them (user ids, or members of
// @groups read through Slack's usergroups API) and to medic admins; one without owners is visible
// to everyone. An incident whose playbook this server does not know (removed or renamed since) has
// no known owners: only admins see it. The answer always says how many were hidden.
import type { IncidentSummary } from '../incidents/api.js';
import type { ListenerDeps } from './deps.js';

type Deps = Pick<ListenerDeps, 'access' | 'admins' | 'playbooks' | 'runbooks'>;

/** The playbook name in a workflow id (`incident:<playbook>:<hash>`, src/playbooks/match.ts). */
export const playbookOfWorkflowId = (workflowId: string): string | undefined => /^incident:([a-z0-9-]+):/.exec(workflowId)?.[1];

/** A check of one playbook name, for one user; group lookups are made once per playbook. */
export type MaySee = (playbook: string | undefined) => Promise<boolean>;

export async function viewerOf(deps: Deps, user: string): Promise<MaySee> {
  const admin = await deps.access.allowed(deps.admins, user);
  const owners = new Map<string, string[]>();
  for (const p of [...deps.playbooks(), ...deps.runbooks()]) owners.set(p.name, p.owners ?? []);
  const answers = new Map<string, Promise<boolean>>();
  return async (playbook) => {
    if (admin) return true;
    const list = playbook === undefined ? undefined : owners.get(playbook);
    if (list === undefined) return false;
    if (list.length === 0) return true;
    const known = answers.get(playbook!) ?? deps.access.allowed(list, user);
    answers.set(playbook!, known);
    return known;
  };
}

export interface Visible {
  shown: IncidentSummary[];
  hidden: number;
}

export async function visibleIncidents(maySee: MaySee, list: IncidentSummary[]): Promise<Visible> {
  const allowed = await Promise.all(list.map((i) => maySee(playbookOfWorkflowId(i.workflowId))));
  const shown = list.filter((_, n) => allowed[n]);
  return { shown, hidden: list.length - shown.length };
}

/** The line saying what was left out, or '' when nothing was. */
export const hiddenLine = (hidden: number): string =>
  hidden === 0 ? '' : `${hidden} incident${hidden === 1 ? '' : 's'} of other teams hidden (playbook owners decide who sees them)`;
