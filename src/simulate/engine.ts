// `medic simulate`: replays recorded alerts through medic's real decision code — playbook
// matching, grouping and correlation (src/playbooks/match.ts, src/intake/correlate.ts), the
// incident's own gates and step selection (src/policy/plan.ts), the governor's admission
// (src/policy/admission.ts) — with every action in dry run, and predicts per incident the gate
// decisions, the steps it would take and where it would escalate. Time is the recording's: each
// incident is decided at its first alert, holds advance a simulated clock. Each incident runs
// the workflow's own decision core (src/incident/machine.ts) through a dry-run interpreter
// (./dry-run.ts), so the prediction takes the path the real run takes.
import { Correlator, type Correlation } from '../intake/correlate.js';
import { withFingerprint } from '../intake/ingest.js';
import type { Alert } from '../intake/schemas.js';
import { findPlaybook, incidentWorkflowId, targetOf } from '../playbooks/match.js';
import type { EscalationRung, Playbook } from '../playbooks/schema.js';
import type { AdmissionLedger } from '../policy/admission.js';
import type { PauseState } from '../policy/gates.js';
import { modeOf, type PlaybookMode } from '../policy/plan.js';
import type { IncidentCommand } from '../incident/types.js';
import { dryRun, type DryRunActuator, type EvidenceReader, type PolicyEvaluator, type SimEvent } from './dry-run.js';
import type { StepOutcome } from './sequence.js';

export type { DryRunActuator, DryRunResult, PolicyEvaluator, SimEvent } from './dry-run.js';

export interface SimIncident {
  workflowId: string;
  playbook: string;
  mode: PlaybookMode;
  target: string;
  alertname: string;
  service: string;
  openedAt: string;
  alerts: number;
  correlated: { alertname: string; service: string; reason: string }[];
  /** The recording holds a resolved alert for every fingerprint of this incident. */
  resolvedInRecording: boolean;
  events: SimEvent[];
  sequence: StepOutcome[];
  /** The decision core's commands, in order (the parity test compares them with the real run's). */
  commands: IncidentCommand[];
  outcome: 'resolved' | 'escalated';
  reason: string;
  escalation?: { reason: string; rungs: string[] };
}

export interface SimResult {
  incidents: SimIncident[];
  unmatched: { alertname: string; labels: Record<string, string> }[];
  resolvedWithoutIncident: number;
}

export interface SimOptions {
  playbooks: Playbook[];
  actuator: DryRunActuator;
  /** OPA policy gates are evaluated for real (read-only) with this; absent: their onError rule decides. */
  policy?: PolicyEvaluator;
  /** Read-only evidence sources (the worker's collectEvidence); absent: every part is missing. */
  evidence?: EvidenceReader;
  correlation?: Correlation;
  /** The kill switch as the simulation assumes it (default: automation enabled). */
  pause?: PauseState;
  /** A running medic's governor state (GET /api/governor): kill switch, rate ledger, cooldowns,
   * deployment markers and auto-demoted steps, as they are now. */
  governor?: Partial<AdmissionLedger> & { demotedSteps?: { playbook: string; step: number; reason: string }[] };
}

export function describeRung(r: EscalationRung): string {
  switch (r.kind) {
    case 'record':
      return `hand over to ${r.to}`;
    case 'pagerduty':
      return `page PagerDuty (routing key secret ${r.routingKeySecret})`;
    case 'webhook':
      return `notify ${r.request.method} ${r.request.url}`;
    default:
      return `${(r as { kind: string }).kind} rung`;
  }
}

interface Draft {
  pb: Playbook;
  first: Alert;
  workflowId: string;
  alerts: Alert[];
  correlated: SimIncident['correlated'];
  fingerprints: Map<string, Alert['status']>;
}

