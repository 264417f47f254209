// Properties of the decision core over generated playbooks and generated worlds (fast-check): a
// random outside world answers every command (governor verdicts, action and probe results, pages)
// and throws in random events (alerts resolving, the kill switch, decisions, takes, hand resolves).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { IncidentCommand, UntimedEvent } from '../../src/incident/types.js';
import type { PlaybookInput } from '../../src/playbooks/schema.js';
import type { GateDecision } from '../../src/policy/gates.js';
import { testPlaybook } from '../support/fixtures.js';
import { coreDriver, type CoreDriver } from '../support/incident-core.js';

const URL = 'http://127.0.0.1:9';
const CALLS = new Set<IncidentCommand['kind']>(['askGovernor', 'askPolicy', 'runAction', 'verify', 'escalateRung', 'resolvePage']);

const stepArb = fc.record({
  attempts: fc.integer({ min: 1, max: 2 }),
  approval: fc.constantFrom('none', 'U1'),
  verify: fc.boolean(),
  dryRun: fc.boolean(),
  policy: fc.constantFrom('none', 'deny', 'allow', 'approve'),
});
const rungArb = fc.oneof(
  fc.record({ kind: fc.constant('record' as const), to: fc.constant('on-call'), after: fc.constantFrom(undefined, '1m') }),
  fc.record({ kind: fc.constant('slack-group' as const), group: fc.constant('@oncall'), wait: fc.constant('5m') }),
  fc.record({ kind: fc.constant('pagerduty' as const), routingKeySecret: fc.constant('PD_KEY') }),
  fc.record({ kind: fc.constant('webhook' as const), request: fc.constant({ method: 'POST' as const, url: `${URL}/hook` }) }),
);
const playbookArb = fc.record({
  steps: fc.array(stepArb, { minLength: 1, maxLength: 3 }),
  mode: fc.constantFrom('auto' as const, 'approve-all' as const, 'dry-run' as const),
  escalation: fc.array(rungArb, { maxLength: 3 }),
  deploying: fc.boolean(),
});
type Scenario = typeof playbookArb extends fc.Arbitrary<infer T> ? T : never;

function build(sc: Scenario): CoreDriver {
  const pb = testPlaybook({
    name: 'prop',
    match: { alertname: 'DemoServiceDown' },
    target: '{{labels.service}}',
    mode: sc.mode,
    holdAfterEscalation: '2m',
    limits: { maxHold: '3m' },
    demotionApprovers: [],
    escalation: sc.escalation.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))) as PlaybookInput['escalation'],
    steps: sc.steps.map((s, i) => ({
      name: `s${i}`,
      action: 'http' as const,
      params: { url: `${URL}/s${i}` },
      attempts: s.attempts,
      ...(s.dryRun ? { dryRun: true } : {}),
      ...(s.approval !== 'none' ? { requiresApproval: true, approvers: ['U1'] } : {}),
      ...(s.policy !== 'none' ? { policy: { decision: 'medic/remediation/decision', onError: s.policy } } : {}),
      ...(s.verify ? { verification: { http: { url: `${URL}/healthz` }, window: '1m', interval: '20s', deadline: '3m' } } : {}),
    })),
  });
  return coreDriver(pb, { labels: sc.deploying ? { deploying: 'true' } : {} });
}

