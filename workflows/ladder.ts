// The escalation ladder, run rung by rung: each rung may wait (`after`) before it fires; a
// slack-group rung asks a user group to take the incident and waits (a durable timer) for the
// "Take it" Update; whoever takes it owns the incident and the ladder stops. A person resolving
// the incident (or the alert resolving) stops it too. State lives in `s.ladder`, so the Slack
// thread can show the ladder with its current rung, and a continued run picks up where it was.
import { condition, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { toMs } from '../src/playbooks/duration.js';
import type { RenderedHttpRequest } from '../activities/http.js';
import type { EscalationRung } from '../src/playbooks/schema.js';
import { actionProfile } from './profiles.js';
import {
  ResolveInputSchema,
  TakeInputSchema,
  type IncidentState,
  type IncidentStatusName,
  type LadderState,
  type TakeInput,
} from './contracts.js';
import { entry, type NewEntry } from './contracts-timeline.js';

type Note = (e: NewEntry) => void;
export type FiredRung = Exclude<EscalationRung, { kind: 'slack-group' }>;

export interface LadderContext {
  s: IncidentState;
  rungs: EscalationRung[];
  note: Note;
  /** Fires a rung that does not wait for anyone (record, webhook, pagerduty). */
  fire(index: number, rung: FiredRung): Promise<void>;
  /** The incident was resolved (alert or person): nothing more to escalate. */
  resolved(): boolean;
}

/** A webhook rung: one signed-if-configured HTTP call, retried; a failure is noted, not fatal. */
export async function notifyWebhook(request: RenderedHttpRequest, idempotencyKey: string, note: Note): Promise<void> {
  try {
    const r = await proxyActivities<Activities>(actionProfile({ timeout: '10s', retries: 5 })).httpAction({ request, idempotencyKey, dryRun: false, timeoutMs: 10_000 });
    note(entry.notified({ message: `notified ${r.summary}`, data: {} }));
  } catch (err) {
    if (isCancellation(err)) throw err;
    const e = err as { cause?: { message?: string }; message?: string };
    note(entry.webhookFailed({ message: `escalation webhook ${request.url} failed: ${e.cause?.message ?? e.message ?? String(err)}`, data: {} }));
  }
}

export function describeRung(r: EscalationRung): string {
  const what = (() => {
    switch (r.kind) {
      case 'record':
        return `hand over to ${r.to}`;
      case 'webhook':
        return `notify ${r.request.method} ${r.request.url.replace(/\?.*$/, '')}`; // no query strings: they may carry tokens
      case 'pagerduty':
        return 'page PagerDuty';
      case 'slack-group':
        return `ask ${r.group} to take it (waits ${r.wait})`;
    }
  })();
  return r.after ? `${what}, after ${r.after}` : what;
}

export function newLadder(rungs: EscalationRung[], now: number): LadderState {
  return {
    rungs: rungs.map(describeRung),
    groups: [...new Set(rungs.flatMap((r) => (r.kind === 'slack-group' ? [r.group] : [])))],
    current: 0,
    startedAt: now,
    missed: [],
  };
}

/** Runs the ladder from its current rung until it ran out, someone took it, or it was resolved. */
export async function runLadder(c: LadderContext): Promise<void> {
  const { s } = c;
  const stop = (): boolean => c.resolved() || s.owner !== undefined;
  if (!s.ladder) {
    s.ladder = newLadder(c.rungs, Date.now());
    const list = s.ladder.rungs.map((r, i) => `${i + 1}) ${r}`).join('; ');
    c.note(entry.escalationLadder({ message: `escalation ladder: ${list}`, data: { ladder: s.ladder.rungs } }));
  }
  const L = s.ladder;
  while (L.current < c.rungs.length && !stop()) {
    const rung = c.rungs[L.current]!;
    if (rung.after && !L.waiting) {
      L.dueAt ??= Date.now() + toMs(rung.after);
      if (await condition(stop, Math.max(0, L.dueAt - Date.now()))) break;
      L.dueAt = undefined;
    }
    if (rung.kind === 'slack-group') {
      if (!L.waiting) {
        const now = Date.now();
        L.waiting = { rung: L.current, group: rung.group, since: now, until: now + toMs(rung.wait) };
        c.note(entry.takeRequested({ message: `asking ${rung.group} to take it; waiting up to ${rung.wait} (until ${new Date(L.waiting.until).toISOString()})`, data: { take: L.waiting } }));
      }
      if (await condition(stop, Math.max(0, L.waiting.until - Date.now()))) break;
      L.missed.push(L.current);
      c.note(entry.takeMissed({ message: `nobody in ${rung.group} took it within ${rung.wait}; next rung`, data: { take: { ...L.waiting, outcome: 'missed' } } }));
      L.waiting = undefined;
    } else {
      await c.fire(L.current, rung);
    }
    L.current += 1;
  }
}

/** Why a take must be refused, or undefined when it may be applied. */
export function refuseTake(s: IncidentState, t: TakeInput): string | undefined {
  if (s.phase === 'done') return `${s.incidentId} has ended (${s.status})`;
  if (s.owner) return `already taken by ${s.owner.by}`;
  if (s.resolvedBy) return `already resolved by ${s.resolvedBy.by}`;
  const w = s.ladder?.waiting;
  if (!w) return `${s.incidentId} is not waiting for anyone to take it`;
  if (w.rung !== t.rung) return `that request (rung ${t.rung + 1}) is no longer current; rung ${w.rung + 1} is waiting`;
  return undefined;
}

/** Applies an accepted take: the incident has an owner and the ladder stops at this rung. */
export function applyTake(s: IncidentState, t: TakeInput, now: number, note: Note, setStatus: (st: IncidentStatusName) => void): void {
  const group = s.ladder?.waiting?.group ?? '?';
  s.owner = { by: t.user, at: now, rung: t.rung, ...(t.via ? { via: t.via } : {}) };
  setStatus('acknowledged');
  note(
    entry.taken({
      message: `taken by ${t.user}${t.via ? ` (${t.via})` : ''} from ${group}; the escalation ladder stops here`,
      data: { take: { rung: t.rung, group, outcome: 'taken', by: t.user, at: now } },
    }),
  );
}

const issues = (e: { issues: { message: string }[] }): string => e.issues.map((i) => i.message).join('; ');

/** Update validators: a malformed or refused input throws, so nothing reaches history. */
export function validateTake(s: IncidentState, raw: unknown): void {
  const t = TakeInputSchema.safeParse(raw);
  if (!t.success) throw new Error(`invalid take: ${issues(t.error)}`);
  const why = refuseTake(s, t.data);
  if (why) throw new Error(why);
}
export function validateResolve(s: IncidentState, raw: unknown): void {
  const r = ResolveInputSchema.safeParse(raw);
  if (!r.success) throw new Error(`invalid resolve: ${issues(r.error)}`);
  const why = refuseResolve(s);
  if (why) throw new Error(why);
}

export function refuseResolve(s: IncidentState): string | undefined {
  if (s.phase === 'done') return `${s.incidentId} has already ended (${s.status})`;
  if (s.resolvedBy) return `already resolved by ${s.resolvedBy.by}`;
  return undefined;
}

export const humanOutcome = (r: { by: string; reason?: string }): string => `resolved by ${r.by}${r.reason ? `: ${r.reason}` : ''}`;
