// All activities the worker registers, built once from their clients.
import { createGovernorActivities, type GovernorDeps } from './governor.js';
import { createHttpActivities, type HttpDeps } from './http.js';

export interface ActivityDeps extends GovernorDeps, HttpDeps {}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHttpActivities(deps),
    ...createGovernorActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
