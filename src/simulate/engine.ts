// `medic simulate`: replays recorded alerts through medic's real decision code — playbook
// matching, grouping and correlation (src/playbooks/match.ts, src/intake/correlate.ts), the
// incident's own gates and step selection (src/policy/plan.ts), the governor's admission
// (src/policy/admission.ts) — with every action in dry run, and predicts per incident the gate
// decisions, the steps it would take and where it would escalate. Time is the recording's: each
// incident is decided at its first alert, holds advance a simulated clock.
import { Correlator, type Correlation } from '../intake/correlate.js';
import { withFingerprint } from '../intake/ingest.js';
import type { Alert } from '../intake/schemas.js';
import { toMs } from '../playbooks/duration.js';
import { findPlaybook, incidentWorkflowId, targetOf } from '../playbooks/match.js';
import type { EscalationRung, Playbook, Step } from '../playbooks/schema.js';
import { render, type TemplateContext } from '../playbooks/template.js';
import { admissionGates, recordTouch, type AdmissionLedger } from '../policy/admission.js';
import { combine, targetGate, type GateDecision, type PauseState } from '../policy/gates.js';
import { advance, advanceAfterDryRun, approversOf, isDryRun, localGates, modeOf, requiresApproval, type Advance, type PlaybookMode } from '../policy/plan.js';
import { describeAction } from '../../workflows/actions.js';
import { kubernetesRefusal } from '../../workflows/kubernetes.js';
import type { Allow } from '../playbooks/allow.js';
import type { StepOutcome } from './sequence.js';

/** What the actuator's dry run said about one step. */
export interface DryRunResult {
  ok: boolean;
  summary: string;
  error?: string;
  /** The target's own prediction (server-side dry run), when it gave one. */
  wouldHeal?: boolean;
}
export type DryRunActuator = (step: Step, ctx: TemplateContext, idempotencyKey: string, allow?: Allow) => Promise<DryRunResult>;

export type SimEvent =
  | { kind: 'gates'; step: number; at: string; verdict: 'allow' | 'wait' | 'block'; decisions: GateDecision[]; governor: GateDecision[] }
  | { kind: 'approval'; step: number; approvers: string[]; message: string }
  | { kind: 'action'; step: number; try: number; name: string; what: string; dryRun: string; ok: boolean; error?: string }
  | { kind: 'verification'; step: number; prediction: 'heals' | 'fails' | 'assumed-heals' | 'none' | 'skipped'; message: string }
  | { kind: 'advance'; message: string };

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
  correlation?: Correlation;
  /** The kill switch as the simulation assumes it (default: automation enabled). */
  pause?: PauseState;
  /** A running medic's governor state (GET /api/governor): kill switch, rate ledger, cooldowns,
   * deployment markers and auto-demoted steps, as they are now. */
  governor?: Partial<AdmissionLedger> & { demotedSteps?: { playbook: string; step: number; reason: string }[] };
}

const MAX_ROUNDS = 100;

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
  };
  const incidents: SimIncident[] = [];
  const demoted = new Map((g.demotedSteps ?? []).map((d) => [`${d.playbook}#${d.step}`, d.reason]));
  for (const d of drafts) incidents.push(await decide(d, ledger, o, demoted));
  return { incidents, unmatched, resolvedWithoutIncident };
}

