// Turns alerts into incidents: match a playbook, derive the incident id, and signalWithStart so
// that repeats and correlated alerts reach the running incident instead of opening another.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { findPlaybook, incidentWorkflowId, shortHash, targetOf } from '../playbooks/match.js';
import type { Playbook } from '../playbooks/schema.js';
import { playbookRef } from '../playbooks/hash.js';
import {
  alertSignal,
  INCIDENT_WORKFLOW_TYPE,
  SearchAttributes,
  type IncidentInput,
  type IncidentOptions,
} from '../../workflows/contracts.js';
import type { Correlator } from './correlate.js';
import { overflowWorkflowId, type OpenIncidents } from './open-incidents.js';
import type { Alert } from './schemas.js';
import { intakeSpan } from './span.js';
import { scopeOfBatch } from '../incident/scope.js';

export interface IngestDeps {
  client: Client;
  taskQueue: string;
  playbooks: () => Playbook[];
  log: Logger;
  incidentOptions?: Partial<IncidentOptions>;
  /** Told about every incident an ingest touched (the demo follows them live). */
  onIncident?: (workflowId: string) => void;
  /** Bound on each Temporal call, so a sender (Alertmanager: 10 s timeout) gets a 503 in time. */
  temporalDeadlineMs?: number;
  /** Folds alerts for a service (or its dependents) into the open incident. */
  correlator?: Correlator;
  /** The open-incidents-per-playbook cap; absent: no cap (tests, drills). */
  openIncidents?: OpenIncidents;
}

export interface IngestResult {
  incidents: { workflowId: string; playbook: string; alerts: number }[];
  /** Alerts attached to another open incident by correlation. */
  correlated: { workflowId: string; alerts: number; reason: string }[];
  unmatched: number;
  /** Resolved alerts for which no incident is running: nothing to do. */
  resolvedWithoutIncident: number;
  /** Alerts of new groups over the playbook's open-incident cap, recorded by its overflow
   * incident (which escalates and never acts); `groups` are the incidents they would have opened. */
  overflowed: { workflowId: string; playbook: string; alerts: number; groups: string[]; reason: string }[];
}

export const withFingerprint = (a: Alert): Alert =>
  a.fingerprint ? a : { ...a, fingerprint: shortHash(Object.entries(a.labels).sort(), 16) };

