// The escalation ladder's pure parts: rung descriptions, the ladder's initial state and why a
// take or resolve must be refused. The ladder itself runs in the decision core (machine.ts).
import type { EscalationRung } from '../playbooks/schema.js';
import type { IncidentState, LadderState, TakeInput } from '../../workflows/contracts.js';

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

export function refuseResolve(s: IncidentState): string | undefined {
  if (s.phase === 'done') return `${s.incidentId} has already ended (${s.status})`;
  if (s.resolvedBy) return `already resolved by ${s.resolvedBy.by}`;
  return undefined;
}

export const humanOutcome = (r: { by: string; reason?: string }): string => `resolved by ${r.by}${r.reason ? `: ${r.reason}` : ''}`;
