// Operations on incidents and the governor shared by the HTTP API (and so the CLI) and, later,
// the Slack app. Everything goes through Temporal: queries, updates, visibility.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { governorCaller } from '../../activities/governor.js';
import type { AuditLog, AuditRecord } from '../audit/log.js';
import { demotionOf } from '../policy/demotion.js';
import { signIdentity } from '../identity/sign.js';
import {
  decideUpdate,
  governorStateQuery,
  governorWorkflowId,
  promoteStepUpdate,
  resolveUpdate,
  snoozeUpdate,
  takeUpdate,
  INCIDENT_WORKFLOW_TYPE,
  SearchAttributes,
  setDeploymentUpdate,
  setPausedUpdate,
  statusQuery,
  timelineQuery,
  type DecisionInput,
  type IdentityKind,
  type IdentityProof,
  type DecisionResult,
  type DemotedStep,
  type GovernorState,
  type IncidentStatus,
  type PauseState,
  type PromoteStepResult,
  type ResolveInput,
  type ResolveResult,
  type SnoozeInput,
  type SnoozeResult,
  type TakeInput,
  type TakeResult,
  type SetDeploymentInput,
  type TimelineEntry,
  queryChecked,
} from '../../workflows/contracts.js';

/** Accepts a workflow id or an incident id (workflow id + ':' + 8 characters of the first run). */
export function workflowIdOf(id: string): string {
  const match = /^(incident:[a-z0-9-]+:[0-9a-f]{12})(?::[0-9a-f-]{8})?$/.exec(id);
  return match?.[1] ?? id;
}

export class NotFoundError extends Error {}
/** A decision the workflow's validator refused: the message says why. */
export class RejectedError extends Error {}

export interface IncidentSummary {
  workflowId: string;
  status: string;
  service: string;
  severity: string;
  startedAt: string;
  closedAt?: string;
  runStatus: string;
}

