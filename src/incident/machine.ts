// The incident's decision core: next(env, state, event) → { state, commands }. Pure: no I/O, no
// clock (every event carries its time), no Temporal. The workflow (workflows/incident.ts) and
// `medic simulate` (src/simulate/engine.ts) interpret the same commands, so a simulation takes
// the path a real run takes. Phases: gates (+ target lock) → (approval) → act → verify → next
// step → escalate (the ladder, then a hold) → done.
import { graphFor } from '../graphs/query.js';
import { entry } from '../../workflows/contracts-timeline.js';
import { climb, continueFinishing, escalatePhase, holdEnded, onNotified, onPaged, onTaken } from './escalation.js';
import { endWith, finish, Run, toEscalation } from './run.js';
import { applyAlerts, applyDecision, refuseDecision } from './state.js';
import { acted, actPhase, admitted, approvalPhase, gatesPhase, previewed, verified, verifyPhase } from './steps.js';
import { policyDecided } from './policy.js';
import { humanOutcome, refuseResolve, refuseTake } from './ladder.js';
import { applyScope } from './scope.js';
import { findSimilar, onSimilar } from './similar.js';
import { onSilenced, onSnooze, onUnsilenced, refuseSnooze } from './silences.js';
import { collect, onEvidence } from './evidence.js';
import type { IncidentEnv, IncidentEvent, IncidentState, TimerName, Transition } from './types.js';

/** The state is JSON (it is carried across continue-as-new); entries are never changed once written. */
const copy = (s: IncidentState): IncidentState => ({ ...(JSON.parse(JSON.stringify({ ...s, timeline: [] })) as IncidentState), timeline: [...s.timeline] });

type Simple = Extract<IncidentEvent, { kind: 'admitted' | 'actionResult' | 'previewed' | 'verified' | 'policyDecided' | 'notified' | 'silenced' | 'unsilenced' | 'similarFound' | 'drillReport' | 'paged' | 'evidence' }>;
type EventOf<K extends Simple['kind']> = Extract<Simple, { kind: K }>;

/** Events taken by one call. Answers to a command name it: they are taken only while that command
 * is in flight (a late or repeated one is dropped); the others (undefined) always. */
const SIMPLE: { [K in Simple['kind']]: [NonNullable<Run['m']['inFlight']> | undefined, (r: Run, e: EventOf<K>) => void] } = {
  admitted: ['governor', (r, e) => admitted(r, e.result)],
  actionResult: ['action', (r, e) => acted(r, e.outcome)],
  previewed: ['preview', (r, e) => previewed(r, e.outcome)],
  verified: ['verify', (r, e) => verified(r, e.round)],
  policyDecided: ['policy', (r, e) => policyDecided(r, e.result)],
  notified: ['notify', onNotified],
  silenced: [undefined, onSilenced],
  unsilenced: [undefined, onUnsilenced],
  similarFound: [undefined, (r, e) => onSimilar(r, e.similar)],
  drillReport: [undefined, (r, e) => r.note(entry.drillReport({ message: e.message, data: { drill: e.report } }))],
  paged: [undefined, onPaged],
  evidence: [undefined, (r, e) => onEvidence(r, e.pack)],
};

function handle(r: Run, event: Simple): void {
  const [awaiting, take] = SIMPLE[event.kind] as [string | undefined, (r: Run, e: Simple) => void];
  if (awaiting === undefined || r.m.inFlight === awaiting) take(r, event);
}

