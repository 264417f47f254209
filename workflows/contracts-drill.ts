// Drill workflow contracts: input, report and the progress query; imported by the server and CLI.
import { defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import type { DrillScenario } from '../src/drills/schema.js';
import type { MaintenanceWindow } from '../src/playbooks/schema.js';
import { checkedQuery } from './contracts.js';
import { SinkRefsSchema } from './contracts-sinks.js';

export const DRILL_WORKFLOW_TYPE = 'drillWorkflow';
export const drillScheduleId = (taskQueue: string, scenario: string): string => `medic-drill/${taskQueue}/${scenario}`;

// The scenario and the playbook's windows are parsed where they are loaded (DrillScenarioSchema,
// MaintenanceWindowSchema, above this layer); the input carries those parsed values.
const Parsed = <T>(what: string) => z.custom<T>((v) => typeof v === 'object' && v !== null, { message: `must be a parsed ${what}` });

export const DrillInputSchema = z.object({
  scenario: Parsed<DrillScenario>('drill scenario'),
  maintenanceWindows: z.array(Parsed<MaintenanceWindow>('maintenance window')).describe("The expected playbook's maintenance windows: no drill inside one."),
  requestedBy: z.string().min(1),
});
export type DrillInput = z.infer<typeof DrillInputSchema>;

export const DrillPhaseSchema = z.enum(['preflight', 'injecting', 'detecting', 'healing', 'reverting', 'reporting', 'done']);
export type DrillPhase = z.infer<typeof DrillPhaseSchema>;

/** How one step run ended (src/simulate/sequence.ts reads it from a timeline). */
export const StepOutcomeSchema = z.object({
  step: z.number().int().min(0),
  result: z.enum(['healed', 'action-failed', 'verification-failed', 'dry-run', 'blocked']),
});
export type StepOutcome = z.infer<typeof StepOutcomeSchema>;
export type StepResult = StepOutcome['result'];

/** Goal for medic's own share of a heal (the compass's "bot overhead"). */
export const OVERHEAD_GOAL_SECONDS = 2;

export const OverheadGapSchema = z.object({
  from: z.string().describe('The timeline entry (kind) the stretch starts at, or "alert received" (the intake).'),
  to: z.string().describe('The timeline entry (kind) it ends at.'),
  seconds: z.number().min(0),
});
export const DrillOverheadSchema = z
  .object({
    detectToHealedSeconds: z.number().min(0).describe('Alert received at the intake → the incident resolved, healed by a step.'),
    actionSeconds: z.number().min(0).describe("The actions' own time, measured inside their activities (a failed action: its whole span)."),
    verificationSeconds: z.number().min(0).describe('Verification: started → passed or failed (the window and the probing until it held), every try.'),
    approvalSeconds: z.number().min(0).describe('Waiting for approvers: requested → decided.'),
    overheadSeconds: z.number().min(0).describe("medic's own time: the rest (intake, workflow and activity dispatch, gates, the governor)."),
    goalSeconds: z.number().describe('The goal for overheadSeconds.'),
    met: z.boolean().describe('overheadSeconds ≤ goalSeconds.'),
    gaps: z.array(OverheadGapSchema).describe("The largest stretches of the overhead, largest first (where medic's time went)."),
  })
  .describe('MTTR overhead: detected → healed minus the actions\' own time, the verification and any wait for approvers, from the typed timeline.');
export type DrillOverhead = z.infer<typeof DrillOverheadSchema>;

export const DrillReportSchema = z.object({
  scenario: z.string(),
  target: z.string(),
  fault: z.string(),
  requestedBy: z.string(),
  passed: z.boolean(),
  reasons: z.array(z.string()).describe('Why it failed (or was refused); empty when passed.'),
  refused: z.string().optional(),
  injectedAt: z.number().optional(),
  incident: z.object({ workflowId: z.string(), incidentId: z.string(), status: z.string(), outcome: z.string().optional() }).optional(),
  ttdSeconds: z.number().optional().describe('Fault injected → incident opened.'),
  mttrSeconds: z.number().optional().describe('Fault injected → incident resolved (or escalated).'),
  deadlineSeconds: z.number(),
  expected: z.enum(['resolved', 'escalated']),
  steps: z.array(StepOutcomeSchema),
  overhead: DrillOverheadSchema.optional().describe('Absent when the incident was not healed by a step (escalated, resolved by itself or by hand).'),
  overheadUnknown: z.string().optional().describe('Why there is no overhead figure.'),
  reverted: z.boolean().optional(),
  published: z.boolean().optional().describe("Posted into the incident's thread (Slack) and timeline (store, audit)."),
});
export type DrillReport = z.infer<typeof DrillReportSchema>;

export const drillPhaseQuery = checkedQuery('drillPhase', DrillPhaseSchema);

/** The incident's sink references (e.g. its Slack thread), so a drill report can join the thread. */
export const sinkRefsQuery = checkedQuery('sinkRefs', SinkRefsSchema);
/** A drill's report, noted in a still-running incident's timeline (it then reaches every sink). */
export const drillReportSignal = defineSignal<[{ message: string; report: DrillReport }]>('drillReport');
