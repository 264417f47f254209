// Which phase an incident was in at a given moment, read from its timeline afterwards. Entry times
// are workflow time (the start of the workflow task that noted them), so a kill that interrupts a
// phase falls between the entry opening it and the one closing it, which the next worker writes.
import type { TimelineEntry } from '../../workflows/contracts.js';

export const PHASES = ['decide', 'act', 'verify', 'approval'] as const;
export type Phase = (typeof PHASES)[number];

interface Span {
  phase: Phase;
  from: number;
  to: number;
}

const isRequest = (e: TimelineEntry): boolean => e.kind === 'approval.requested';
const isDecision = (e: TimelineEntry): boolean => e.kind === 'approval.decided';
const isGatesPassed = (e: TimelineEntry): boolean => e.kind === 'gate.passed';
const isActionStart = (e: TimelineEntry): boolean => e.kind === 'action.started';
const isActionEnd = (e: TimelineEntry): boolean => e.kind === 'action.succeeded' || e.kind === 'action.failed';
const isVerifyStart = (e: TimelineEntry): boolean => e.kind === 'verification.started';
const isVerifyEnd = (e: TimelineEntry): boolean => e.kind === 'verification.passed' || e.kind === 'verification.failed';

/** The spans of each phase in one incident's timeline; `deciding` = when its first workflow task
 * started (from history), else its first entry. */
export function phaseSpans(timeline: TimelineEntry[], deciding?: number): Span[] {
  const spans: Span[] = [];
  const end = timeline.at(-1)?.at ?? 0;
  const from = deciding ?? timeline[0]?.at;
  let open: { phase: Phase; from: number } | undefined = from !== undefined ? { phase: 'decide', from } : undefined;
  const close = (at: number): void => {
    if (open) spans.push({ ...open, to: at });
    open = undefined;
  };
  for (const e of timeline) {
    if (open?.phase === 'decide' && (isGatesPassed(e) || isRequest(e))) close(e.at);
    if (isRequest(e)) open = { phase: 'approval', from: e.at };
    else if (isDecision(e) && open?.phase === 'approval') {
      close(e.at);
      open = { phase: 'decide', from: e.at }; // gates are evaluated again after an approval
    } else if (isActionStart(e)) {
      close(e.at);
      open = { phase: 'act', from: e.at };
    } else if (isActionEnd(e) && open?.phase === 'act') close(e.at);
    else if (isVerifyStart(e)) open = { phase: 'verify', from: e.at };
    else if (isVerifyEnd(e) && open?.phase === 'verify') close(e.at);
  }
  close(end);
  return spans;
}

export function phaseAt(timeline: TimelineEntry[], at: number, deciding?: number): Phase | undefined {
  return phaseSpans(timeline, deciding).find((s) => s.from <= at && at < s.to)?.phase;
}
