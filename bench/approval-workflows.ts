// Workflow bundle for the approval benchmark: medic's workflows plus the floor, a workflow that
// only answers an Update (the least a Slack click can cost in Temporal).
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

export { incidentWorkflow, governorWorkflow } from '../workflows/index.js';

export const pingUpdate = defineUpdate<number, [number]>('ping');
let done = false;

export async function updateFloorWorkflow(): Promise<void> {
  setHandler(pingUpdate, (n) => {
    if (n < 0) done = true; // the bench's way to end the floor workflow
    return n + 1;
  });
  await condition(() => done);
}
