// The OPA policy gate in the pure decision core (src/incident/policy.ts, src/policy/opa.ts): OPA
// is asked once per try, after the gates and before the action is admitted; allow runs the step,
// deny escalates with the policy's reasons, require-approval asks the groups it names; no answer
// fails closed for risk: high and follows onError otherwise; a wrong shape always denies.
import { describe, expect, it } from 'vitest';
import type { IncidentCommand } from '../../src/incident/types.js';
import { parsePolicyAnswer, policyVerdict, PolicyGateSchema, type PolicyResult } from '../../src/policy/opa.js';
import { PlaybookSchema, type PlaybookInput } from '../../src/playbooks/schema.js';
import { ALLOW, coreDriver, corePlaybook, T0 } from '../support/incident-core.js';
import { testPlaybook } from '../support/fixtures.js';
import { auditFields } from '../../activities/audit.js';
import { isKind } from '../../workflows/contracts-timeline.js';
import type { IncidentStatus } from '../../workflows/contracts.js';

const URL = 'http://127.0.0.1:9';
type StepInput = PlaybookInput['steps'][number];
const pb = (step: Partial<StepInput> = {}) =>
  corePlaybook('opa-core', [{ name: 'rollback', action: 'http', params: { method: 'POST', url: `${URL}/rollback` }, policy: { decision: 'medic/remediation/decision' }, ...step } as StepInput]);
const of = <K extends IncidentCommand['kind']>(cs: IncidentCommand[], kind: K) => cs.filter((c): c is Extract<IncidentCommand, { kind: K }> => c.kind === kind);
const answer = (a: unknown): PolicyResult => {
  const p = parsePolicyAnswer(a, 'test');
  if (!p.ok) throw new Error(p.error);
  return { ok: true, answer: p.answer, hash: 'ab'.repeat(32), backend: 'wasm', durationMs: 3 };
};
const down: PolicyResult = { ok: false, error: { kind: 'unavailable', message: 'OPA server http://127.0.0.1:1: ECONNREFUSED' }, backend: 'server', durationMs: 4 };
const facts = { openIncidents: 4, recentActions: [{ target: 'api', at: new Date(T0 - 60_000).toISOString() }], deployments: {} };

/** Start → governor (lock only, with facts) → the policy question. */
function asked(step: Partial<StepInput> = {}) {
  const d = coreDriver(pb(step));
  const start = d.send({ kind: 'start', carried: false });
  // Nothing is admitted (counted) before the policy answered: the first governor call takes the lock only.
  expect(of(start, 'askGovernor')[0]!.admit.begin).toBeUndefined();
  const cs = d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false, facts } });
  expect(d.kinds(cs)).toEqual(['askPolicy', 'publish']);
  return { d, ask: of(cs, 'askPolicy')[0]! };
}

