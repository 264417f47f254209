// Step selection and the playbook's rollout mode, as pure functions: the incident workflow and
// `medic simulate` both decide with these, so a simulation takes the path a real run takes.
import type { Playbook, Step } from '../playbooks/schema.js';
import type { MaintenanceWindow } from '../playbooks/schema.js';
import {
  blastRadiusGate,
  deploymentGate,
  killSwitchGate,
  maintenanceGate,
  type GateDecision,
  type PauseState,
} from './gates.js';

export type PlaybookMode = Playbook['mode'];

/** Where an incident goes after a step's try failed. */
export type Advance =
  | { kind: 'retry'; stepTry: number }
  | { kind: 'next'; stepIndex: number }
  | { kind: 'escalate'; reason: string };

export function advance(
  pb: Pick<Playbook, 'steps'>,
  at: { stepIndex: number; stepTry: number },
  reason: string,
): Advance {
  const step = pb.steps[at.stepIndex];
  if (step && at.stepTry < step.attempts) return { kind: 'retry', stepTry: at.stepTry + 1 };
  if (at.stepIndex + 1 < pb.steps.length) return { kind: 'next', stepIndex: at.stepIndex + 1 };
  return { kind: 'escalate', reason: `all ${pb.steps.length} step(s) tried; last: ${reason}` };
}

/** In dry-run mode every step reports once what it would do; then a human decides. */
export function advanceAfterDryRun(pb: Pick<Playbook, 'steps'>, stepIndex: number): Advance {
  if (stepIndex + 1 < pb.steps.length) return { kind: 'next', stepIndex: stepIndex + 1 };
  return { kind: 'escalate', reason: `dry-run mode: all ${pb.steps.length} step(s) reported what they would do; nothing changed; a human decides` };
}

/** A playbook carried from before `mode` existed has none: it runs as before. */
export const modeOf = (pb: Pick<Playbook, 'mode'>): PlaybookMode => pb.mode ?? 'auto';

export function isDryRun(pb: Pick<Playbook, 'dryRun'>, step: Pick<Step, 'dryRun'>, mode: PlaybookMode): boolean {
  return pb.dryRun || step.dryRun === true || mode === 'dry-run';
}

/** A dry run changes nothing, so it needs no approval; approve-all asks for every step. */
export function requiresApproval(step: Pick<Step, 'requiresApproval'>, mode: PlaybookMode): boolean {
  if (mode === 'dry-run') return false;
  return mode === 'approve-all' || step.requiresApproval;
}

/** Who may approve: the step's approvers, else (demoted step or approve-all) the playbook's demotionApprovers. */
export function approversOf(
  pb: Pick<Playbook, 'demotionApprovers'>,
  step: Pick<Step, 'approvers'>,
  fallback: boolean,
): string[] {
  return step.approvers.length === 0 && fallback ? pb.demotionApprovers : step.approvers;
}

const isTrue = (v: string | undefined): boolean => v?.toLowerCase() === 'true';

/** The gates an incident evaluates itself before each step (the governor adds the shared ones). */
export function localGates(input: {
  pause: PauseState;
  maintenanceWindows: MaintenanceWindow[];
  deploymentLabel: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  targets: string[];
  blastRadius: number;
  /** The incident's distinct targets (playbook scope), counting alerts left out of capped notifications. */
  covered?: { seen: number; atMost: number; truncated: number };
  now: number;
}): GateDecision[] {
  const { now } = input;
  return [
    killSwitchGate(input.pause, now),
    maintenanceGate(input.maintenanceWindows, now),
    deploymentGate(
      {
        labelActive: isTrue(input.labels[input.deploymentLabel]) || isTrue(input.annotations[input.deploymentLabel]),
        label: input.deploymentLabel,
      },
      now,
    ),
    blastRadiusGate(input.targets, input.blastRadius, input.covered),
  ];
}
