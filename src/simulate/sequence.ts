// An incident's step sequence — which step ran and how it ended — read from a real incident's
// timeline; `medic simulate` predicts the same shape, so the two can be compared (parity test)
// and drills report the steps taken.
import type { TimelineEntry } from '../../workflows/contracts.js';

import type { StepOutcome, StepResult } from '../../workflows/contracts-drill.js';

export type { StepOutcome, StepResult };

/** How each step run ended, from the typed entries (a step may appear several times: tries). */
export function stepSequenceOf(timeline: TimelineEntry[]): StepOutcome[] {
  return timeline.flatMap((e): StepOutcome[] => {
    switch (e.kind) {
      case 'gate.blocked':
        return [{ step: e.step, result: 'blocked' }];
      case 'action.failed':
        return [{ step: e.step, result: 'action-failed' }];
      case 'verification.failed':
        return [{ step: e.step, result: 'verification-failed' }];
      case 'verification.passed':
        return [{ step: e.step, result: 'healed' }];
      case 'verification.skipped':
        return [{ step: e.step, result: 'dry-run' }];
      case 'resolution':
        return e.data.unverifiedStep !== undefined ? [{ step: e.data.unverifiedStep, result: 'healed' }] : [];
      default:
        return [];
    }
  });
}

export const formatSequence = (seq: StepOutcome[]): string =>
  seq.length === 0 ? '(no step ran)' : seq.map((s) => `step ${s.step + 1} ${s.result}`).join(' → ');