export async function ingestAlerts(
  deps: IngestDeps,
  alerts: Alert[],
  opts: { requestedBy?: string } = {},
): Promise<IngestResult> {
  const groups = new Map<string, { pb: Playbook; alerts: Alert[] }>();
  const folded = new Map<string, { alerts: Alert[]; reason: string }>();
  let unmatched = 0;
  for (const raw of alerts) {
    const alert = withFingerprint(raw);
    const pb = findPlaybook(deps.playbooks(), alert);
    const route = deps.correlator?.route(alert.labels.service, alert.fingerprint, pb && incidentWorkflowId(pb, alert));
    if (route) {
      const f = folded.get(route.workflowId) ?? { alerts: [], reason: route.reason };
      f.alerts.push({ ...alert, annotations: { ...alert.annotations, medicCorrelation: route.reason } });
      folded.set(route.workflowId, f);
      continue;
    }
    if (!pb) {
      unmatched += 1;
      deps.log.info({ alertname: alert.alertname, labels: alert.labels }, 'no playbook matches alert');
      continue;
    }
    const id = incidentWorkflowId(pb, alert);
    const group = groups.get(id) ?? { pb, alerts: [] };
    group.alerts.push(alert);
    groups.set(id, group);
  }

  const result: IngestResult = { incidents: [], correlated: [], unmatched, resolvedWithoutIncident: 0, overflowed: [] };
  const bounded = <T>(call: () => Promise<T>): Promise<T> =>
    deps.client.withDeadline(Date.now() + (deps.temporalDeadlineMs ?? 3_000), call);

  for (const [workflowId, f] of folded) {
    try {
      await bounded(() => deps.client.workflow.getHandle(workflowId).signal(alertSignal, f.alerts));
      for (const a of f.alerts) deps.correlator?.attach(a.fingerprint, workflowId);
      result.correlated.push({ workflowId, alerts: f.alerts.length, reason: f.reason });
      deps.log.info({ workflowId, alerts: f.alerts.length, reason: f.reason }, 'alerts correlated into open incident');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // The incident has ended: handle these alerts on their own after all.
      deps.correlator?.forget(workflowId);
      const again = await ingestAlerts(deps, f.alerts.map(({ annotations: { medicCorrelation: _c, ...rest }, ...a }) => ({ ...a, annotations: rest })), opts);
      result.incidents.push(...again.incidents);
      result.unmatched += again.unmatched;
      result.resolvedWithoutIncident += again.resolvedWithoutIncident;
      result.overflowed.push(...again.overflowed);
    }
  }
  const overflow = await overflowGroups(deps, groups);
  // One signal per incident, whatever the number of its alerts in this request; the incidents of
  // a request (an Alertmanager notification grouped by alertname holds many) are signalled
  // concurrently, so its latency is that of the slowest signal rather than of their sum.
  const delivered = await settleInOrder([...groups], SIGNALS_IN_FLIGHT, ([workflowId, g]) => deliverGroup(deps, workflowId, g, opts));
  const failed = delivered.find((d) => d.status === 'rejected');
  if (failed) throw failed.reason;
  for (const d of delivered) {
    const outcome = (d as PromiseFulfilledResult<GroupOutcome>).value;
    if (outcome.kind === 'overflowed') addOverflowed(result, outcome.overflowed);
    else if (outcome.kind === 'resolvedWithoutIncident') result.resolvedWithoutIncident += outcome.alerts;
    else result.incidents.push(outcome.incident);
  }
  for (const [name, o] of overflow) {
    const workflowId = overflowWorkflowId(name);
    const firing = o.alerts.find((a) => a.status === 'firing') ?? o.alerts[0]!;
    const reason = `playbook ${name} has ${o.open} open incidents (intake.limits.maxOpenIncidentsPerPlaybook = ${o.cap})`;
    const input: IncidentInput = {
      playbook: o.pb,
      alert: firing,
      target: `${name} (overflow)`,
      overflow: { reason, cap: o.cap },
      ...(deps.incidentOptions ? { options: deps.incidentOptions } : {}),
    };
    const attributes = { 'medic.workflow_id': workflowId, 'medic.playbook': name, 'medic.alertname': firing.alertname, 'medic.alerts': o.alerts.length };
    await intakeSpan(attributes, () => bounded(() => startIncident(deps, workflowId, input, o.alerts)));
    deps.log.warn({ workflowId, playbook: name, alerts: o.alerts.length, groups: o.groups.length }, `alerts over the open-incident cap recorded by the overflow incident: ${reason}`);
    addOverflowed(result, { workflowId, playbook: name, alerts: o.alerts.length, groups: o.groups, reason });
    deps.onIncident?.(workflowId);
  }
  return result;
}

/** Incidents of one request signalled at once, at most (a bound on one request's share of the client). */
const SIGNALS_IN_FLIGHT = 16;

/** fn over items, at most `limit` at once; the outcomes in the items' order, after all settled. */
async function settleInOrder<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

type GroupOutcome =
  | { kind: 'incident'; incident: IngestResult['incidents'][number] }
  | { kind: 'overflowed'; overflowed: IngestResult['overflowed'][number] }
  | { kind: 'resolvedWithoutIncident'; alerts: number };

/** The alerts of one incident in one signal: signalWithStart when one fires, else a signal to the running incident. */
async function deliverGroup(deps: IngestDeps, workflowId: string, { pb, alerts: batch }: { pb: Playbook; alerts: Alert[] }, opts: { requestedBy?: string }): Promise<GroupOutcome> {
  const bounded = <T>(call: () => Promise<T>): Promise<T> =>
    deps.client.withDeadline(Date.now() + (deps.temporalDeadlineMs ?? 3_000), call);
  const firing = batch.find((a) => a.status === 'firing');
  const log = deps.log.child({ workflowId });
  if (!firing) {
    try {
      await bounded(() => deps.client.workflow.getHandle(workflowId).signal(alertSignal, batch));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // Its group may have gone to the overflow incident: the resolve belongs there too.
      if (deps.openIncidents && (await signalIfRunning(deps, overflowWorkflowId(pb.name), marked(batch, workflowId)))) {
        return { kind: 'overflowed', overflowed: { workflowId: overflowWorkflowId(pb.name), playbook: pb.name, alerts: batch.length, groups: [workflowId], reason: 'resolved alerts of a group recorded by the overflow incident' } };
      }
      log.info('resolved alert for an incident that is not running; ignored');
      return { kind: 'resolvedWithoutIncident', alerts: batch.length };
    }
  } else {
    // The worker runs its own copy of the version named by the reference, never a body from
    // here. The body still goes along, only so that workers from before the registry can run
    // incidents during a rollout (README, Upgrades: contract changes stay additive); drop it
    // once no such worker can be running.
    const input: IncidentInput = {
      playbookRef: playbookRef(pb),
      playbook: pb,
      alert: firing,
      target: targetOf(pb, firing),
      ...scopeInput(pb, batch),
      ...(opts.requestedBy ? { requestedBy: opts.requestedBy } : {}),
      ...(deps.incidentOptions ? { options: deps.incidentOptions } : {}),
    };
    const attributes = { 'medic.workflow_id': workflowId, 'medic.playbook': pb.name, 'medic.alertname': firing.alertname, 'medic.alerts': batch.length };
    try {
      await intakeSpan(attributes, () => bounded(() => startIncident(deps, workflowId, input, batch)));
    } catch (err) {
      deps.openIncidents?.release(pb.name, workflowId);
      throw err;
    }
    deps.correlator?.opened(firing.labels.service, workflowId);
  }
  log.info({ playbook: pb.name, alerts: batch.length }, 'alerts delivered to incident');
  deps.onIncident?.(workflowId);
  return { kind: 'incident', incident: { workflowId, playbook: pb.name, alerts: batch.length } };
}

