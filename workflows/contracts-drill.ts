// Drill workflow contracts: input, report and the progress query; imported by the server and CLI.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DrillScenario } from '../src/drills/schema.js';
import type { MaintenanceWindow } from '../src/playbooks/schema.js';
import type { StepOutcome } from '../src/simulate/sequence.js';
import type { SinkRefs } from './contracts-sinks.js';

export const DRILL_WORKFLOW_TYPE = 'drillWorkflow';
export const drillScheduleId = (taskQueue: string, scenario: string): string => `medic-drill/${taskQueue}/${scenario}`;

export interface DrillInput {
  scenario: DrillScenario;
  /** The expected playbook's maintenance windows: no drill inside one. */
  maintenanceWindows: MaintenanceWindow[];
  requestedBy: string;
}

export type DrillPhase = 'preflight' | 'injecting' | 'detecting' | 'healing' | 'reverting' | 'reporting' | 'done';

export interface DrillReport {
  scenario: string;
  target: string;
  fault: string;
  requestedBy: string;
  passed: boolean;
  /** Why it failed (or was refused); empty when passed. */
  reasons: string[];
  refused?: string;
  injectedAt?: number;
  incident?: { workflowId: string; incidentId: string; status: string; outcome?: string };
  /** Fault injected → incident opened. */
  ttdSeconds?: number;
  /** Fault injected → incident resolved (or escalated). */
  mttrSeconds?: number;
  deadlineSeconds: number;
  expected: 'resolved' | 'escalated';
  steps: StepOutcome[];
  reverted?: boolean;
  /** Posted into the incident's thread (Slack) and timeline (store, audit). */
  published?: boolean;
}

export const drillPhaseQuery = defineQuery<DrillPhase>('drillPhase');

/** The incident's sink references (e.g. its Slack thread), so a drill report can join the thread. */
export const sinkRefsQuery = defineQuery<SinkRefs>('sinkRefs');
/** A drill's report, noted in a still-running incident's timeline (it then reaches every sink). */
export const drillReportSignal = defineSignal<[{ message: string; report: DrillReport }]>('drillReport');
