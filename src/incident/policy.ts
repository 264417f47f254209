// The decision core's OPA gate (src/policy/opa.ts): after the incident's own gates and the
// governor allowed a step that names a `policy`, OPA is asked once per try of the step, with the
// incident, the step and the governor's facts as input. Allow: the gates run again and the action
// is admitted. Deny: the incident escalates with the policy's reasons. Require approval: the
// approval request names the groups the policy gave. The answer is an event (recorded by
// Temporal), so a replay reads it and never asks again.
import { render } from '../playbooks/template.js';
import { emptyFacts, describeVerdict, policyVerdict, timeFacts, type GovernorFacts, type PolicyInput, type PolicyResult, type PolicyVerdict } from '../policy/opa.js';
import { entry } from '../../workflows/contracts-timeline.js';
import { toEscalation, type Run } from './run.js';

/** A verdict older than this is asked again before the step is admitted: the world may have
 * changed while the step was held (limits, a maintenance window, a lock, an approval). */
export const POLICY_FRESH_MS = 5 * 60_000;

/** The verdict for the current try of the current step, once OPA answered (and lately). */
export function policyOf(r: Run): PolicyVerdict | undefined {
  const p = r.s.policy;
  return p && p.step === r.s.stepIndex && p.try === r.s.stepTry && r.at - p.at < POLICY_FRESH_MS ? p.verdict : undefined;
}

/** The step names a policy that has not answered for this try yet. */
export const policyPending = (r: Run): boolean => r.step().policy !== undefined && policyOf(r) === undefined;

/** The policy asks a person to approve (never in dry-run mode: nothing changes there). */
export function policyWantsApproval(r: Run): boolean {
  return r.env.mode !== 'dry-run' && policyOf(r)?.outcome === 'require_approval';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** OPA's input document: the incident, the step about to run and the governor's facts. */
export function policyInput(r: Run, facts: GovernorFacts): PolicyInput {
  const { env, s } = r;
  const step = r.step();
  const params = step.params as Record<string, unknown>;
  const operation = str(params.operation);
  const namespace = str(params.namespace);
  const a = env.alert;
  return {
    incident: { id: env.incidentId, playbook: env.playbook.name, startedAt: new Date(s.startedAt).toISOString() },
    alert: { alertname: a.alertname, severity: a.severity, status: s.lastAlert.status, source: a.source, labels: a.labels, annotations: a.annotations },
    labels: a.labels,
    target: env.target,
    step: {
      index: s.stepIndex,
      name: step.name,
      action: step.action,
      ...(operation ? { operation } : {}),
      ...(namespace ? { namespace: render(namespace, env.ctx) } : {}),
      targets: step.targets.map((t) => render(t, env.ctx)),
      risk: step.risk,
    },
    risk: step.risk,
    mode: env.mode,
    time: timeFacts(r.at),
    governor: facts,
  };
}

export function askPolicy(r: Run, facts: GovernorFacts | undefined): void {
  const gate = r.step().policy!;
  r.m.inFlight = 'policy';
  r.emit({ kind: 'askPolicy', step: r.s.stepIndex, stepTry: r.s.stepTry, gate, input: policyInput(r, facts ?? emptyFacts) });
}

export function policyDecided(r: Run, result: PolicyResult): void {
  const { s } = r;
  r.m.inFlight = undefined;
  const step = r.step();
  const verdict = policyVerdict(step.policy!, step.risk, result);
  s.policy = { step: s.stepIndex, try: s.stepTry, at: r.at, verdict };
  r.note(entry.gatePolicy({ message: `${r.label()}: ${describeVerdict(verdict)}`, step: s.stepIndex, data: { policy: verdict } }));
  if (verdict.outcome === 'deny') return toEscalation(r, `policy ${verdict.decision} denied ${r.label()}: ${verdict.reasons.join('; ')}`);
  // allow / require approval: the gates run again (the world may have changed while OPA was asked)
  s.phase = 'gates';
}
