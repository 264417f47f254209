// Escalation in the decision core: the ladder, rung by rung (each may wait `after` before it
// fires; a slack-group rung asks a user group to take the incident and waits for "Take it"),
// then a hold during which the incident absorbs repeats, then the end. A person taking or
// resolving the incident, or the alert resolving, stops the ladder. PagerDuty pages sent by the
// ladder are resolved before an incident ends resolved.
import { toMs } from '../playbooks/duration.js';
import type { TakeInput } from '../../workflows/contracts.js';
import { entry } from '../../workflows/contracts-timeline.js';
import { humanOutcome, newLadder } from './ladder.js';
import { endWith, finish, type Run } from './run.js';
import type { IncidentEvent } from './types.js';
import { endSilence } from './silences.js';

export function escalatePhase(r: Run): void {
  const { s, env } = r;
  if (!s.escalationSent && !s.ladder) {
    r.setStatus('escalated');
    endSilence(r); // whoever is paged sees the alert again
    r.note(entry.escalationStarted({ message: `escalating: ${s.escalationReason ?? 'unknown reason'}`, data: { reason: s.escalationReason ?? 'unknown reason' } }));
    s.ladder = newLadder(env.playbook.escalation, r.at);
    r.note(entry.escalationLadder({ message: `escalation ladder: ${s.ladder.rungs.map((x, i) => `${i + 1}) ${x}`).join('; ')}`, data: { ladder: s.ladder.rungs } }));
  }
  if (!s.escalationSent) return climb(r, false);
  hold(r);
}

const stopped = (r: Run): boolean => r.ended() || r.s.owner !== undefined;

/** Runs the ladder from its current rung until it waits, calls out, ran out or was stopped. */
export function climb(r: Run, fired: boolean): void {
  const { s, env } = r;
  const L = s.ladder!;
  const rungs = env.playbook.escalation;
  while (L.current < rungs.length && !stopped(r)) {
    const rung = rungs[L.current]!;
    if (rung.after && !L.waiting) {
      L.dueAt ??= r.at + toMs(rung.after);
      if (r.at < L.dueAt && !fired) return r.wait('rung', L.dueAt - r.at);
      L.dueAt = undefined;
    }
    fired = false;
    if (rung.kind === 'slack-group') {
      if (!L.waiting) {
        L.waiting = { rung: L.current, group: rung.group, since: r.at, until: r.at + toMs(rung.wait) };
        r.note(entry.takeRequested({ message: `asking ${rung.group} to take it; waiting up to ${rung.wait} (until ${new Date(L.waiting.until).toISOString()})`, data: { take: L.waiting } }));
      }
      if (r.at < L.waiting.until) return r.wait('take', L.waiting.until - r.at);
      L.missed.push(L.current);
      r.note(entry.takeMissed({ message: `nobody in ${rung.group} took it within ${rung.wait}; next rung`, data: { take: { ...L.waiting, outcome: 'missed' } } }));
      L.waiting = undefined;
    } else if (rung.kind === 'record') {
      r.note(entry.handedOver({ message: `handed over to ${rung.to}`, data: { to: rung.to } }));
    } else if (rung.kind === 'pagerduty') {
      page(r, L.current, rung.routingKeySecret);
    } else {
      const refused = env.describe.webhookRefusal(rung, L.current);
      if (refused) r.note(entry.webhookRefused({ message: `escalation webhook refused, nothing was sent: ${refused.message}`, data: { refusal: refused } }));
      else {
        r.m.inFlight = 'notify';
        return r.emit({ kind: 'escalateRung', rung: L.current, idempotencyKey: `${env.incidentId}:escalation-${L.current}` });
      }
    }
    L.current += 1;
  }
  s.escalationSent = true;
  hold(r);
}

/** After the ladder the incident stays open for holdAfterEscalation, absorbing repeats. */
function hold(r: Run): void {
  const { s } = r;
  s.holdUntil ??= r.at + toMs(r.env.playbook.holdAfterEscalation);
  if (!r.ended() && r.at < s.holdUntil) return r.wait('hold', s.holdUntil - r.at);
  holdEnded(r);
}

