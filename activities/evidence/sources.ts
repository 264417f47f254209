// Evidence sources the worker wires from what it already has: medic's own earlier actions on a
// target (the incident store) and the deployment markers operators set (the governor).
import type { Client } from '@temporalio/client';
import type { IncidentStore } from '../../src/store/store.js';
import type { Change } from '../../src/evidence/schema.js';
import { governorStateQuery, governorWorkflowId, TASK_QUEUE } from '../../workflows/contracts.js';
import type { EvidenceDeps } from './index.js';

export function storeActions(store: Pick<IncidentStore, 'actionsOnTarget'>): NonNullable<EvidenceDeps['medicActions']> {
  return async ({ target, since, until, incidentId }) =>
    (await store.actionsOnTarget(target, since, until, incidentId)).map(
      (r): Change => ({ at: Number(r.at), kind: 'medic', what: `medic incident ${r.incident_id}`, detail: `${r.kind === 'action.failed' ? 'failed' : 'ran'}: ${r.message}` }),
    );
}

export function governorMarkers(client: Client, taskQueue = TASK_QUEUE): NonNullable<EvidenceDeps['markers']> {
  return async (target, at) => {
    const state = await client.workflow.getHandle(governorWorkflowId(taskQueue)).query(governorStateQuery);
    const m = state.deployments[target];
    if (!m || m.until <= at) return [];
    return [{ at, kind: 'marker', what: `deployment marker on ${target}`, detail: `deployment in progress (marked by ${m.by} until ${new Date(m.until).toISOString()})` }];
  };
}
