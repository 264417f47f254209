// `medic simulate`'s interpreter of the decision core (src/incident/machine.ts): the same next()
// the incident workflow runs, with dry-run answers to its commands. The governor is the
// simulation's ledger (src/policy/admission.ts), actions go to the dry-run actuator, approvals
// are simulated as given, nobody takes a slack-group rung, nothing is sent to PagerDuty or
// webhooks, and timers advance a simulated clock. The report (events, step sequence) is read off
// the commands and the timeline, as the real run's is read off its timeline.
import { next } from '../incident/machine.js';
import { newState } from '../incident/state.js';
import type { IncidentCommand, IncidentEnv, IncidentEvent, IncidentState, ProbeRound, UntimedEvent } from '../incident/types.js';
import type { Alert } from '../intake/schemas.js';
import type { Playbook } from '../playbooks/schema.js';
import { admissionGates, governorFacts, recordTouch, type AdmissionLedger } from '../policy/admission.js';
import { combine, targetGate, type GateDecision } from '../policy/gates.js';
import type { AdmitResult, TimelineEntry } from '../../workflows/contracts.js';
import type { HostReport } from '../../workflows/contracts-timeline.js';
import { incidentEnv } from '../../workflows/describe.js';
import type { Allow } from '../playbooks/allow.js';
import type { Step } from '../playbooks/schema.js';
import type { TemplateContext } from '../playbooks/template.js';
import { stepSequenceOf, type StepOutcome } from './sequence.js';
import { toMs } from '../playbooks/duration.js';
import { type PolicyGate, type PolicyInput, type PolicyResult, type PolicyVerdict } from '../policy/opa.js';
import { requestFor, unavailablePack } from '../incident/evidence.js';
import type { EvidenceRequest } from '../evidence/request.js';
import type { EvidencePack } from '../evidence/schema.js';

/** Reads the evidence pack read-only (the worker's own collectEvidence activity), if simulate has sources. */
export type EvidenceReader = (req: EvidenceRequest) => Promise<EvidencePack>;

/** What the actuator's dry run said about one step. */
export interface DryRunResult {
  ok: boolean;
  summary: string;
  error?: string;
  /** The target's own prediction (server-side dry run), when it gave one. */
  wouldHeal?: boolean;
  /** Per-host results of a check run (ansible --check --diff). */
  hosts?: HostReport;
}
export type DryRunActuator = (step: Step, ctx: TemplateContext, idempotencyKey: string, allow?: Allow, blastRadius?: number) => Promise<DryRunResult>;

export type SimEvent =
  | { kind: 'gates'; step: number; at: string; verdict: 'allow' | 'wait' | 'block'; decisions: GateDecision[]; governor: GateDecision[] }
  | { kind: 'approval'; step: number; approvers: string[]; message: string }
  | { kind: 'action'; step: number; try: number; name: string; what: string; dryRun: string; ok: boolean; error?: string }
  | { kind: 'verification'; step: number; prediction: 'heals' | 'fails' | 'assumed-heals' | 'none' | 'skipped'; message: string }
  | { kind: 'advance'; message: string }
  /** The OPA gate's verdict, evaluated for real (read-only) against the server or Wasm bundle. */
  | { kind: 'policy'; step: number; verdict: PolicyVerdict; message: string }
  /** An Alertmanager silence the real run would create, extend or expire (src/incident/silences.ts). */
  | { kind: 'silence'; message: string };

/** Evaluates an OPA gate for real (activities/opa.ts opaDecide): read-only, so simulate may. */
export type PolicyEvaluator = (c: { gate: PolicyGate; input: PolicyInput; timeoutMs: number }) => Promise<PolicyResult>;

/** More transitions than any playbook needs: a loop in the simulation stops here. */
const MAX_EVENTS = 20_000;