export function holdEnded(r: Run): void {
  const { s } = r;
  if (s.resolvedBy) return endWith(r, 'resolved', humanOutcome(s.resolvedBy));
  if (s.resolvedByAlert) return endWith(r, 'resolved', `alert resolved after escalation (${s.escalationReason ?? ''})`);
  endWith(r, 'escalated', s.escalationReason ?? 'escalated');
}

export function onNotified(r: Run, e: Extract<IncidentEvent, { kind: 'notified' }>): void {
  r.m.inFlight = undefined;
  r.note(e.ok ? entry.notified({ message: `notified ${e.summary}`, data: {} }) : entry.webhookFailed({ message: `escalation webhook ${e.summary}`, data: {} }));
  r.s.ladder!.current += 1;
  climb(r, false);
}

export function onTaken(r: Run, t: TakeInput): void {
  const { s } = r;
  const group = s.ladder?.waiting?.group ?? '?';
  s.owner = { by: t.user, at: r.at, rung: t.rung, ...(t.via ? { via: t.via } : {}) };
  r.setStatus('acknowledged');
  r.note(entry.taken({ message: `taken by ${t.user}${t.via ? ` (${t.via})` : ''} from ${group}; the escalation ladder stops here`, data: { take: { rung: t.rung, group, outcome: 'taken', by: t.user, at: r.at } } }));
  r.emit({ kind: 'answer', value: { by: t.user, at: r.at, rung: t.rung } });
}

/** A pagerduty rung: the page is built from the incident as it stands and sent in the background. */
function page(r: Run, rung: number, routingKeySecret: string): void {
  const content = r.env.describe.page(r.s, r.at);
  (r.s.pages ??= []).push({ rung, routingKeySecret, dedupKey: content.dedupKey, sent: false });
  r.note(entry.pageSending({ message: `paging PagerDuty (dedup_key ${content.dedupKey}): ${content.summary}`, data: { pagerduty: { event_action: 'trigger', routingKeySecret, ...content } } }));
  r.emit({ kind: 'page', rung, routingKeySecret, page: content });
}

export function onPaged(r: Run, e: Extract<IncidentEvent, { kind: 'paged' }>): void {
  const p = r.s.pages?.find((x) => x.rung === e.rung);
  if (!p) return;
  if (e.action === 'trigger') {
    if (e.ok && e.result) {
      p.sent = true;
      r.note(entry.pageAccepted({ message: `PagerDuty accepted the page: ${e.result.status} ${e.result.message} (dedup_key ${e.result.dedupKey ?? p.dedupKey})`, data: { pagerduty: e.result } }));
    } else {
      p.failed = true;
      r.note(entry.pageFailed({ message: `PagerDuty page failed: ${e.error ?? 'unknown error'}`, data: {} }));
    }
    return;
  }
  if (r.m.inFlight !== 'page') return;
  r.m.inFlight = undefined;
  if (e.ok && e.result) {
    p.resolved = true;
    r.note(entry.pageResolved({ message: `PagerDuty accepted the resolve: ${e.result.status} ${e.result.message}`, data: { pagerduty: e.result } }));
  } else r.note(entry.pageResolveFailed({ message: `PagerDuty resolve failed: ${e.error ?? 'unknown error'}`, data: {} }));
  if (r.m.finishing) r.m.finishing.page += 1;
}

/** Ending: a page still being sent is waited for; each page sent is resolved with its dedup_key. */
export function continueFinishing(r: Run): void {
  const f = r.m.finishing!;
  const pages = r.s.pages ?? [];
  const resolving = f.status === 'resolved';
  // A trigger still being retried holds up only a resolved ending (its alert must be resolved);
  // an escalated incident ends now, and the page's late answer is recorded after the end.
  if (resolving && pages.some((p) => !p.sent && !p.failed)) return;
  for (; resolving && f.page < pages.length; f.page += 1) {
    const p = pages[f.page]!;
    if (!p.sent || p.resolved) continue;
    r.note(entry.pageResolving({ message: `resolving the PagerDuty alert (dedup_key ${p.dedupKey})`, data: { pagerduty: { event_action: 'resolve', routingKeySecret: p.routingKeySecret, dedupKey: p.dedupKey } } }));
    r.m.inFlight = 'page';
    return r.emit({ kind: 'resolvePage', rung: p.rung, routingKeySecret: p.routingKeySecret, dedupKey: p.dedupKey });
  }
  finish(r, f.status, f.outcome);
}