async function decide(d: Draft, ledger: AdmissionLedger, o: SimOptions, demoted: Map<string, string>): Promise<SimIncident> {
  const { pb, first: alert } = d;
  const target = targetOf(pb, alert);
  const mode = modeOf(pb);
  const incidentId = `${d.workflowId}:simulate`;
  const ctx: TemplateContext = { incident: { id: incidentId, workflowId: d.workflowId }, labels: alert.labels, annotations: alert.annotations, target };
  const events: SimEvent[] = [];
  const sequence: StepOutcome[] = [];
  let now = alert.receivedAt;
  let at = { stepIndex: 0, stepTry: 1 };
  let holdStartedAt: number | undefined;
  let acted = false;
  let approved = -1;
  let end: { outcome: 'resolved' | 'escalated'; reason: string } | undefined;
  const label = (i: number): string => `step ${i + 1}/${pb.steps.length} (${pb.steps[i]?.name ?? '?'})`;
  const escalate = (reason: string): void => void (end = { outcome: 'escalated', reason });
  const follow = (next: Advance): void => {
    if (next.kind === 'escalate') return escalate(next.reason);
    at = next.kind === 'retry' ? { ...at, stepTry: next.stepTry } : { stepIndex: next.stepIndex, stepTry: 1 };
    events.push({ kind: 'advance', message: next.kind === 'retry' ? `${label(at.stepIndex)}: try ${at.stepTry}` : `moving on to ${label(at.stepIndex)}` });
  };

  for (let round = 0; !end && round < MAX_ROUNDS; round++) {
    const step = pb.steps[at.stepIndex]!;
    // As the workflow: a target outside the allow-lists fails the step before any gate or action.
    const refused = kubernetesRefusal(step, ctx, pb.allow?.kubernetes);
    if (refused) {
      events.push({ kind: 'gates', step: at.stepIndex, at: new Date(now).toISOString(), verdict: 'block', decisions: [targetGate(refused)], governor: [] });
      sequence.push({ step: at.stepIndex, result: 'blocked' });
      follow(advance(pb, at, `target refused (${refused.message})`));
      continue;
    }
    const targets = step.targets.map((t) => render(t, ctx));
    const local = localGates({
      pause: ledger.pause,
      maintenanceWindows: pb.maintenanceWindows,
      deploymentLabel: pb.deploymentLabel,
      labels: ctx.labels,
      annotations: ctx.annotations,
      targets: targets.length > 0 ? targets : [target],
      blastRadius: pb.limits.blastRadius,
      now,
    });
    // An auto-demoted step (the governor's learning) needs a person too, as in the workflow.
    const demotion = mode !== 'dry-run' ? demoted.get(`${pb.name}#${at.stepIndex}`) : undefined;
    const needsApproval = (requiresApproval(step, mode) || demotion !== undefined) && approved !== at.stepIndex;
    const begin = combine(local).verdict === 'allow' && !needsApproval;
    const admission = begin ? admissionGates(ledger, target, pb.limits, now, pb.name) : undefined;
    const decisions = [...local, ...(admission?.decisions ?? [])];
    const verdict = begin ? (admission!.allowed ? ({ verdict: 'allow' } as const) : combine(admission!.decisions)) : combine(local);
    events.push({ kind: 'gates', step: at.stepIndex, at: new Date(now).toISOString(), verdict: verdict.verdict, decisions: local, governor: admission?.decisions ?? [] });
    if (verdict.verdict === 'block') {
      sequence.push({ step: at.stepIndex, result: 'blocked' });
      escalate(`policy blocked ${label(at.stepIndex)}: ${verdict.reasons.join('; ')}`);
      break;
    }
    if (verdict.verdict === 'wait') {
      const inWindow = decisions.some((x) => x.gate === 'maintenance-window' && x.outcome === 'wait');
      if (inWindow) holdStartedAt = undefined;
      else holdStartedAt ??= now;
      if (holdStartedAt !== undefined && now - holdStartedAt >= toMs(pb.limits.maxHold)) {
        escalate(`held longer than ${pb.limits.maxHold}: ${verdict.reasons.join('; ')}`);
        break;
      }
      if (ledger.pause.paused) {
        escalate(`automation is paused: the incident would hold until resumed (escalating after ${pb.limits.maxHold})`);
        break;
      }
      now = Math.max(verdict.untilMs, now + 1_000);
      continue;
    }
    holdStartedAt = undefined;
    if (needsApproval) {
      const fallback = mode === 'approve-all' || demotion !== undefined;
      const approvers = approversOf(pb, step, fallback);
      const what = `${label(at.stepIndex)}: ${describeAction(step, ctx)}`;
      if (demotion) events.push({ kind: 'advance', message: `step ${at.stepIndex + 1} (${step.name}) auto-demoted to require approval: ${demotion}` });
      if (approvers.length === 0) {
        escalate(
          demotion
            ? `step ${at.stepIndex + 1} (${step.name}) auto-demoted to require approval: ${demotion}; nobody may approve it (the step lists no approvers and the playbook no demotionApprovers)`
            : `mode approve-all: nobody may approve ${what} (the step lists no approvers and the playbook no demotionApprovers)`,
        );
        break;
      }
      events.push({ kind: 'approval', step: at.stepIndex, approvers, message: `would ask ${approvers.join(', ')} to approve ${what} (expires after ${step.approvalTimeout}); simulated as approved` });
      approved = at.stepIndex;
      continue; // gates are evaluated again after the approval, as the workflow does
    }
    ledger.starts.push({ target, at: now });
    recordTouch(ledger, pb.name, target, pb.limits, now);
    const key = `${incidentId}:step-${at.stepIndex}:try-${at.stepTry}`;
    const r = await o.actuator(step, ctx, key, pb.allow);
    const dryRun = isDryRun(pb, step, mode);
    events.push({ kind: 'action', step: at.stepIndex, try: at.stepTry, name: step.name, what: describeAction(step, ctx), dryRun: r.summary, ok: r.ok, ...(r.error ? { error: r.error } : {}) });
    approved = -1;
    now += 1_000;
    if (!r.ok) {
      if (!dryRun) acted = true;
      sequence.push({ step: at.stepIndex, result: 'action-failed' });
      follow(advance(pb, at, `action failed (${r.error ?? r.summary})`));
      continue;
    }
    if (dryRun) {
      // The playbook itself runs in dry run: the real incident would not verify either.
      sequence.push({ step: at.stepIndex, result: 'dry-run' });
      events.push({ kind: 'verification', step: at.stepIndex, prediction: 'skipped', message: 'dry run: verification skipped' });
      if (mode === 'dry-run') follow(advanceAfterDryRun(pb, at.stepIndex));
      else escalate('dry run: no action was taken; a human decides');
      continue;
    }
    acted = true;
    const v = step.verification;
    if (!v) {
      events.push({ kind: 'verification', step: at.stepIndex, prediction: 'none', message: 'no verification configured: the step counts as success' });
      sequence.push({ step: at.stepIndex, result: 'healed' });
      end = { outcome: 'resolved', reason: `${label(at.stepIndex)} succeeded (no verification configured)` };
      break;
    }
    if (r.wouldHeal === false) {
      events.push({ kind: 'verification', step: at.stepIndex, prediction: 'fails', message: `the target's dry run says this would not heal it: verification would fail after ${v.deadline}` });
      sequence.push({ step: at.stepIndex, result: 'verification-failed' });
      now += toMs(v.deadline);
      follow(advance(pb, at, 'verification failed'));
      continue;
    }
    const assumed = r.wouldHeal === undefined;
    events.push({
      kind: 'verification',
      step: at.stepIndex,
      prediction: assumed ? 'assumed-heals' : 'heals',
      message: assumed
        ? `the target gave no prediction: assumed healthy for ${v.window} (set params.dryRunHeader on targets that support a server-side dry run)`
        : `the target's dry run says this heals it: healthy for ${v.window} expected`,
    });
    sequence.push({ step: at.stepIndex, result: 'healed' });
    end = { outcome: 'resolved', reason: `healed by ${label(at.stepIndex)}` };
  }
  end ??= { outcome: 'escalated', reason: `simulation stopped after ${MAX_ROUNDS} rounds` };
  if (end.outcome === 'escalated' && acted) ledger.cooldowns[target] = { until: now + toMs(pb.cooldown), incidentId };
  const resolvedInRecording = [...d.fingerprints.values()].every((s) => s === 'resolved');
  return {
    workflowId: d.workflowId,
    playbook: pb.name,
    mode,
    target,
    alertname: alert.alertname,
    service: alert.labels.service ?? '',
    openedAt: new Date(alert.receivedAt).toISOString(),
    alerts: d.alerts.length,
    correlated: d.correlated,
    resolvedInRecording,
    events,
    sequence,
    outcome: end.outcome,
    reason: end.reason,
    ...(end.outcome === 'escalated' ? { escalation: { reason: end.reason, rungs: pb.escalation.map(describeRung) } } : {}),
  };
}
