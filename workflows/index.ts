// The workflow bundle's entry point: every workflow type the worker runs.
export { incidentWorkflow } from './incident.js';
export { governorWorkflow } from './governor.js';
export { outboxDrainWorkflow } from './outbox.js';
export { drillWorkflow } from './drill.js';
export { digestWorkflow } from './digest.js';
export { undoWorkflow } from './undo.js';