export function incidentsApi(client: Client, taskQueue: string, opts: { audit?: AuditLog; identityKey?: Buffer } = {}) {
  const callGovernor = governorCaller({ client, taskQueue });
  let governorCalls = 0;
  const updateId = (what: string): string => `${what}:${Date.now()}:${++governorCalls}`;

  async function detail(id: string): Promise<{ status: IncidentStatus; timeline: TimelineEntry[] }> {
    const handle = client.workflow.getHandle(workflowIdOf(id));
    try {
      const [status, timeline] = await Promise.all([queryChecked(handle, statusQuery), queryChecked(handle, timelineQuery)]);
      return { status, timeline };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no incident ${id}`);
      throw err;
    }
  }

  /** A running incident's status (for the authorization checks before an Update). */
  async function status(id: string): Promise<IncidentStatus> {
    const handle = client.workflow.getHandle(workflowIdOf(id));
    try {
      // An ended incident answers queries too, but no Update can reach it: say so before judging rights.
      if ((await handle.describe()).status.name !== 'RUNNING') throw new NotFoundError(`no running incident ${id}`);
      return await queryChecked(handle, statusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no running incident ${id}`);
      throw err;
    }
  }

  async function list(opts: { all?: boolean; limit?: number } = {}): Promise<IncidentSummary[]> {
    const running = opts.all ? '' : ` AND ExecutionStatus = 'Running'`;
    const query = `WorkflowType = '${INCIDENT_WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}'${running}`;
    const out: IncidentSummary[] = [];
    for await (const wf of client.workflow.list({ query })) {
      const sa = wf.typedSearchAttributes;
      out.push({
        workflowId: wf.workflowId,
        status: sa.get(SearchAttributes.status) ?? '',
        service: sa.get(SearchAttributes.service) ?? '',
        severity: sa.get(SearchAttributes.severity) ?? '',
        startedAt: wf.startTime.toISOString(),
        ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
        runStatus: wf.status.name,
      });
      if (out.length >= (opts.limit ?? 100)) break;
    }
    return out;
  }

  /** Runs an incident Update; a validator's refusal becomes RejectedError (with its reason). */
  async function updateIncident<R, A>(id: string, def: UpdateDefinition<R, [A]>, input: A): Promise<R> {
    try {
      return await client.workflow.getHandle(workflowIdOf(id)).executeUpdate(def, { args: [input] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no running incident ${id}`);
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause as { message?: string } | undefined;
        throw new RejectedError(cause?.message ?? err.message);
      }
      throw err;
    }
  }

  /** The input signed for this incident (src/identity/sign.ts): the worker accepts the identity
   * only with the app's proof. The incident id (not just the workflow id, which a later incident
   * reuses) is part of what is signed. */
  async function signed<T extends object>(kind: IdentityKind, id: string, input: T): Promise<T & { proof: IdentityProof }> {
    if (!opts.identityKey) throw new Error('medic has no identity key (identityKey / MEDIC_IDENTITY_KEY): it cannot vouch for who decides');
    try {
      const status = await queryChecked(client.workflow.getHandle(workflowIdOf(id)), statusQuery);
      // A decision is bound to the request it answers, so its proof cannot approve a later one.
      const pending = status.pendingApproval;
      const bound = kind === 'decide' && pending && !('request' in input) ? { ...input, request: pending.requestedAt } : input;
      return signIdentity(opts.identityKey, kind, status.incidentId, bound);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no running incident ${id}`);
      throw err;
    }
  }

  const decide = async (id: string, input: DecisionInput): Promise<DecisionResult> => updateIncident(id, decideUpdate, await signed('decide', id, input));
  /** Someone takes an escalated incident from a slack-group rung: the ladder stops there. */
  const take = async (id: string, input: TakeInput): Promise<TakeResult> => updateIncident(id, takeUpdate, await signed('take', id, input));
  /** A person resolves the incident: it ends as resolved by them, a PagerDuty page is resolved. */
  const resolve = async (id: string, input: ResolveInput): Promise<ResolveResult> => updateIncident(id, resolveUpdate, await signed('resolve', id, input));
  /** A person snoozes the incident's alerts: an Alertmanager silence for a chosen time. */
  const snooze = async (id: string, input: SnoozeInput): Promise<SnoozeResult> => updateIncident(id, snoozeUpdate, await signed('snooze', id, input));

  /** Operator actions outside any incident (kill switch, promotion), audited with who made them. */
  const auditOperator = (r: Omit<AuditRecord, 'at' | 'incidentId' | 'seq'>): void => {
    opts.audit?.append([{ at: new Date().toISOString(), incidentId: null, seq: null, ...r }]);
  };

  async function setPaused(paused: boolean, by: string, reason?: string): Promise<PauseState> {
    // No governor yet means nothing was ever paused.
    const before = opts.audit
      ? await governorState().then(
          (g) => g.pause,
          (err: unknown) => (err instanceof WorkflowNotFoundError ? { paused: false } : undefined),
        )
      : undefined;
    const after = await callGovernor(setPausedUpdate, { paused, by, ...(reason ? { reason } : {}) }, updateId('pause'));
    // Kill-switch changes are audited with the operator who made them.
    auditOperator({
      kind: 'kill-switch',
      who: by,
      what: paused ? 'kill switch ON: all automation paused' : 'kill switch OFF: automation resumed',
      why: reason ?? '',
      target: `all automation (task queue ${taskQueue})`,
      before: before === undefined ? 'unknown' : before.paused ? 'paused' : 'running',
      after: after.paused ? 'paused' : 'running',
      data: { pause: after },
    });
    return after;
  }

  const setDeployment = (input: SetDeploymentInput): Promise<void> =>
    callGovernor(setDeploymentUpdate, input, updateId('deployment'));

  /** The governor's state plus the steps auto-demoted right now (each with why). */
  const governorState = async (): Promise<GovernorState & { demotedSteps: DemotedStep[] }> => {
    const g = await queryChecked(client.workflow.getHandle(governorWorkflowId(taskQueue)), governorStateQuery);
    return { ...g, demotedSteps: demotedSteps(g) };
  };

  /** Re-promotes an auto-demoted step (resets its history) and audits who did it. */
  async function promote(playbook: string, step: number, stepName: string, by: string): Promise<PromoteStepResult> {
    const r = await callGovernor(promoteStepUpdate, { playbook, step, by }, updateId('promote'));
    const label = `step ${step + 1} (${stepName}) of playbook ${playbook}`;
    const reason = r.before ? demotionOf(r.before.runs, r.before.policy).reason : undefined;
    auditOperator({
      kind: 'promotion',
      who: by,
      what: `${label} re-promoted: runs automatically again (history reset)`,
      why: reason ? `it was auto-demoted: ${reason}` : 'it was not demoted',
      target: label,
      before: r.wasDemoted ? 'demoted: requires approval' : 'automatic',
      after: 'automatic',
      data: { playbook, step, runs: r.before?.runs ?? [] },
    });
    return r;
  }

  return { detail, status, list, decide, take, resolve, snooze, setPaused, setDeployment, governorState, promote };
}

export type IncidentsApi = ReturnType<typeof incidentsApi>;

export function demotedSteps(g: GovernorState): DemotedStep[] {
  return Object.values(g.steps ?? {}).flatMap((h) => {
    const d = demotionOf(h.runs, h.policy);
    return d.demoted ? [{ playbook: h.playbook, step: h.step, stepName: h.stepName, reason: d.reason ?? '', runs: h.runs }] : [];
  });
}
