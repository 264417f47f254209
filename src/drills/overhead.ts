// MTTR overhead (the compass's "bot overhead"): of the time from detection (the alert received at
// the intake) to healed (the incident resolved by a step), what was medic's own — not the
// actions' own time, the verification (its window and the probing until it held), nor a wait
// for approvers. Read from the typed timeline only (switch on kind, never the message): each
// stretch between two consecutive entries belongs to one of those, or is overhead; an action's
// span beyond the time its activity measured (dispatch, the workflow task after it) is overhead.
import { OVERHEAD_GOAL_SECONDS, type DrillOverhead } from '../../workflows/contracts-drill.js';
import type { TimelineEntry } from '../../workflows/contracts-timeline.js';

type Part = 'overhead' | 'action' | 'verification' | 'approval';
interface Stretch {
  from: string;
  to: string;
  ms: number;
  part: Part;
}

const secs = (ms: number): number => Math.round(ms) / 1000;

/** What the stretch after entry `e` belongs to, given what it was in before. */
function after(e: TimelineEntry, inside: Part): Part {
  switch (e.kind) {
    case 'action.started':
      return e.data.dryRun ? 'overhead' : 'action';
    case 'verification.started':
      return 'verification';
    case 'approval.requested':
      return 'approval';
    case 'approval.partial':
      return 'approval'; // four-eyes: the second approver is still awaited
    case 'action.succeeded':
    case 'action.failed':
    case 'verification.passed':
    case 'verification.failed':
    case 'approval.decided':
    case 'approval.expired':
      return 'overhead';
    default:
      return inside; // entries noted inside a stretch (probe failures, host reports) do not end it
  }
}

/**
 * The overhead of a healed incident, or why there is none (not healed by a step, no detection).
 * `goalSeconds` defaults to OVERHEAD_GOAL_SECONDS; `largest` gaps are reported (default 3).
 */
export function mttrOverhead(timeline: readonly TimelineEntry[], o: { goalSeconds?: number; largest?: number } = {}): { overhead: DrillOverhead } | { unknown: string } {
  const entries = [...timeline].sort((a, b) => a.seq - b.seq);
  const opened = entries.find((e) => e.kind === 'alert.opened');
  if (opened?.kind !== 'alert.opened') return { unknown: 'the timeline has no alert.opened entry' };
  const healedIdx = entries.findIndex((e) => e.kind === 'resolution');
  const healed = entries[healedIdx];
  if (healed?.kind !== 'resolution') return { unknown: 'the incident has not ended' };
  if (healed.data.status !== 'resolved') return { unknown: `the incident ${healed.data.status}: not healed by medic` };
  const run = entries.slice(0, healedIdx + 1);
  const byStep = healed.data.unverifiedStep !== undefined || run.some((e) => e.kind === 'verification.passed');
  if (!byStep) return { unknown: `resolved without a step healing it (${healed.data.outcome})` };

  const detectedAt = opened.data.detection.receivedAt ?? opened.at;
  const stretches: Stretch[] = [];
  let prev = { label: 'alert received', at: detectedAt };
  let inside: Part = 'overhead';
  let action: { at: number } | undefined;
  for (const e of run) {
    if (e.at >= prev.at) stretches.push({ from: prev.label, to: e.kind, ms: e.at - prev.at, part: inside });
    if (e.kind === 'action.started' && !e.data.dryRun) action = { at: e.at };
    if ((e.kind === 'action.succeeded' || e.kind === 'action.failed') && action) {
      // The action's span beyond its measured own time was dispatch: medic's.
      const span = e.at - action.at;
      const own = e.kind === 'action.succeeded' && e.data.durationMs !== undefined ? Math.min(e.data.durationMs, span) : span;
      if (span > own) {
        shrinkAction(stretches, span - own);
        stretches.push({ from: 'action.started', to: `${e.kind} (beyond the action's own time)`, ms: span - own, part: 'overhead' });
      }
      action = undefined;
    }
    inside = after(e, inside);
    prev = { label: e.kind, at: Math.max(prev.at, e.at) };
  }
  const sum = (part: Part): number => stretches.filter((s) => s.part === part).reduce((a, s) => a + s.ms, 0);
  const total = Math.max(0, healed.at - detectedAt);
  const overheadMs = sum('overhead');
  const goalSeconds = o.goalSeconds ?? OVERHEAD_GOAL_SECONDS;
  const gaps = stretches
    .filter((s) => s.part === 'overhead' && s.ms > 0)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, o.largest ?? 3)
    .map((s) => ({ from: s.from, to: s.to, seconds: secs(s.ms) }));
  return {
    overhead: {
      detectToHealedSeconds: secs(total),
      actionSeconds: secs(sum('action')),
      verificationSeconds: secs(sum('verification')),
      approvalSeconds: secs(sum('approval')),
      overheadSeconds: secs(overheadMs),
      goalSeconds,
      met: overheadMs <= goalSeconds * 1000,
      gaps,
    },
  };
}

/** Takes `ms` off the last action stretches (newest first): that time was dispatch, counted as overhead. */
function shrinkAction(stretches: Stretch[], ms: number): void {
  let left = ms;
  for (let i = stretches.length - 1; i >= 0 && left > 0; i--) {
    const s = stretches[i]!;
    if (s.part !== 'action') continue;
    const take = Math.min(s.ms, left);
    s.ms -= take;
    left -= take;
  }
}
