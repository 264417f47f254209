// All activities the worker registers, built once from their clients.
import { createGovernorActivities, type GovernorDeps } from './governor.js';
import { createHttpActivities, type HttpDeps } from './http.js';
import { createPublishActivities, type IncidentSink } from './publish.js';

export interface ActivityDeps extends GovernorDeps, HttpDeps {
  sinks?: IncidentSink[];
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHttpActivities(deps),
    ...createGovernorActivities(deps),
    ...createPublishActivities({ sinks: deps.sinks ?? [] }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
