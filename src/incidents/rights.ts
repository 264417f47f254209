// Who may decide, take or resolve an incident through the operator API: the same rules the Slack
// buttons apply (src/slack/listeners/actions/{approve,take,resolve}.ts), with the operator's
// configured `groups` standing in for the Slack user-group membership Slack looks up, and the
// admin scope standing in for slack.admins. Pure functions over the incident's status; the
// workflow's own validators still judge what they judge (expiry, four-eyes, already decided).
import type { IncidentStatus } from '../../workflows/contracts.js';

export interface Actor {
  user: string;
  /** User groups (@handle) the operator counts as a member of (config operators[].groups). */
  groups: string[];
  /** Holds the admin scope: like a Slack medic admin. */
  admin: boolean;
}

export type Right = { ok: true; via?: string } | { ok: false; why: string };

type Status = Pick<IncidentStatus, 'incidentId' | 'pendingApproval' | 'ladder' | 'owner'>;

/** Approve/deny: the user is a listed approver, or one of its groups is (then `via` names it). */
export function mayDecide(actor: Actor, status: Status): Right {
  const p = status.pendingApproval;
  if (!p) return { ok: true }; // nothing pending: the workflow's validator says so (409)
  if (p.approvers.includes(actor.user)) return { ok: true };
  const via = actor.groups.find((g) => p.approvers.includes(g));
  if (via) return { ok: true, via };
  return { ok: false, why: `${actor.user} may not decide step ${p.step + 1}; approvers: ${p.approvers.join(', ') || 'nobody'}` };
}

/** Take: members of the waiting rung's group, or admins (`via` says which). */
export function mayTake(actor: Actor, status: Status): Right {
  const group = status.ladder?.waiting?.group;
  if (group === undefined) return { ok: true }; // no rung waiting: the validator refuses (409)
  if (actor.groups.includes(group) || actor.user === group) return { ok: true, via: group };
  if (actor.admin) return { ok: true, via: 'admin' };
  return { ok: false, why: `${actor.user} may not take ${status.incidentId}: only members of ${group} (or admins) may` };
}

/** Resolve: whoever took it, members of its escalation groups, or admins. */
export function mayResolve(actor: Actor, status: Status): Right {
  const groups = status.ladder?.groups ?? [];
  if (actor.admin || status.owner?.by === actor.user) return { ok: true };
  if (groups.includes(actor.user) || actor.groups.some((g) => groups.includes(g))) return { ok: true };
  const owner = status.owner ? ` (${status.owner.by})` : ' (nobody took it)';
  const members = groups.length > 0 ? `members of its escalation groups (${groups.join(', ')})` : 'members of its escalation groups (it has none)';
  return { ok: false, why: `${actor.user} may not resolve ${status.incidentId}: only whoever took it${owner}, ${members} or admins may` };
}