/** The opening batch's scope, when there is anything to count beyond its alerts. */
function scopeInput(pb: Playbook, batch: Alert[]): Pick<IncidentInput, 'scope'> {
  const scope = scopeOfBatch(pb, batch);
  return scope.targets.length > 0 || Object.keys(scope.truncated).length > 0 ? { scope } : {};
}

/** signalWithStart, as every incident (and the overflow incident) is started. */
function startIncident(deps: IngestDeps, workflowId: string, input: IncidentInput, batch: Alert[]): Promise<unknown> {
  return deps.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [input],
    signal: alertSignal,
    signalArgs: [batch],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [
      { key: SearchAttributes.service, value: input.overflow ? '' : (input.alert.labels.service ?? '') },
      { key: SearchAttributes.severity, value: input.alert.severity },
      { key: SearchAttributes.status, value: 'open' },
    ],
  });
}

/** Alerts of a group the cap sent to the overflow incident, marked with the incident they would have opened. */
const marked = (alerts: Alert[], groupWorkflowId: string): Alert[] =>
  alerts.map((a) => ({ ...a, annotations: { ...a.annotations, medicOverflow: groupWorkflowId } }));

interface Overflow {
  pb: Playbook;
  alerts: Alert[];
  groups: string[];
  open: number;
  cap: number;
}

/** Takes the groups over their playbook's open-incident cap out of `groups`, per playbook. */
async function overflowGroups(deps: IngestDeps, groups: Map<string, { pb: Playbook; alerts: Alert[] }>): Promise<Map<string, Overflow>> {
  const out = new Map<string, Overflow>();
  const cap = deps.openIncidents;
  if (!cap) return out;
  const firing = new Map<string, { pb: Playbook; ids: string[] }>();
  for (const [id, g] of groups) {
    if (!g.alerts.some((a) => a.status === 'firing')) continue;
    const p = firing.get(g.pb.name) ?? { pb: g.pb, ids: [] };
    p.ids.push(id);
    firing.set(g.pb.name, p);
  }
  for (const [name, { pb, ids }] of firing) {
    const { overflow, open } = await cap.admit(name, ids);
    if (overflow.length === 0) continue;
    const o: Overflow = { pb, alerts: [], groups: [], open, cap: cap.cap };
    for (const id of overflow) {
      o.alerts.push(...marked(groups.get(id)?.alerts ?? [], id));
      o.groups.push(id);
      groups.delete(id);
    }
    out.set(name, o);
  }
  return out;
}

async function signalIfRunning(deps: IngestDeps, workflowId: string, alerts: Alert[]): Promise<boolean> {
  try {
    await deps.client.withDeadline(Date.now() + (deps.temporalDeadlineMs ?? 3_000), () => deps.client.workflow.getHandle(workflowId).signal(alertSignal, alerts));
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

function addOverflowed(result: IngestResult, o: IngestResult['overflowed'][number]): void {
  const same = result.overflowed.find((x) => x.workflowId === o.workflowId);
  if (!same) return void result.overflowed.push(o);
  same.alerts += o.alerts;
  same.groups.push(...o.groups);
}