describe('policy gate in the decision core', () => {
  it('asks OPA with the incident, the step, the time and the governor facts; allow → gates again → admitted → acts', () => {
    const { d, ask } = asked();
    expect(ask).toMatchObject({ step: 0, stepTry: 1, gate: { decision: 'medic/remediation/decision', onError: 'deny', timeout: '2s' } });
    expect(ask.input).toMatchObject({
      incident: { id: 'inc-1', playbook: 'opa-core' },
      alert: { alertname: 'DemoServiceDown', severity: 'critical', status: 'firing' },
      labels: { service: 'api' },
      target: 'api',
      step: { index: 0, name: 'rollback', action: 'http', risk: 'low', targets: [] },
      risk: 'low',
      mode: 'auto',
      time: { now: new Date(T0).toISOString(), weekday: 'Monday', hourUtc: 10, minuteUtc: 0 },
      governor: facts,
    });
    const again = d.send({ kind: 'policyDecided', result: answer({ outcome: 'allow' }) });
    expect(d.kinds(again)).toEqual(['askGovernor', 'publish']);
    expect(of(again, 'askGovernor')[0]!.admit.begin).toBeDefined(); // now the action is admitted
    expect(d.kinds(d.send({ kind: 'admitted', result: ALLOW }))).toEqual(['setStatus', 'runAction', 'publish']);
    const e = d.state.timeline.find((x) => x.kind === 'gate.policy');
    expect(e).toMatchObject({ step: 0, data: { policy: { decision: 'medic/remediation/decision', backend: 'wasm', hash: 'ab'.repeat(32), outcome: 'allow', reasons: [], approvers: [] } } });
    expect(e!.message).toBe(`step 1/1 (rollback): policy medic/remediation/decision (wasm, sha256 ${'ab'.repeat(6)}): ALLOW`);
  });

  it('deny: nothing is admitted or run, the incident escalates with the policy\'s reasons', () => {
    const { d } = asked();
    d.send({ kind: 'policyDecided', result: answer({ outcome: 'deny', reasons: ['medic never touches namespace kube-system'] }) });
    expect(of(d.all, 'runAction')).toEqual([]);
    expect(of(d.all, 'askGovernor').filter((c) => c.admit.begin)).toEqual([]);
    expect(d.state.escalationReason).toBe('policy medic/remediation/decision denied step 1/1 (rollback): medic never touches namespace kube-system');
    expect(d.notes()).toContain(`step 1/1 (rollback): policy medic/remediation/decision (wasm, sha256 ${'ab'.repeat(6)}): DENY: medic never touches namespace kube-system`);
    // The audit log's row: who decided (the policy and its content hash), why, and the outcome.
    const e = d.state.timeline.find(isKind('gate.policy'))!;
    expect(auditFields(e, { playbook: 'opa-core' } as IncidentStatus)).toEqual({
      who: `policy medic/remediation/decision (wasm, sha256 ${'ab'.repeat(32)})`,
      what: e.message,
      why: 'medic never touches namespace kube-system',
      before: 'pending',
      after: 'denied',
    });
  });

  it('require approval: the request names the policy\'s groups and reasons; once approved the step is admitted without asking OPA again', () => {
    const { d } = asked();
    d.send({ kind: 'policyDecided', result: answer({ outcome: 'require_approval', reasons: ['major incident: rollback needs approval'], approvers: ['@sre-leads'] }) });
    const cs = d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false, facts } });
    expect(d.kinds(cs)).toEqual(['requestApproval', 'setStatus', 'startTimer', 'publish']);
    expect(d.state.pendingApproval).toMatchObject({ approvers: ['@sre-leads'], policy: { decision: 'medic/remediation/decision', hash: 'ab'.repeat(32), reasons: ['major incident: rollback needs approval'] } });
    expect(d.notes().at(-1)).toMatch(/^approval needed for step 1\/1 \(rollback\): .* approvers: @sre-leads; expires .*; required by policy medic\/remediation\/decision: major incident: rollback needs approval$/);
    // The step's own approvers do not count: the policy named who decides.
    expect(d.send({ kind: 'decided', decision: { decision: 'approve', user: 'U1' } })).toEqual([{ kind: 'refuse', reason: expect.stringContaining('U1 may not decide step 1') }]);
    d.send({ kind: 'decided', decision: { decision: 'approve', user: 'U2', via: '@sre-leads' } });
    const gov = of(d.all, 'askGovernor').at(-1)!;
    expect(gov.admit).toMatchObject({ begin: expect.any(Object), step: { approved: true } });
    d.send({ kind: 'admitted', result: ALLOW });
    expect(of(d.all, 'askPolicy')).toHaveLength(1);
    expect(of(d.all, 'runAction')).toHaveLength(1);
  });

  it('OPA down: risk high fails closed (deny, escalates) whatever onError says, with a clear timeline entry', () => {
    const { d } = asked({ risk: 'high', policy: { decision: 'medic/remediation/decision', onError: 'deny' } });
    d.send({ kind: 'policyDecided', result: down });
    const v = d.state.policy!.verdict;
    expect(v).toMatchObject({ outcome: 'deny', error: { kind: 'unavailable', rule: 'risk: high fails closed' } });
    expect(d.state.escalationReason).toBe('policy medic/remediation/decision denied step 1/1 (rollback): OPA gave no decision: OPA server http://127.0.0.1:1: ECONNREFUSED');
    expect(d.notes()).toContain('step 1/1 (rollback): policy medic/remediation/decision (server): DENY: OPA gave no decision: OPA server http://127.0.0.1:1: ECONNREFUSED [risk: high fails closed]');
  });

  it('OPA down: onError allow (low risk) acts, onError approve asks the step\'s approvers', () => {
    const a = asked({ policy: { decision: 'medic/remediation/decision', onError: 'allow' } }).d;
    a.send({ kind: 'policyDecided', result: down });
    a.send({ kind: 'admitted', result: ALLOW });
    expect(of(a.all, 'runAction')).toHaveLength(1);
    expect(a.state.policy!.verdict.error?.rule).toBe('onError: allow');

    const b = asked({ risk: 'high', approvers: ['U9'], policy: { decision: 'medic/remediation/decision', onError: 'approve' } }).d;
    b.send({ kind: 'policyDecided', result: down });
    b.send({ kind: 'admitted', result: { ...ALLOW, allowed: false } });
    expect(b.state.pendingApproval?.approvers).toEqual(['U9']);
    expect(b.state.policy!.verdict.error?.rule).toBe('onError: approve (risk: high: still closed, a person decides)');
  });

  it('an answer of the wrong shape always denies (even with onError allow), naming the field', () => {
    const wrong = parsePolicyAnswer({ outcome: 'require_approval', reasons: 'rollback' }, 'OPA server http://x, rule data.medic.remediation.decision');
    expect(wrong).toEqual({
      ok: false,
      error:
        'OPA server http://x, rule data.medic.remediation.decision answered in the wrong shape: result.reasons: Invalid input: expected array, received string; result.approvers: Invalid input: expected array, received undefined',
    });
    expect(parsePolicyAnswer(undefined, 'rule data.medic.x')).toMatchObject({ ok: false, error: expect.stringContaining('rule data.medic.x is undefined') });
    expect(parsePolicyAnswer({ outcome: 'deny', reasons: [] }, 'r')).toMatchObject({ ok: false, error: 'r answered in the wrong shape: result.reasons: a deny must say why (at least one reason)' });
    const gate = PolicyGateSchema.parse({ decision: 'medic/remediation/decision', onError: 'allow' });
    const v = policyVerdict(gate, 'low', { ok: false, error: { kind: 'invalid', message: 'wrong shape' }, backend: 'server', durationMs: 1 });
    expect(v).toMatchObject({ outcome: 'deny', error: { rule: 'a broken policy or answer always denies' } });
  });

  it('a retried step asks again; dry-run mode never waits for a policy approval', () => {
    const { d } = asked({ attempts: 2 });
    d.send({ kind: 'policyDecided', result: answer({ outcome: 'allow' }) });
    d.send({ kind: 'admitted', result: ALLOW });
    d.send({ kind: 'actionResult', outcome: { ok: false, error: 'HTTP 500', refused: false } });
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false, facts } });
    expect(of(d.all, 'askPolicy').map((c) => c.stepTry)).toEqual([1, 2]);

    const dry = coreDriver(testPlaybook({ ...pb(), mode: 'dry-run' }));
    dry.send({ kind: 'start', carried: false });
    dry.send({ kind: 'admitted', result: { ...ALLOW, allowed: false, facts } });
    dry.send({ kind: 'policyDecided', result: answer({ outcome: 'require_approval', reasons: ['r'], approvers: ['@sre-leads'] }) });
    dry.send({ kind: 'admitted', result: ALLOW });
    expect(of(dry.all, 'requestApproval')).toEqual([]);
    expect(of(dry.all, 'runAction')[0]).toMatchObject({ dryRun: true });
  });

  it('a verdict older than 5 minutes is asked again before the step is admitted (the step was held meanwhile)', () => {
    const { d } = asked();
    d.send({ kind: 'policyDecided', result: answer({ outcome: 'allow' }) });
    // The governor holds the admitted step (an hourly limit), for longer than a verdict stays fresh.
    const wait = { gate: 'rate-limit' as const, outcome: 'wait' as const, reason: '6 actions in the last hour on this target (limit 6)', untilMs: d.now + 10 * 60_000 };
    d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false, decisions: [wait], facts } });
    for (let i = 0; i < 3 && of(d.all, 'askPolicy').length === 1; i++) {
      d.fire();
      d.send({ kind: 'admitted', result: { ...ALLOW, allowed: false, facts } });
    }
    expect(d.now - T0).toBeGreaterThanOrEqual(5 * 60_000);
    expect(of(d.all, 'askPolicy')).toHaveLength(2);
    expect(of(d.all, 'runAction')).toEqual([]);
  });

  it('the playbook schema: a high-risk step may not fail open; the decision path is checked', () => {
    const bad = PlaybookSchema.safeParse({ ...pb(), steps: [{ name: 's', action: 'http', risk: 'high', params: { url: `${URL}/x` }, policy: { decision: 'medic/x', onError: 'allow' } }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain('steps.0.policy.onError: a high-risk step fails closed when OPA cannot answer: onError must be deny or approve');
    const path = PlaybookSchema.safeParse({ ...pb(), steps: [{ name: 's', action: 'http', params: { url: `${URL}/x` }, policy: { decision: 'data.medic.x' } }] });
    expect(path.error!.issues[0]).toMatchObject({ path: ['steps', 0, 'policy', 'decision'], message: expect.stringContaining('must be a rule path like medic/remediation/decision') });
  });
});