export function next(env: IncidentEnv, state: IncidentState, event: IncidentEvent): Transition {
  const r = new Run(env, copy(state), event.at);
  if (r.s.phase === 'done' && event.kind !== 'start') return afterDone(r, event);
  switch (event.kind) {
    case 'start':
      start(r, event);
      break;
    case 'alerts':
      applyScope(r.s, env.playbook, event.alerts);
      for (const a of applyAlerts(r.s, event.alerts, env.options.fingerprintCap)) {
        const correlated = a.annotations.medicCorrelation ? ` — correlated: ${a.annotations.medicCorrelation}` : '';
        const over = a.annotations.medicOverflow ? ` — over the open-incident cap; would have opened ${a.annotations.medicOverflow}` : '';
        r.note(entry.alertReceived({ message: `${a.alertname} ${a.status} (${a.severity}) from ${a.source}${correlated}${over}`, data: { labels: a.labels, status: a.status, source: a.source } }));
      }
      break;
    case 'pause': {
      const p = event.pause;
      r.s.pause = p;
      r.note(
        entry.killSwitch({
          message: p.paused ? `kill switch ON by ${p.by ?? '?'}` : `kill switch OFF by ${p.by ?? '?'}`,
          data: { paused: p.paused, ...(p.by ? { by: p.by } : {}), ...(p.reason ? { reason: p.reason } : {}) },
        }),
      );
      break;
    }
    case 'lockFreed':
      r.m.lockFreed = true;
      break;
    case 'decided': {
      const why = refuseDecision(r.s, event.decision, r.at);
      if (why) return refuse(r, why);
      const applied = applyDecision(r.s, event.decision, r.at, (i) => r.label(i));
      r.note(applied.entry);
      r.emit({ kind: 'answer', value: applied.result });
      break;
    }
    case 'taken': {
      const why = refuseTake(r.s, event.take);
      if (why) return refuse(r, why);
      onTaken(r, event.take);
      break;
    }
    case 'resolvedByHand': {
      const why = refuseResolve(r.s);
      if (why) return refuse(r, why);
      const { user, reason } = event.resolve;
      r.s.resolvedBy = { by: user, at: r.at, ...(reason ? { reason } : {}) };
      r.note(entry.resolvedByHand({ message: `${user} resolved the incident by hand${reason ? `: ${reason}` : ''}`, data: { resolvedBy: r.s.resolvedBy } }));
      r.emit({ kind: 'answer', value: { by: user, at: r.at } });
      break;
    }
    case 'forged':
      r.note(entry.forged({ message: `refused a forged ${event.what} claiming to be ${event.user}: ${event.reason}`, data: { forged: { kind: event.idKind, user: event.user, what: event.what, reason: event.reason } } }));
      break;
    case 'snoozed': {
      const why = refuseSnooze(env.playbook, r.ended(), event.snooze);
      if (why) return refuse(r, why);
      onSnooze(r, event.snooze);
      break;
    }
    case 'timer':
      if (r.m.wait?.id === event.id) {
        const w = r.m.wait;
        r.m.wait = undefined;
        afterWait(r, w.timer, true);
      }
      break;
    case 'admitted':
    case 'actionResult':
    case 'previewed':
    case 'verified':
    case 'policyDecided':
    case 'notified':
    case 'silenced':
    case 'unsilenced':
    case 'similarFound':
    case 'drillReport':
    case 'paged':
    case 'evidence':
      handle(r, event);
      break;
  }
  proceed(r);
  return r.done();
}

function refuse(r: Run, reason: string): Transition {
  return { state: r.s, commands: [{ kind: 'refuse', reason }] };
}

/** After the end: Updates are refused, late answers are recorded, nothing new starts. */
function afterDone(r: Run, event: IncidentEvent): Transition {
  if (event.kind === 'decided') return refuse(r, refuseDecision(r.s, event.decision, r.at) ?? `${r.s.incidentId} has ended (${r.s.status})`);
  if (event.kind === 'taken') return refuse(r, refuseTake(r.s, event.take) ?? `${r.s.incidentId} has ended`);
  if (event.kind === 'resolvedByHand') return refuse(r, refuseResolve(r.s) ?? `${r.s.incidentId} has ended`);
  if (event.kind === 'snoozed') return refuse(r, `${r.s.incidentId} has ended`);
  // A page triggered before an escalated end may be answered after it (PagerDuty was down);
  // Alertmanager answers the silence expiry sent at the end.
  if (event.kind === 'paged' || event.kind === 'silenced' || event.kind === 'unsilenced') {
    if (event.kind === 'paged') onPaged(r, event);
    else if (event.kind === 'silenced') onSilenced(r, event);
    else onUnsilenced(r, event);
    return r.done();
  }
  // An escalation snapshot may come back after the end: it is recorded all the same.
  if (event.kind === 'evidence') {
    onEvidence(r, event.pack);
    return r.done();
  }
  return { state: r.s, commands: [] };
}

