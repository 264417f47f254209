// Incidents reach the governor workflow through these activities, each a Temporal Update.
// The update id makes a retried activity idempotent: Temporal applies an update id only once.
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  admitUpdate,
  endActionUpdate,
  recordStepRunUpdate,
  governorTaskQueue,
  governorWorkflowId,
  releaseUpdate,
  setDeploymentUpdate,
  TASK_QUEUE,
  type AdmitInput,
  type AdmitResult,
  type Demotion,
  type RecordStepRunInput,
  type EndActionInput,
  type ReleaseInput,
  type SetDeploymentInput,
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
    // Inside an activity, a timed-out or cancelled attempt aborts its RPC instead of waiting on
    // forever (a stuck Update would otherwise also keep the worker from shutting down).
    const signal = activitySignal();
    const bounded = <T>(call: () => Promise<T>): Promise<T> => (signal ? client.withAbortSignal(signal, call) : call());
    try {
      // The common case, and the cheaper call: the governor is running.
      return await bounded(() => handle.executeUpdate(update, { args: [arg], updateId }));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    // Not running yet (or closed): start it, then update. A plain start + update rather than
    // update-with-start: the latter was seen to stall under concurrent first calls in the tests.
    await bounded(() => client.workflow
      .start('governorWorkflow', {
        workflowId: governorWorkflowId(taskQueue),
        taskQueue: governorTaskQueue(taskQueue),
        args: [{}],
        workflowIdConflictPolicy: 'USE_EXISTING',
      })
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }));
    return bounded(() => handle.executeUpdate(update, { args: [arg], updateId }));
  };
}

function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // called from the API, not from an activity
  }
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
    /** A deployment marker on a target (a GitOps sync medic started or saw running): the
     * active-deployment gate holds every incident's actions on it until `until`. */
    governorSetDeployment: (i: SetDeploymentInput & Keyed): Promise<void> => call(setDeploymentUpdate, strip(i), i.key),
  };
}

function strip<T extends Keyed>(input: T): Omit<T, 'key'> {
  const { key: _key, ...rest } = input;
  return rest;
}
