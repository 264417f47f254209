// Workflow bundle for the latency benchmark: medic's workflows plus the "floor" workflow.
import { proxyActivities } from '@temporalio/workflow';

export { incidentWorkflow, governorWorkflow } from '../workflows/index.js';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10s' });

/** The floor: the least a workflow can do before an activity starts. */
export async function floorWorkflow(): Promise<void> {
  await noop();
}
