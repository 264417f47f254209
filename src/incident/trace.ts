// The decision trace: each command the core gave, without payloads (keys, times, texts), so a real
// run's trace (the workflow's `decisions` query) and `medic simulate`'s can be compared.
import type { IncidentCommand } from './types.js';

export interface TraceEntry {
  kind: IncidentCommand['kind'];
  step?: number;
  stepTry?: number;
  dryRun?: boolean;
  timer?: string;
  rung?: number;
  status?: string;
}

export function traceOf(c: IncidentCommand): TraceEntry {
  switch (c.kind) {
    case 'runAction':
    case 'askPolicy':
      return { kind: c.kind, step: c.step, stepTry: c.stepTry, ...(c.kind === 'runAction' ? { dryRun: c.dryRun } : {}) };
    case 'preview':
      return { kind: c.kind, step: c.step, stepTry: c.stepTry };
    case 'verify':
    case 'requestApproval':
    case 'recordRun':
      return { kind: c.kind, step: c.step };
    case 'askGovernor':
      return { kind: c.kind, ...(c.admit.step ? { step: c.admit.step.index } : {}) };
    case 'startTimer':
      return { kind: c.kind, timer: c.timer };
    case 'escalateRung':
    case 'page':
    case 'resolvePage':
      return { kind: c.kind, rung: c.rung };
    case 'setStatus':
      return { kind: c.kind, status: c.status };
    default:
      return { kind: c.kind };
  }
}

/** A run keeps at most this many trace entries (the oldest go first). */
export const TRACE_CAP = 2_000;
