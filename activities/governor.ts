// Incidents reach the governor workflow through these activities, each a Temporal Update.
// The update id makes a retried activity idempotent: Temporal applies an update id only once.
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  admitUpdate,
  endActionUpdate,
  recordStepRunUpdate,
  governorTaskQueue,
  governorWorkflowId,
  releaseUpdate,
  TASK_QUEUE,
  type AdmitInput,
  type AdmitResult,
  type Demotion,
  type RecordStepRunInput,
  type EndActionInput,
  type ReleaseInput,
} from '../workflows/contracts.js';

export interface GovernorDeps {
  client: Client;
  taskQueue?: string;
}

/** Runs an update on the governor, starting the governor first if it is not running. */
export function governorCaller({ client, taskQueue = TASK_QUEUE }: GovernorDeps) {
  const handle = client.workflow.getHandle(governorWorkflowId(taskQueue));
  return async function callGovernor<Ret, Arg>(
    update: UpdateDefinition<Ret, [Arg]>,
    arg: Arg,
    updateId: string,
  ): Promise<Ret> {
    try {
      // The common case, and the cheaper call: the governor is running.
      return await handle.executeUpdate(update, { args: [arg], updateId });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const startWorkflowOperation = new WithStartWorkflowOperation('governorWorkflow', {
      workflowId: governorWorkflowId(taskQueue),
      taskQueue: governorTaskQueue(taskQueue),
      args: [{}],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return client.workflow.executeUpdateWithStart(update, { args: [arg], updateId, startWorkflowOperation });
  };
}

export interface Keyed {
  /** Unique per logical call (incident + step + try + purpose). */
  key: string;
}

export function createGovernorActivities(deps: GovernorDeps) {
  const call = governorCaller(deps);
  return {
    governorAdmit: (i: AdmitInput & Keyed): Promise<AdmitResult> => call(admitUpdate, strip(i), i.key),
    governorEndAction: (i: EndActionInput & Keyed): Promise<void> => call(endActionUpdate, strip(i), i.key),
    governorRelease: (i: ReleaseInput & Keyed): Promise<void> => call(releaseUpdate, strip(i), i.key),
    governorRecordStepRun: (i: RecordStepRunInput & Keyed): Promise<Demotion> => call(recordStepRunUpdate, strip(i), i.key),
  };
}

function strip<T extends Keyed>(input: T): Omit<T, 'key'> {
  const { key: _key, ...rest } = input;
  return rest;
}
