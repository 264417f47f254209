// An incident's step sequence — which step ran and how it ended — read from a real incident's
// timeline; `medic simulate` predicts the same shape, so the two can be compared (parity test)
// and drills report the steps taken.
import type { TimelineEntry } from '../../workflows/contracts.js';

export type StepResult = 'healed' | 'action-failed' | 'verification-failed' | 'dry-run' | 'blocked';
export interface StepOutcome {
  step: number;
  result: StepResult;
}

const STEP_LABEL = /^step \d+\/\d+ \([^)]*\) /;

export function stepSequenceOf(timeline: TimelineEntry[]): StepOutcome[] {
  const out: StepOutcome[] = [];
  for (const e of timeline) {
    if (e.step === undefined) {
      if (e.kind === 'resolution' && /succeeded \(no verification configured\)$/.test(e.message)) {
        const last = [...timeline].reverse().find((x) => x.kind === 'action' && x.step !== undefined);
        if (last?.step !== undefined) out.push({ step: last.step, result: 'healed' });
      }
      continue;
    }
    const rest = e.message.replace(STEP_LABEL, '');
    if (e.kind === 'gate' && rest.startsWith('blocked:')) out.push({ step: e.step, result: 'blocked' });
    else if (e.kind === 'action' && rest.startsWith('failed:')) out.push({ step: e.step, result: 'action-failed' });
    else if (e.kind === 'verification' && e.message.startsWith('verification failed:')) out.push({ step: e.step, result: 'verification-failed' });
    else if (e.kind === 'verification' && e.message.startsWith('verified:')) out.push({ step: e.step, result: 'healed' });
    else if (e.kind === 'verification' && e.message === 'dry run: verification skipped') out.push({ step: e.step, result: 'dry-run' });
  }
  return out;
}

export const formatSequence = (seq: StepOutcome[]): string =>
  seq.length === 0 ? '(no step ran)' : seq.map((s) => `step ${s.step + 1} ${s.result}`).join(' → ');
