// The undo workflow's contract: a change medic made that must be put back later (a GitOps owner's
// suspended sync after a delay; a traffic shift or circuit breaker when the incident resolves).
import { defineSignal } from '@temporalio/workflow';
import type { UndoPlan } from '../activities/kubernetes.js';

export const UNDO_WORKFLOW_TYPE = 'undoWorkflow';
/** One undo per step try: its id is derived from the step's idempotency key. */
export const undoWorkflowId = (idempotencyKey: string): string => `undo:${idempotencyKey}`;

export interface UndoInput {
  incidentId: string;
  /** The step try's idempotency key; the undo's own key derives from it. */
  key: string;
  undo: UndoPlan;
  /** How long an undo that waits for the incident's end waits at most (default 7 days). */
  maxWaitMs?: number;
}

export interface UndoResult {
  undone: boolean;
  summary: string;
}

/** The incident ended: resolved (the undo runs) or escalated (the change stays for the humans). */
export const incidentEndedSignal = defineSignal<[{ resolved: boolean }]>('incidentEnded');