/** Groups and correlates the recording as the intake does, in the order alerts were received. */
function intake(alerts: Alert[], o: SimOptions): { drafts: Draft[]; unmatched: SimResult['unmatched']; resolvedWithoutIncident: number } {
  const sorted = alerts.map(withFingerprint).sort((a, b) => a.receivedAt - b.receivedAt);
  let clock = sorted[0]?.receivedAt ?? 0;
  const correlator = o.correlation ? new Correlator(o.correlation, () => clock) : undefined;
  const drafts = new Map<string, Draft>();
  const unmatched: SimResult['unmatched'] = [];
  let resolvedWithoutIncident = 0;
  for (const alert of sorted) {
    clock = alert.receivedAt;
    const pb = findPlaybook(o.playbooks, alert);
    const route = correlator?.route(alert.labels.service, alert.fingerprint, pb && incidentWorkflowId(pb, alert));
    const routed = route && drafts.get(route.workflowId);
    if (route && routed) {
      routed.correlated.push({ alertname: alert.alertname, service: alert.labels.service ?? '', reason: route.reason });
      correlator?.attach(alert.fingerprint, route.workflowId);
      continue;
    }
    if (!pb) {
      unmatched.push({ alertname: alert.alertname, labels: alert.labels });
      continue;
    }
    const id = incidentWorkflowId(pb, alert);
    const draft = drafts.get(id);
    if (draft) {
      draft.alerts.push(alert);
      draft.fingerprints.set(alert.fingerprint, alert.status);
      continue;
    }
    if (alert.status !== 'firing') {
      resolvedWithoutIncident += 1;
      continue;
    }
    drafts.set(id, { pb, first: alert, workflowId: id, alerts: [alert], correlated: [], fingerprints: new Map([[alert.fingerprint, 'firing']]) });
    correlator?.opened(alert.labels.service, id);
  }
  return { drafts: [...drafts.values()], unmatched, resolvedWithoutIncident };
}

export async function simulate(alerts: Alert[], o: SimOptions): Promise<SimResult> {
  const { drafts, unmatched, resolvedWithoutIncident } = intake(alerts, o);
  // The simulation's stand-in for the governor's ledger, shared by all incidents in the recording.
  const g = o.governor ?? {};
  const ledger: AdmissionLedger = {
    pause: o.pause ?? g.pause ?? { paused: false },
    starts: [...(g.starts ?? [])],
    inFlight: { ...(g.inFlight ?? {}) },
    cooldowns: { ...(g.cooldowns ?? {}) },
    deployments: { ...(g.deployments ?? {}) },
    touched: Object.fromEntries(Object.entries(g.touched ?? {}).map(([k, v]) => [k, [...v]])),
    incidents: { ...(g.incidents ?? {}) },
  };
  const incidents: SimIncident[] = [];
  const demoted = new Map((g.demotedSteps ?? []).map((d) => [`${d.playbook}#${d.step}`, d.reason]));
  for (const d of drafts) incidents.push(await decide(d, ledger, o, demoted));
  return { incidents, unmatched, resolvedWithoutIncident };
}

async function decide(d: Draft, ledger: AdmissionLedger, o: SimOptions, demoted: Map<string, string>): Promise<SimIncident> {
  const { pb, first: alert } = d;
  const target = targetOf(pb, alert);
  // The governor's open incidents, as the OPA gate sees them: the ones opened so far in the recording.
  (ledger.incidents ??= {})[d.workflowId] = alert.receivedAt;
  const run = await dryRun({ pb, alert, target, workflowId: d.workflowId, ledger, demoted, actuator: o.actuator, ...(o.policy ? { policy: o.policy } : {}), ...(o.evidence ? { evidence: o.evidence } : {}) });
  const resolvedInRecording = [...d.fingerprints.values()].every((s) => s === 'resolved');
  return {
    workflowId: d.workflowId,
    playbook: pb.name,
    mode: modeOf(pb),
    target,
    alertname: alert.alertname,
    service: alert.labels.service ?? '',
    openedAt: new Date(alert.receivedAt).toISOString(),
    alerts: d.alerts.length,
    correlated: d.correlated,
    resolvedInRecording,
    events: run.events,
    sequence: run.sequence,
    commands: run.commands,
    outcome: run.outcome,
    reason: run.reason,
    ...(run.outcome === 'escalated' ? { escalation: { reason: run.reason, rungs: pb.escalation.map(describeRung) } } : {}),
  };
}
