// Auto-demotion: a step that keeps failing loses its right to run unattended. Pure functions of
// the step's recent runs, so they run unchanged inside the governor workflow and in unit tests.

export interface DemoteAfter {
  /** Failures among the last `of` runs that demote the step. */
  failures: number;
  of: number;
}

export const DEFAULT_DEMOTE_AFTER: DemoteAfter = { failures: 3, of: 5 };

/** One run of a step: its action and verification, for one try. */
export interface StepRun {
  ok: boolean;
  at: number;
  incidentId: string;
}

/** What the governor keeps per (playbook, step index). */
export interface StepHistory {
  playbook: string;
  step: number;
  stepName: string;
  /** Most recent last; at most `policy.of` (the largest seen) entries. */
  runs: StepRun[];
  /** The playbook's policy when the step last ran. */
  policy: DemoteAfter;
  /** Set by a re-promotion (who, when), cleared by nothing: shown for context. */
  promoted?: { by: string; at: number };
}

export interface Demotion {
  demoted: boolean;
  failures: number;
  runs: number;
  /** "failed 3 of its last 5 runs" when demoted. */
  reason?: string;
}

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