/** Plays the world for up to `limit` moves, checking the invariants after every transition. */
function play(d: CoreDriver, choices: number[], limit = 400): { moves: number } {
  let outstanding: IncidentCommand | undefined;
  let admittedFor: number | undefined;
  const triggers: number[] = [];
  let i = 0;
  const pick = (n: number): number => (choices.length === 0 ? 0 : choices[i++ % choices.length]! % n);
  const step = (e: UntimedEvent, advance = 1_000): void => {
    const before = JSON.stringify(d.state);
    const wasDone = d.state.phase === 'done';
    const prev = d.state;
    const cs = d.send(e, advance);
    // next() never changes the state it was given
    expect(JSON.stringify(prev)).toBe(before);
    // no command after the end, except an Update's refusal and the record of a page's late answer
    if (wasDone) expect(cs.filter((c) => c.kind !== 'refuse' && !(e.kind === 'paged' && c.kind === 'publish'))).toEqual([]);
    for (const c of cs) {
      if (CALLS.has(c.kind)) {
        // never more than one call (and so never more than one action) in flight
        expect(outstanding, `${c.kind} while ${outstanding?.kind} is in flight`).toBeUndefined();
        outstanding = c;
      }
      if (c.kind === 'runAction') expect(admittedFor, 'an action without the governor admitting it').toBe(c.step);
      // a step with a policy acts only on its verdict for this try: never a deny; a required
      // approval (outside dry-run mode) only once given
      if (c.kind === 'runAction' && d.step(c.step).policy) {
        const p = d.state.policy;
        expect(p && p.step === c.step && p.try === c.stepTry, 'an action before its policy answered').toBe(true);
        expect(p!.verdict.outcome).not.toBe('deny');
        if (p!.verdict.outcome === 'require_approval' && d.mode !== 'dry-run') expect(d.state.approval?.decision).toBe('approve');
      }
      if (c.kind === 'page') triggers.push(c.rung);
      if (c.kind === 'escalateRung' || c.kind === 'page') {
        // every escalation is preceded by its recorded reason
        const reason = d.state.escalationReason;
        expect(reason).toBeTruthy();
        expect(d.notes()).toContain(`escalating: ${reason}`);
      }
    }
    // the state survives continue-as-new as JSON; seqs are contiguous
    expect(JSON.parse(JSON.stringify(d.state))).toEqual(d.state);
    const seqs = d.state.timeline.map((x) => x.seq);
    expect(seqs).toEqual(seqs.map((_, k) => (seqs[0] ?? 0) + k));
  };
  step({ kind: 'start', carried: false });
  let moves = 0;
  let externals = 0;
  for (; moves < limit && !(d.state.phase === 'done' && !outstanding && triggers.length === 0); moves++) {
    // at most 8 events from outside; the world answers everything else
    const r = externals < 8 ? pick(20) : 6 + pick(14);
    if (r < 6) externals += 1;
    if (r === 0) step({ kind: 'alerts', alerts: [{ ...d.alert, status: 'resolved' }] });
    else if (r === 1) step({ kind: 'pause', pause: { paused: !d.state.pause.paused, by: 'ops' } });
    else if (r === 2) step({ kind: 'resolvedByHand', resolve: { user: 'U7' } });
    else if (r === 3) step({ kind: 'decided', decision: { decision: pick(2) === 0 ? 'approve' : 'deny', ...(pick(2) === 0 ? { user: 'U1' } : { user: 'U2', via: '@sre' }) } });
    else if (r === 4 && d.state.ladder?.waiting) step({ kind: 'taken', take: { user: 'U8', rung: d.state.ladder.waiting.rung } });
    else if (r === 5) step({ kind: 'lockFreed' });
    else if (outstanding) {
      const c = outstanding;
      outstanding = undefined;
      if (c.kind === 'askGovernor') {
        const k = pick(4);
        admittedFor = k > 0 && k < 3 && c.admit.begin ? c.admit.step?.index : undefined;
        // k: 0 the governor's gates hold (rate limit) or block (cooldown), 1-2 admitted, 3 another incident holds the lock
        const allowed = k > 0 && k < 3 && c.admit.begin !== undefined;
        const decisions: GateDecision[] =
          c.admit.begin && k === 0 ? [pick(2) === 0 ? { gate: 'rate-limit', outcome: 'wait', reason: 'over the hourly limit', untilMs: d.now + 60_000 } : { gate: 'cooldown', outcome: 'block', reason: 'cooling down' }] : [];
        step({ kind: 'admitted', result: { granted: k !== 3, ...(k === 3 ? { holder: 'other' } : {}), pause: d.state.pause, decisions, allowed } });
      } else if (c.kind === 'askPolicy') {
        // OPA allows, denies, asks @sre, is down (onError decides) or answers in a broken shape
        const k = pick(5);
        const answer = k === 0 ? { outcome: 'allow' as const, reasons: [] } : k === 1 ? { outcome: 'deny' as const, reasons: ['no'] } : { outcome: 'require_approval' as const, reasons: ['major'], approvers: ['@sre'] };
        step({ kind: 'policyDecided', result: k < 3 ? { ok: true, answer, backend: 'wasm', durationMs: 1 } : { ok: false, error: { kind: k === 3 ? 'unavailable' : 'invalid', message: 'x' }, backend: 'server', durationMs: 1 } });
      } else if (c.kind === 'runAction') {
        admittedFor = undefined;
        step({ kind: 'actionResult', outcome: pick(3) === 0 ? { ok: false, error: 'HTTP 500', refused: pick(2) === 0 } : { ok: true, summary: 'ok', durationMs: 1, data: {} } });
      } else if (c.kind === 'verify') step({ kind: 'verified', round: { http: { ok: pick(3) > 0, evidence: 'e' } } }, 20_000);
      else if (c.kind === 'escalateRung') step({ kind: 'notified', rung: c.rung, ok: pick(2) === 0, summary: 'POST hook' });
      else if (c.kind === 'resolvePage') step({ kind: 'paged', rung: c.rung, action: 'resolve', ok: true, result: { status: 202, message: 'ok' } });
    } else if (triggers.length > 0 && pick(2) === 0) {
      const rung = triggers.shift()!;
      step({ kind: 'paged', rung, action: 'trigger', ok: pick(3) > 0, result: { status: 202, message: 'ok', dedupKey: 'inc-1' }, error: 'down' });
    } else if (d.state.machine?.wait) {
      const w = d.state.machine.wait;
      d.now = Math.max(d.now, w.until);
      step({ kind: 'timer', id: w.id }, 0);
    } else if (triggers.length > 0) {
      const rung = triggers.shift()!;
      step({ kind: 'paged', rung, action: 'trigger', ok: true, result: { status: 202, message: 'ok' } });
    } else break;
  }
  return { moves };
}