export interface DryRunInput {
  pb: Playbook;
  alert: Alert;
  target: string;
  workflowId: string;
  ledger: AdmissionLedger;
  demoted: Map<string, string>;
  actuator: DryRunActuator;
  /** The OPA gate's evaluator; absent: policy gates get no answer and their onError rule decides. */
  policy?: PolicyEvaluator;
  evidence?: EvidenceReader;
}

export interface DryRunOutcome {
  events: SimEvent[];
  sequence: StepOutcome[];
  /** Every command the core gave, in order (the parity test compares them with a real run's). */
  commands: IncidentCommand[];
  outcome: 'resolved' | 'escalated';
  reason: string;
  state: IncidentState;
}

const passing = (v: NonNullable<Playbook['steps'][number]['verification']>, ok: boolean, evidence: string): ProbeRound => ({
  ...(v.http ? { http: { ok, evidence } } : {}),
  ...(v.promql ? { promql: { outcome: ok ? ('pass' as const) : ('fail' as const), evidence } } : {}),
  ...(v.kubernetes ? { kubernetes: { ok, evidence } } : {}),
});

export async function dryRun(o: DryRunInput): Promise<DryRunOutcome> {
  const { pb, ledger } = o;
  const incidentId = `${o.workflowId}:simulate`;
  const env: IncidentEnv = incidentEnv({
    input: { playbook: pb, alert: o.alert, target: o.target },
    incidentId,
    workflowId: o.workflowId,
    options: { timelineCap: 10_000, lockLeaseMs: 2 * 3_600_000, fingerprintCap: 1_000 },
  });
  let s = newState(incidentId, o.alert, o.alert.receivedAt);
  s.pause = ledger.pause;
  let now = o.alert.receivedAt;
  const events: SimEvent[] = [];
  const commands: IncidentCommand[] = [];
  const queue: UntimedEvent[] = [{ kind: 'start', carried: false }];
  let lastDryRun: DryRunResult | undefined;
  let stopped: string | undefined;
  const label = (i: number): string => `step ${i + 1}/${pb.steps.length} (${pb.steps[i]?.name ?? '?'})`;

  const governor = (c: Extract<IncidentCommand, { kind: 'askGovernor' }>): AdmitResult => {
    const a = c.admit;
    const reason = a.step && pb.mode !== 'dry-run' ? o.demoted.get(`${pb.name}#${a.step.index}`) : undefined;
    const demotion = reason ? { demotion: { demoted: true, reason, failures: 0, runs: 0 } } : {};
    const begin = reason && !a.step?.approved ? undefined : a.begin;
    const facts = governorFacts(ledger, now);
    if (!begin) return { granted: true, pause: ledger.pause, decisions: [], allowed: false, ...demotion, facts };
    const { decisions, allowed } = admissionGates(ledger, o.target, begin, now, pb.name);
    if (allowed) {
      ledger.starts.push({ target: o.target, at: now });
      recordTouch(ledger, pb.name, o.target, begin, now);
    }
    return { granted: true, pause: ledger.pause, decisions, allowed, ...demotion, facts };
  };

  /** What the report shows of new timeline entries (a refused target, a demotion, a move on). */
  const report = (entries: TimelineEntry[]): void => {
    for (const e of entries) {
      if (e.kind === 'gate.blocked' && e.data.refusal) {
        events.push({ kind: 'gates', step: e.step, at: new Date(e.at).toISOString(), verdict: 'block', decisions: [targetGate(e.data.refusal)], governor: [] });
      } else if (e.kind === 'gate.demoted' || e.kind === 'action.retrying' || e.kind === 'action.movedOn') events.push({ kind: 'advance', message: e.message });
      else if (e.kind === 'gate.policy') events.push({ kind: 'policy', step: e.step, verdict: e.data.policy, message: e.message });
      else if (e.kind === 'verification.skipped') events.push({ kind: 'verification', step: e.step, prediction: 'skipped', message: 'dry run: verification skipped' });
      else if (e.kind === 'resolution' && e.data.unverifiedStep !== undefined) {
        events.push({ kind: 'verification', step: e.data.unverifiedStep, prediction: 'none', message: 'no verification configured: the step counts as success' });
      }
    }
  };

  const interpret = async (c: IncidentCommand): Promise<void> => {
    switch (c.kind) {
      case 'askGovernor': {
        const g = s.machine?.gates;
        const r = governor(c);
        const local: GateDecision[] = g?.local ?? [];
        const verdict = g?.begin ? (r.allowed ? ({ verdict: 'allow' } as const) : combine(r.decisions)) : combine(local);
        events.push({ kind: 'gates', step: s.stepIndex, at: new Date(now).toISOString(), verdict: verdict.verdict, decisions: local, governor: r.decisions });
        // A paused kill switch holds until a person resumes automation: the prediction stops here.
        if (verdict.verdict === 'wait' && ledger.pause.paused) stopped = `automation is paused: the incident would hold until resumed (escalating after ${pb.limits.maxHold})`;
        else queue.push({ kind: 'admitted', result: r });
        return;
      }
      case 'askPolicy': {
        const timeoutMs = toMs(c.gate.timeout);
        const result: PolicyResult = o.policy
          ? await o.policy({ gate: c.gate, input: c.input, timeoutMs })
          : { ok: false, error: { kind: 'unavailable', message: 'no OPA is configured for the simulation (--opa-url, --opa-bundle or the config file\'s opa)' }, backend: 'none', durationMs: 0 };
        queue.push({ kind: 'policyDecided', result });
        return;
      }
      case 'requestApproval': {
        const p = s.pendingApproval!;
        const shown = p.preview ? ` showing its dry run (${p.preview})` : '';
        events.push({ kind: 'approval', step: c.step, approvers: p.approvers, message: `would ask ${p.approvers.join(', ')} to approve ${p.what}${shown} (expires after ${pb.steps[c.step]!.approvalTimeout}); simulated as approved` });
        for (const user of p.approvers.slice(0, p.needed ?? 1)) queue.push({ kind: 'decided', decision: { decision: 'approve', user } });
        return;
      }
      case 'preview': {
        // The same dry run the workflow shows in the approval request.
        const r = await o.actuator(pb.steps[c.step]!, env.ctx, c.idempotencyKey, pb.allow, pb.limits.blastRadius);
        const hosts = r.hosts ? { hosts: r.hosts } : {};
        queue.push({ kind: 'previewed', outcome: r.ok ? { ok: true, summary: r.summary, durationMs: 0, data: {}, ...hosts } : { ok: false, error: r.error ?? r.summary, refused: false, ...hosts } });
        return;
      }
      case 'runAction': {
        const step = pb.steps[c.step]!;
        const r = await o.actuator(step, env.ctx, c.idempotencyKey, pb.allow, pb.limits.blastRadius);
        lastDryRun = r;
        events.push({ kind: 'action', step: c.step, try: c.stepTry, name: step.name, what: env.describe.action(step), dryRun: r.summary, ok: r.ok, ...(r.error ? { error: r.error } : {}) });
        now += 1_000;
        const hosts = r.hosts ? { hosts: r.hosts } : {};
        queue.push({ kind: 'actionResult', outcome: r.ok ? { ok: true, summary: r.summary, durationMs: 0, data: {}, ...hosts } : { ok: false, error: r.error ?? r.summary, refused: false, ...hosts } });
        return;
      }
      case 'verify': {
        const v = pb.steps[c.step]!.verification!;
        const heals = lastDryRun?.wouldHeal !== false;
        if (s.verify?.probes === 0) {
          const assumed = lastDryRun?.wouldHeal === undefined;
          events.push({
            kind: 'verification',
            step: c.step,
            prediction: !heals ? 'fails' : assumed ? 'assumed-heals' : 'heals',
            message: !heals
              ? `the target's dry run says this would not heal it: verification would fail after ${v.deadline}`
              : assumed
                ? `the target gave no prediction: assumed healthy for ${v.window} (set params.dryRunHeader on targets that support a server-side dry run)`
                : `the target's dry run says this heals it: healthy for ${v.window} expected`,
          });
        }
        queue.push({ kind: 'verified', round: passing(v, heals, heals ? 'healthy (predicted)' : 'unhealthy (predicted)') });
        return;
      }
      case 'escalateRung': {
        const rung = pb.escalation[c.rung] as Extract<Playbook['escalation'][number], { kind: 'webhook' }>;
        queue.push({ kind: 'notified', rung: c.rung, ok: true, summary: `${rung.request.method} ${rung.request.url.replace(/\?.*$/, '')} (not sent: simulation)` });
        return;
      }
      case 'collectEvidence': {
        // Read-only, as in a real run; without sources every part is reported missing and a
        // step's `when:` sees no evidence (so it is skipped, as a real run without sources would).
        const pack = o.evidence
          ? await o.evidence(requestFor(env, c, s.verify?.lastEvidence)).catch((err: unknown) => unavailablePack(c, `evidence could not be collected: ${(err as Error).message}`))
          : unavailablePack(c, 'simulate was given no evidence sources');
        queue.push({ kind: 'evidence', pack });
        return;
      }
      case 'page':
        queue.push({ kind: 'paged', rung: c.rung, action: 'trigger', ok: true, result: { status: 202, message: 'not sent (simulation)', dedupKey: c.page.dedupKey } });
        return;
      case 'resolvePage':
        queue.push({ kind: 'paged', rung: c.rung, action: 'resolve', ok: true, result: { status: 202, message: 'not sent (simulation)' } });
        return;
      case 'release':
        if (c.cooldownMs !== undefined) ledger.cooldowns[o.target] = { until: now + c.cooldownMs, incidentId };
        return;
      case 'silence': {
        const m = c.matchers.map((x) => `${x.name}=${JSON.stringify(x.value)}`).join(',');
        events.push({ kind: 'silence', message: `would silence {${m}} in Alertmanager until ${new Date(c.endsAt).toISOString()} (createdBy ${c.createdBy})` });
        queue.push({ kind: 'silenced', purpose: c.purpose, ok: true, id: 'simulated', endsAt: c.endsAt });
        return;
      }
      case 'findSimilar':
        queue.push({ kind: 'similarFound', similar: [] }); // the simulation reads no store
        return;
      case 'unsilence':
        events.push({ kind: 'silence', message: 'would expire the silence: the alerts notify again' });
        queue.push({ kind: 'unsilenced', purpose: c.purpose, ok: true, expired: [] });
        return;
      case 'publish':
        return report(c.entries);
      default:
        return; // endAction, recordRun, timers (below), status, answers: nothing to simulate
    }
  };

  for (let n = 0; n < MAX_EVENTS && !stopped; n++) {
    let e = queue.shift();
    if (!e) {
      const w = s.machine?.wait;
      if (s.phase === 'done' || !w) break;
      now = Math.max(now, w.until); // the simulated clock jumps to the end of the wait
      e = { kind: 'timer', id: w.id };
    }
    const t = next(env, s, { ...e, at: now } as IncidentEvent);
    s = t.state;
    commands.push(...t.commands);
    for (const c of t.commands) await interpret(c);
  }
  const sequence = stepSequenceOf(s.timeline);
  if (stopped) return { events, sequence, commands, outcome: 'escalated', reason: stopped, state: s };
  if (s.phase !== 'done') return { events, sequence, commands, outcome: 'escalated', reason: `simulation stopped after ${MAX_EVENTS} events at ${label(s.stepIndex)}`, state: s };
  return { events, sequence, commands, outcome: s.status === 'resolved' ? 'resolved' : 'escalated', reason: s.outcome ?? '', state: s };
}
