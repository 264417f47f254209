// Workflow bundle for the latency benchmark: medic's workflows plus the "floor" workflow.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

export { incidentWorkflow, governorWorkflow } from '../workflows/index.js';

interface Noop {
  noop(): Promise<void>;
}

/** The floor: the least a workflow can do before an activity starts. `how`: an activity on the
 * workflow's own task queue (eager dispatch possible), on `actionQueue`, or a local activity. */
export async function floorWorkflow(how: 'activity' | 'local' = 'activity', actionQueue?: string): Promise<void> {
  const options = { startToCloseTimeout: '10s' as const, ...(actionQueue ? { taskQueue: actionQueue } : {}) };
  await (how === 'local' ? proxyLocalActivities<Noop>(options) : proxyActivities<Noop>(options)).noop();
}