const RUNS = Number(process.env.MEDIC_PROPERTY_RUNS ?? 300);

describe('decision core: properties', () => {
  it(`over ${RUNS} generated playbooks and worlds: one call in flight, admitted actions only, reasons before escalation, nothing after the end, and it always ends`, () => {
    fc.assert(
      fc.property(playbookArb, fc.array(fc.nat(1_000), { minLength: 1, maxLength: 60 }), (sc, choices) => {
        const d = build(sc);
        play(d, choices);
        // it ends: resolved or escalated, released exactly once
        expect(d.state.phase).toBe('done');
        expect(['resolved', 'escalated']).toContain(d.state.status);
        expect(d.all.filter((c) => c.kind === 'release')).toHaveLength(1);
        // an escalated incident recorded why
        if (d.state.status === 'escalated') expect(d.state.outcome).toBe(d.state.escalationReason);
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic: the same events give the same states and commands', () => {
    fc.assert(
      fc.property(playbookArb, fc.array(fc.nat(1_000), { minLength: 1, maxLength: 40 }), (sc, choices) => {
        const a = build(sc);
        play(a, choices);
        const b = build(sc);
        play(b, choices);
        expect(b.all).toEqual(a.all);
        expect(b.state).toEqual(a.state);
      }),
      { numRuns: 50 },
    );
  });

  it('an answer for a call not in flight (late or duplicated) or a stale timer changes nothing', () => {
    const d = build({ steps: [{ attempts: 1, approval: 'none', verify: true, dryRun: false, policy: 'none' }], mode: 'auto', escalation: [], deploying: false });
    d.send({ kind: 'start', carried: false }); // the governor is asked: nothing else is in flight
    const before = JSON.stringify(d.state);
    for (const e of [
      { kind: 'actionResult', outcome: { ok: true, summary: 'x', durationMs: 1, data: {} } },
      { kind: 'verified', round: { http: { ok: true, evidence: 'x' } } },
      { kind: 'timer', id: 99 },
      { kind: 'notified', rung: 0, ok: true, summary: 'x' },
      { kind: 'paged', rung: 0, action: 'resolve', ok: true },
    ] as const) {
      expect(d.send(e)).toEqual([]);
      expect(JSON.stringify(d.state)).toBe(before);
    }
  });
});