function start(r: Run, e: Extract<IncidentEvent, { kind: 'start' }>): void {
  const { s, env } = r;
  if (e.carried) {
    s.continuedAsNew += 1;
    const w = r.m.wait;
    if (w) r.emit({ kind: 'startTimer', id: w.id, timer: w.timer, ms: Math.max(0, w.until - r.at) });
  } else {
    if (e.scope) s.scope = e.scope;
    const { source, startsAt, receivedAt, annotations, alertname, severity } = env.alert;
    // What the store needs for time-to-detect (src/store/store.ts ttdSecondsOf).
    const detection = { source, startsAt, receivedAt, ...(annotations.ttdSeconds ? { ttdSeconds: annotations.ttdSeconds } : {}) };
    r.note(entry.alertOpened({ message: `incident opened: ${alertname} (${severity}) on ${env.target}; playbook ${env.playbook.name}`, data: { detection } }));
    collect(r, 'open');
    // The alert's own expression is hostile: graphed only when the playbook allow-lists it.
    const graph = graphFor(env.playbook, env.alert, env.ctx);
    if (graph.refused) r.note(entry.graphRefused({ message: graph.refused, data: { graph: { refused: true, ...(graph.query ? { query: graph.query } : {}) } } }));
    if (env.options.similar && !e.overflow && !e.refusal) findSimilar(r);
    if (e.overflow) {
      r.note(
        entry.escalationOverflow({
          message: `overflow incident: ${e.overflow.reason}; alerts of further new groups are recorded here and escalated, and medic acts on none of them`,
          data: { overflow: e.overflow },
        }),
      );
      toEscalation(r, `alert flood: ${e.overflow.reason}`);
    }
  }
  if (e.refusal) {
    // Not a playbook this worker loaded: escalate at once, before any gate, lock or step.
    r.note(entry.playbookRefused({ message: `blocked: ${e.refusal.reason}; nothing runs`, data: { playbook: { requested: e.refusal.ref ?? null, loaded: e.refusal.loaded } } }));
    s.escalationReason = e.refusal.reason;
    if (s.phase !== 'done' && s.phase !== 'escalate') {
      r.cancelWait();
      s.phase = 'escalate';
    }
  }
}

/** Whether the current wait is moot (the event made it so); its timer is then cancelled. */
function woken(r: Run): boolean {
  const w = r.m.wait;
  if (!w) return false;
  switch (w.timer) {
    case 'recheck':
      return w.lock ? r.m.lockFreed === true || r.ended() : r.ended() || r.s.pause.paused !== w.paused;
    case 'approval':
      return r.s.approval !== undefined || r.ended();
    case 'rung':
    case 'take':
      return r.ended() || r.s.owner !== undefined;
    case 'hold':
      return r.ended();
    case 'probe':
      return false; // a verification round is not cut short
  }
}

function wake(r: Run): void {
  const w = r.m.wait!;
  r.cancelWait();
  afterWait(r, w.timer, false);
}

function afterWait(r: Run, timer: TimerName, fired: boolean): void {
  const { s } = r;
  switch (timer) {
    case 'recheck':
      r.m.lockFreed = false;
      return;
    case 'probe':
      return;
    case 'approval':
      if (s.approval?.decision === 'approve') s.phase = 'gates'; // gates again: the world may have changed while waiting
      else if (s.approval?.decision === 'deny') toEscalation(r, `${r.label()} denied by ${s.approval.by}: ${s.approval.reason ?? 'no reason given'}`);
      else if (!r.ended()) {
        s.approval = { decision: 'expired', by: 'medic', at: r.at };
        r.note(entry.approvalExpired({ message: `approval for ${r.label()} expired unanswered`, step: s.stepIndex, data: {} }));
        toEscalation(r, `approval for ${r.label()} expired after ${r.step().approvalTimeout}`);
      }
      return;
    case 'rung':
    case 'take':
      return climb(r, fired);
    case 'hold':
      holdEnded(r);
  }
}

/** The loop: whenever nothing is in flight or waited for, take the next decision. */
export function proceed(r: Run): void {
  for (let guard = 0; guard < 1_000; guard++) {
    const { s, m } = r;
    if (m.wait && woken(r)) {
      wake(r);
      continue;
    }
    if (s.phase === 'done' || m.inFlight || m.wait) return;
    if (m.awaitEvidence && s.phase === 'gates') return; // a step's `when:` waits for the opening evidence
    if (m.finishing) return continueFinishing(r);
    if (s.resolvedBy) {
      endWith(r, 'resolved', humanOutcome(s.resolvedBy));
      continue;
    }
    if (s.resolvedByAlert && (s.phase === 'gates' || s.phase === 'approval')) return finish(r, 'resolved', 'alert resolved before medic acted');
    phases[s.phase](r);
  }
  throw new Error('the decision core did not settle (a loop between phases)');
}

const phases: Record<Exclude<IncidentState['phase'], 'done'>, (r: Run) => void> = {
  gates: gatesPhase,
  approval: approvalPhase,
  act: actPhase,
  verify: verifyPhase,
  escalate: escalatePhase,
};
