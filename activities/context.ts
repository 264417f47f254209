// Heartbeats that are safe outside an activity: the activities also run as plain functions (unit
// tests, `medic simulate`), where there is no activity context to report to.
import { Context } from '@temporalio/activity';

export function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

/** Records a heartbeat with `details` when running as an activity; a no-op otherwise. */
export function heartbeat(details?: unknown): void {
  if (inActivity()) Context.current().heartbeat(details);
}
