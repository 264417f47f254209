// Auto-demotion: a step that keeps failing loses its right to run unattended. Pure functions of
// the step's recent runs, so they run unchanged inside the governor workflow and in unit tests.
import type { DemoteAfter, Demotion, StepHistory, StepRun } from '../../workflows/contracts-governor.js';

export type { DemoteAfter, Demotion, StepHistory, StepRun };

export const DEFAULT_DEMOTE_AFTER: DemoteAfter = { failures: 3, of: 5 };

export const stepKey = (playbook: string, step: number): string => `${playbook}#${step}`;

/** Appends a run and keeps only the last `keep` runs. */
export function recordRun(runs: StepRun[], run: StepRun, keep: number): StepRun[] {
  return [...runs, run].slice(-Math.max(1, keep));
}

/** Whether the step failed at least `failures` of its last `of` runs. */
export function demotionOf(runs: StepRun[], policy: DemoteAfter): Demotion {
  const recent = runs.slice(-policy.of);
  const failures = recent.filter((r) => !r.ok).length;
  if (failures < policy.failures) return { demoted: false, failures, runs: recent.length };
  return { demoted: true, failures, runs: recent.length, reason: `failed ${failures} of its last ${recent.length} runs` };
}
