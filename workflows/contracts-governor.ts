// Contracts of the state the governor and incidents share (kill switch, gate decisions,
// cooldowns, deployments, auto-demotion): zod schemas, types inferred. The pure gate and demotion
// functions (src/policy/) work on these types; the governor's state query is checked against them.
import { z } from 'zod';

export const GATE_NAMES = ['kill-switch', 'maintenance-window', 'active-deployment', 'blast-radius', 'target-allow-list', 'rate-limit', 'concurrency', 'cooldown', 'target-lock'] as const;
export const GateNameSchema = z.enum(GATE_NAMES);
export type GateName = z.infer<typeof GateNameSchema>;

export const GateDecisionSchema = z.object({
  gate: GateNameSchema,
  outcome: z.enum(['pass', 'wait', 'block']),
  reason: z.string(),
  untilMs: z.number().optional().describe("For 'wait': when to look again (epoch ms)."),
});
export type GateDecision = z.infer<typeof GateDecisionSchema>;

/** The kill switch: who paused all automation, why and when. */
export const PauseStateSchema = z.object({
  paused: z.boolean(),
  by: z.string().optional(),
  reason: z.string().optional(),
  at: z.number().optional(),
});
export type PauseState = z.infer<typeof PauseStateSchema>;

/** A deployment in progress on a target (set through the operator API): no automation until `until`. */
export const DeploymentMarkerSchema = z.object({ until: z.number(), by: z.string() });
export type DeploymentMarker = z.infer<typeof DeploymentMarkerSchema>;

/** A target that an incident acted on and still failed: no automation on it until `until`. */
export const CooldownSchema = z.object({ until: z.number(), incidentId: z.string() });
export type Cooldown = z.infer<typeof CooldownSchema>;

export const DemoteAfterSchema = z.object({
  failures: z.number().int().min(1).describe('Failures among the last `of` runs that demote the step.'),
  of: z.number().int().min(1),
});
export type DemoteAfter = z.infer<typeof DemoteAfterSchema>;

/** One run of a step: its action and verification, for one try. */
export const StepRunSchema = z.object({ ok: z.boolean(), at: z.number(), incidentId: z.string() });
export type StepRun = z.infer<typeof StepRunSchema>;

/** What the governor keeps per (playbook, step index). */
export const StepHistorySchema = z.object({
  playbook: z.string(),
  step: z.number().int().min(0),
  stepName: z.string(),
  runs: z.array(StepRunSchema).describe('Most recent last; at most `policy.of` (the largest seen) entries.'),
  policy: DemoteAfterSchema.describe("The playbook's policy when the step last ran."),
  promoted: z.object({ by: z.string(), at: z.number() }).optional().describe('Set by a re-promotion (who, when): shown for context.'),
});
export type StepHistory = z.infer<typeof StepHistorySchema>;

export const DemotionSchema = z.object({
  demoted: z.boolean(),
  failures: z.number().int().min(0),
  runs: z.number().int().min(0),
  reason: z.string().optional().describe('"failed 3 of its last 5 runs" when demoted.'),
});
export type Demotion = z.infer<typeof DemotionSchema>;

/** What the governor knows across incidents, as the OPA gate's input shows it (src/policy/opa.ts). */
export const GovernorFactsSchema = z.object({
  openIncidents: z.number().int().min(0),
  recentActions: z.array(z.object({ target: z.string(), at: z.string() })).describe('Actions started in the last hour, across medic (newest last, at most 100).'),
  deployments: z.record(z.string(), z.object({ until: z.string(), by: z.string() })).describe('Active deployment markers by target.'),
});
export type GovernorFacts = z.infer<typeof GovernorFactsSchema>;
