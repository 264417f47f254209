// The one module that the HTTP server, the CLI and the Slack app import from workflows/:
// names, signals, queries, updates and their payload types. It pulls in no activity code.
import { EvidenceMoment, type EvidenceFacts } from './contracts-evidence.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, type QueryDefinition } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import type { Limits, Playbook } from '../src/playbooks/schema.js';
import type { ActionLedger } from '../src/policy/gates.js';
import type { TraceEntry } from '../src/incident/trace.js';
import type { Scope } from '../src/incident/scope.js';
import type { Verbosity } from '../src/playbooks/thread.js';
import type { SimilarIncident, SimilarQuery } from '../src/store/similar.js';
import {
  DemoteAfterSchema,
  DemotionSchema,
  CooldownSchema,
  DeploymentMarkerSchema,
  GateDecisionSchema,
  PauseStateSchema,
  StepHistorySchema,
  type DemoteAfter,
  type Demotion,
  type GateDecision,
  type PauseState,
  type StepHistory,
  GovernorFactsSchema,
} from './contracts-governor.js';
import { PolicyVerdictSchema } from './contracts-policy.js';
import { SinkRefsSchema } from './contracts-sinks.js';
import { ApprovalRequestSchema, TimelineEntrySchema } from './contracts-timeline.js';

export type { Playbook, GateDecision, PauseState, SimilarIncident, SimilarQuery };

// Values whose schemas live with their code above this layer (src/incident/scope.ts, src/store/
// similar.ts, src/playbooks/thread.ts): carried as already built there, checked only for shape here.
const Built = <T>(what: string) => z.custom<T>((v) => v !== undefined && v !== null, { message: `must be ${what}` });

export const TASK_QUEUE = 'medic';
/** One governor per task queue, so separate medic deployments (and tests) never share state. */
/** Bump GOVERNOR_VERSION when the governor's code changes incompatibly: a new version starts a
 * fresh governor instead of replaying an old run's history (e.g. a persisted demo database). */
export const GOVERNOR_VERSION = 2;
export const governorWorkflowId = (taskQueue: string): string => `medic-governor/v${GOVERNOR_VERSION}/${taskQueue}`;
/** The governor's own task queue (see src/temporal/worker.ts for why it is separate). */
export const governorTaskQueue = (taskQueue: string): string => `${taskQueue}/governor`;
export const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';

export const SearchAttributes = {
  service: defineSearchAttributeKey('MedicService', 'KEYWORD'),
  severity: defineSearchAttributeKey('MedicSeverity', 'KEYWORD'),
  status: defineSearchAttributeKey('MedicStatus', 'KEYWORD'),
} as const;
/** For `temporal server start-dev --search-attribute …` and createLocal(). */
export const SEARCH_ATTRIBUTE_REGISTRATIONS = Object.values(SearchAttributes).map((k) => k.name);

// ---------------------------------------------------------------- incident

/** One alert as medic carries it into a workflow (plain JSON); the intake formats normalize to it. */
export const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  alertname: z.string(),
  severity: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  fingerprint: z.string(),
  source: z.enum(['alertmanager', 'grafana', 'generic', 'detector', 'drill', 'manual']),
  receivedAt: z.number().describe('epoch ms when medic received it'),
  /** The Alertmanager notification it came in: its group (a hash of groupKey) and how many alerts
   * Alertmanager left out of it (truncatedAlerts, webhook max_alerts). Counted in the incident's
   * true scope (src/incident/scope.ts). */
  notification: z.object({ group: z.string().max(64), truncatedAlerts: z.number().int().min(0) }).optional(),
  delivery: z
    .string()
    .max(300)
    .optional()
    .describe('The bus message that carried it (NATS: stream:sequence; Kafka: topic/partition/offset): with the fingerprint, the key a redelivered message is recognised by, so the incident counts it once'),
});
export type Alert = z.infer<typeof AlertSchema>;

/** Which playbook an incident runs: the worker runs its own loaded copy with this name and hash. */
export const PlaybookRefSchema = z.object({ name: z.string(), hash: z.string() });
export type PlaybookRef = z.infer<typeof PlaybookRefSchema>;

// The playbook is parsed where it is loaded (src/playbooks/load.ts: PlaybookSchema, which lives
// with the playbook code above this layer); here it is carried as that already parsed value.
const ParsedPlaybook = z.custom<Playbook>((v) => typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string', {
  message: 'must be a parsed playbook (an object with a name)',
});

/** `acknowledged`: escalated and taken by a person from Slack (a slack-group rung); the ladder stopped. */
export const INCIDENT_STATUSES = ['open', 'holding', 'awaiting_approval', 'acting', 'verifying', 'resolved', 'escalated', 'acknowledged'] as const;
export const IncidentStatusNameSchema = z.enum(INCIDENT_STATUSES);
export type IncidentStatusName = z.infer<typeof IncidentStatusNameSchema>;

// Timeline entries: a zod discriminated union on `kind` (workflows/contracts-timeline.ts).
export {
  entry,
  TimelineEntrySchema,
  TIMELINE_KINDS,
  groupOf,
  kindsOf,
  unreachable,
  type EntryOf,
  type NewEntry,
  type TimelineEntry,
  type TimelineGroup,
  type TimelineKind,
} from './contracts-timeline.js';

export { ApprovalRequestSchema, type ApprovalRequest } from './contracts-timeline.js';

/** The escalation ladder as it runs (src/incident/escalation.ts); the Slack thread shows it. */
export const LadderStateSchema = z.object({
  rungs: z.array(z.string()).describe('One line per rung, in order (what it does, its delay and timeout).'),
  groups: z.array(z.string()).describe('The user groups of its slack-group rungs: their members may resolve the incident from Slack.'),
  current: z.number().int().min(0).describe('The rung firing or waiting now; rungs.length once every rung fired.'),
  startedAt: z.number(),
  dueAt: z.number().optional().describe('When the current rung fires (its `after` delay), while it waits to.'),
  waiting: z
    .object({ rung: z.number().int(), group: z.string(), since: z.number(), until: z.number() })
    .optional()
    .describe('A slack-group rung waiting for someone to take the incident.'),
  missed: z.array(z.number().int()).describe('slack-group rungs nobody took within their wait.'),
});
export type LadderState = z.infer<typeof LadderStateSchema>;

export const IncidentOptionsSchema = z.object({
  maxHistoryEvents: z.number().int().positive().describe('continueAsNew once history passes this many events (Temporal also suggests it).'),
  timelineCap: z.number().int().positive().describe('Timeline entries kept in workflow state; older ones are dropped (counted).'),
  lockLeaseMs: z.number().int().positive().describe('Lease on the per-target lock, renewed at every step.'),
  fingerprintCap: z.number().int().positive().describe('Distinct alert fingerprints kept in state (config intake.limits.maxFingerprintsPerIncident).'),
  similar: z.boolean().optional().describe('Look up similar past incidents at open (the server sets it when an incident store is configured).'),
  temporalUiUrl: z.string().optional(),
});
export type IncidentOptions = z.infer<typeof IncidentOptionsSchema>;

/** What the decision core waits for: at most one call in flight and at most one timer. */
export const MachineStateSchema = z.object({
  inFlight: z
    .enum(['governor', 'action', 'preview', 'verify', 'notify', 'page', 'policy'])
    .optional()
    .describe("The governor, the step's action or its dry-run preview, a verification round, a webhook rung, a page resolve or the OPA gate."),
  wait: z
    .object({
      id: z.number().int(),
      timer: z.enum(['recheck', 'approval', 'probe', 'rung', 'take', 'hold']),
      until: z.number(),
      paused: z.boolean().optional(),
      lock: z.boolean().optional(),
    })
    .optional(),
  timers: z.number().int().min(0),
  lockFreed: z.boolean().optional().describe("The other incident holding the target's lock signalled it let go."),
  gates: z
    .object({ at: z.number(), local: z.array(GateDecisionSchema), begin: z.boolean(), needsApproval: z.boolean() })
    .optional()
    .describe('Local gate decisions taken while the governor is asked.'),
  finishing: z
    .object({ status: z.enum(['resolved', 'escalated']), outcome: z.string(), page: z.number().int().min(0) })
    .optional()
    .describe('Ending: pages are resolved first (index of the next one to resolve).'),
  released: z.boolean().optional(),
  evidencePending: z.number().int().min(0).optional().describe('Evidence collections asked for and not answered yet.'),
  awaitEvidence: z.boolean().optional().describe("A step's `when:` waits for the opening evidence."),
});
export type MachineState = z.infer<typeof MachineStateSchema>;

/** What the workflow keeps about one incident; carried across continue-as-new. The status query
 * answers it without the timeline, the last alert, the sink references and the core's bookkeeping. */
const IncidentStateFields = {
  incidentId: z.string().min(1),
  status: IncidentStatusNameSchema,
  phase: z.enum(['gates', 'approval', 'act', 'verify', 'escalate', 'done']),
  stepIndex: z.number().int().min(0),
  stepTry: z.number().int().min(0).describe("The workflow's own try of the current step; part of the idempotency key."),
  alertsReceived: z.number().int().min(0),
  fingerprints: z
    .record(z.string(), z.enum(['firing', 'resolved']))
    .describe('Last status seen per alert fingerprint; resolved when every one is resolved. Bounded (options.fingerprintCap): the oldest resolved, else the oldest, is evicted and counted.'),
  fingerprintOrder: z.array(z.string()).optional().describe('`fingerprints` keys, oldest first (absent in state from before the bound).'),
  fingerprintsEvicted: z
    .object({ total: z.number().int().min(0), firing: z.number().int().min(0) })
    .optional()
    .describe('Fingerprints evicted by the bound; `firing` of them were still firing when evicted.'),
  resolvedByAlert: z.boolean(),
  deliveries: z
    .array(z.string())
    .optional()
    .describe('`delivery|fingerprint` of the latest bus alerts (at most DELIVERY_WINDOW, oldest first): a message the bus delivers again after a consumer crash is recognised and not counted twice.'),
  redeliveries: z.number().int().min(0).optional().describe('Bus alerts recognised as redeliveries and ignored.'),
  pause: PauseStateSchema,
  lockHeld: z.boolean(),
  lockHolder: z.string().optional(),
  holdStartedAt: z.number().optional(),
  lastHold: z.string().optional(),
  calls: z.number().int().min(0).describe("Counter making every governor call's update id unique."),
  acted: z.boolean().describe('An action really ran (not a dry run): a failure then puts the target in cooldown.'),
  escalationReason: z.string().optional(),
  escalationSent: z.boolean(),
  demoted: z
    .object({ step: z.number().int().min(0), reason: z.string() })
    .optional()
    .describe('The step the governor auto-demoted to require approval (it kept failing), and why.'),
  pages: z
    .array(
      z.object({
        rung: z.number().int().min(0),
        routingKeySecret: z.string(),
        dedupKey: z.string(),
        sent: z.boolean(),
        failed: z.boolean().optional(),
        resolved: z.boolean().optional(),
      }),
    )
    .optional()
    .describe('PagerDuty pages sent by `pagerduty` rungs (dedup_key = incident id); resolved on healing.'),
  ladder: LadderStateSchema.optional().describe('The escalation ladder, once escalation started.'),
  holdUntil: z.number().optional().describe('After escalating, the incident stays open (absorbing repeats) until this time.'),
  owner: z
    .object({ by: z.string(), at: z.number(), rung: z.number().int(), via: z.string().optional() })
    .optional()
    .describe('Who took the incident from a slack-group rung (the ladder stopped there).'),
  resolvedBy: z
    .object({ by: z.string(), at: z.number(), reason: z.string().optional() })
    .optional()
    .describe('A person ended the incident (Slack Resolve, `medic resolve`).'),
  pendingApproval: ApprovalRequestSchema.optional(),
  policy: z
    .object({ step: z.number().int().min(0), try: z.number().int().min(0), at: z.number(), verdict: PolicyVerdictSchema })
    .optional()
    .describe("The OPA gate's verdict for one try of a step (src/policy/opa.ts); kept until the step moves on."),
  preview: z
    .object({ step: z.number().int().min(0), try: z.number().int().min(0), text: z.string() })
    .optional()
    .describe("The step's dry run shown in its approval request (ansible: --check --diff), per step and try."),
  approval: z
    .object({
      decision: z.enum(['approve', 'deny', 'expired']),
      by: z.string(),
      at: z.number(),
      reason: z.string().optional(),
      with: z.array(z.string()).optional(),
    })
    .optional(),
  verify: z
    .object({
      startedAt: z.number(),
      passingSince: z.number().optional(),
      probes: z.number().int().min(0),
      noData: z.number().int().min(0).optional(),
      lastEvidence: z.string().optional(),
    })
    .optional(),
  undos: z.array(z.string()).optional().describe("Undo workflows (workflows/undo.ts) waiting for this incident's end to revert a change."),
  outcome: z.string().optional(),
  startedAt: z.number(),
  endedAt: z.number().optional(),
  timelineDropped: z.number().int().min(0),
  timelineLost: z.number().int().min(0).optional().describe('Unpublished entries given up past the outage bound (src/incident/state.ts record).'),
  publishedSeq: z
    .number()
    .int()
    .describe('Entries with seq below this went to the sinks already (Slack thread, audit, store); it moves only after every sink confirmed them (workflows/outbox.ts).'),
  continuedAsNew: z.number().int().min(0),
  evidence: z
    .object({ at: z.number(), moment: EvidenceMoment, facts: z.custom<EvidenceFacts>((v) => typeof v === 'object' && v !== null, 'evidence facts') })
    .optional()
    .describe('Facts of the latest evidence pack (`when:` conditions read them; the packs are in the control.evidence timeline entries).'),
  signature: z.string().optional().describe("The incident's evidence signature (e.g. `OOMKilled deployment/shop/api`), set from its evidence pack when there is one: similar past incidents match on it."),
  similar: z.array(Built<SimilarIncident>('a similar incident (src/store/similar.ts)')).optional().describe('Similar past incidents found at open (src/store/similar.ts), best first.'),
  silence: z
    .object({ id: z.string().optional(), until: z.number(), active: z.boolean(), refused: z.string().optional() })
    .optional()
    .describe("medic's own Alertmanager silence of the incident's alerts (src/silences/core.ts): active while it acts and verifies; `refused` when the grouping labels cannot make safe matchers."),
  snooze: z
    .object({ by: z.string(), duration: z.string(), until: z.number(), id: z.string().optional() })
    .optional()
    .describe('The last Snooze a person asked for (a silence of its own, kept until it ends).'),
};

// What the incident covers beyond the fingerprints (src/incident/scope.ts): distinct target keys
// (playbook scope.targetLabels, capped; the rest counted) and, per Alertmanager group, the alerts
// its latest notification left out. Kept in state, not in the status (which shows `coverage`).
const ScopeStateSchema = z.object({ targets: z.array(z.string()), targetsOver: z.number().int().min(0), truncated: z.record(z.string(), z.number().int().min(0)) });

export const IncidentStateSchema = z.object({
  ...IncidentStateFields,
  lastAlert: AlertSchema,
  timeline: z.array(TimelineEntrySchema),
  sinkRefs: SinkRefsSchema.describe('What sinks asked us to remember (the Slack messages, workflows/contracts-sinks.ts).'),
  machine: MachineStateSchema.optional().describe("The decision core's own bookkeeping (src/incident/machine.ts)."),
  scope: ScopeStateSchema.optional(),
});
export type IncidentState = z.infer<typeof IncidentStateSchema>;

export const IncidentInputSchema = z.object({
  playbookRef: PlaybookRefSchema.optional().describe(
    'The playbook to run, by name and content hash (src/playbooks/hash.ts). The worker runs its own loaded copy of exactly that version; a reference it does not hold escalates at once and acts on nothing (workflows/playbook-source.ts).',
  ),
  playbook: ParsedPlaybook.optional().describe('The body, for workers from before the playbook registry (histories, rolling upgrades). Current workers never run it as given: without `playbookRef`, its hash names their copy.'),
  alert: AlertSchema,
  target: z.string(),
  requestedBy: z.string().optional(),
  options: IncidentOptionsSchema.partial().optional(),
  overflow: z
    .object({ reason: z.string(), cap: z.number().int() })
    .optional()
    .describe("The playbook's overflow incident (src/intake/open-incidents.ts): it records the alerts of groups over the open-incident cap and escalates; it never acts."),
  carried: IncidentStateSchema.optional().describe('Present only when continuing as new.'),
  scope: ScopeStateSchema.optional().describe('The true scope of the batch that opened it (src/incident/scope.ts scopeOfBatch).'),
});
export type IncidentInput = z.infer<typeof IncidentInputSchema>;

/** The input as the workflow runs it: the playbook is the worker's own copy. */
export type RunningIncidentInput = IncidentInput & { playbook: Playbook };

/** The status query's answer: the state without its bulky parts, plus what humans read. */
export const IncidentStatusSchema = z.object({
  ...IncidentStateFields,
  coverage: Built<Scope>('the coverage (src/incident/scope.ts)')
    .optional()
    .describe('How many alerts and distinct targets the incident covers (src/incident/scope.ts), counting alerts Alertmanager left out of capped notifications.'),
  alertLinks: z
    .object({ graph: z.string().optional(), silence: z.string().optional() })
    .optional()
    .describe("For humans: the alert's Prometheus graph link (its expression) and Alertmanager silence link."),
  graphQuery: z
    .string()
    .optional()
    .describe("The PromQL the incident graph may run (src/graphs/query.ts); never the alert's own expression unless the playbook allow-lists it. Absent: no graph."),
  workflowId: z.string(),
  playbook: z.string(),
  service: z.string(),
  severity: z.string(),
  target: z.string(),
  stepName: z.string().optional(),
  alertname: z.string(),
  runbookUrl: z.string().optional().describe("The playbook's runbook link, for the Slack root message and pages."),
  snoozeChoices: z.array(z.string()).optional().describe("The Snooze button's choices (playbook silence.snooze); absent: the playbook offers no snooze."),
  snoozeApprovers: z.array(z.string()).optional().describe('Who may click Snooze (whoever may approve a step).'),
  tryWhatWorked: z
    .object({ step: z.string(), index: z.number().int().min(0), successRate: z.number() })
    .optional()
    .describe("Among the similar incidents' fixes, the best one this playbook also has as a step."),
  verbosity: Built<Verbosity>('a thread verbosity').optional().describe("The playbook's Slack thread verbosity (absent: the channel's, config slack.verbosity)."),
  summary: z.string().optional().describe("The latest alert's `summary` annotation (hostile text: sinks escape it for their medium)."),
});
export type IncidentStatus = z.infer<typeof IncidentStatusSchema>;

/** What the workflow hands its sinks after new timeline entries: see src/sinks/sink.ts. */
export const PublishInputSchema = z.object({
  incident: IncidentStatusSchema,
  entries: z.array(TimelineEntrySchema).describe('New entries, in order; a sink must ignore seqs it has seen (activity retries).'),
  refs: SinkRefsSchema,
  temporalUiUrl: z.string().optional(),
});
export type PublishInput = z.infer<typeof PublishInputSchema>;
export const PublishResultSchema = z.object({ refs: SinkRefsSchema });
export type PublishResult = z.infer<typeof PublishResultSchema>;

/** An answer read from a workflow (a query) or from the store, checked against its contract: a
 * run of another version, or a bug, gives an error naming the field instead of a wrong screen. */
export function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`${what} does not match its contract: ${z.prettifyError(r.error)}`);
  return r.data;
}

/** A query whose answer has a schema: readers check it with queryChecked(). */
export type CheckedQuery<S extends z.ZodType> = QueryDefinition<z.output<S>, []> & { schema: S };
export const checkedQuery = <S extends z.ZodType>(name: string, schema: S): CheckedQuery<S> => Object.assign(defineQuery<z.output<S>>(name), { schema });

/** Asks a workflow a query and checks the answer against the query's schema. */
export async function queryChecked<S extends z.ZodType>(handle: Pick<WorkflowHandle, 'query'>, query: CheckedQuery<S>): Promise<z.output<S>> {
  return checked(query.schema, await handle.query(query), `the ${query.name} query's answer`);
}

export const alertSignal = defineSignal<[Alert[]]>('alerts');
export const pauseSignal = defineSignal<[PauseState]>('pause');
export const lockFreedSignal = defineSignal<[]>('lockFreed');
export const statusQuery = checkedQuery('status', IncidentStatusSchema);
export const timelineQuery = checkedQuery('timeline', z.array(TimelineEntrySchema));
/** The decision core's commands in this run, without payloads (src/incident/trace.ts): what
 * `medic simulate` is compared with. */
export const decisionsQuery = defineQuery<TraceEntry[]>('decisions');

/** How the app vouches for the identity in a decide/take/resolve Update: an HMAC-SHA256 (hex)
 * over the Update's kind, the incident id and every other field of the input (src/identity/sign.ts),
 * with a key only medic's app and worker hold. The worker checks it before the workflow accepts
 * the identity; an Update without a valid one is refused and recorded as forged. */
export const IdentityProofSchema = z.strictObject({
  /** Epoch ms when the app signed it; too old (or from the future) is refused. */
  issuedAt: z.number().int().positive(),
  mac: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex characters (HMAC-SHA256)'),
});
export type IdentityProof = z.infer<typeof IdentityProofSchema>;
export const IdentityKindSchema = z.enum(['decide', 'take', 'resolve', 'snooze']);
export type IdentityKind = z.infer<typeof IdentityKindSchema>;

/** The worker's check of an Update's proof (activities/identity.ts), run as a local activity. */
export const VerifyIdentityInputSchema = z.object({
  kind: IdentityKindSchema,
  incidentId: z.string(),
  claim: z.record(z.string(), z.unknown()).describe("The Update's input as received, proof included."),
});
export type VerifyIdentityInput = z.infer<typeof VerifyIdentityInputSchema>;
export const VerifyIdentityResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), reason: z.string() }),
]);
export type VerifyIdentityResult = z.infer<typeof VerifyIdentityResultSchema>;

export const DecisionInputSchema = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  user: z.string().min(1),
  reason: z.string().max(2000).optional(),
  /** The step the decider saw; a stale click on an older request is rejected. */
  step: z.number().int().min(0).optional(),
  /** The `requestedAt` of the approval request the decider saw (the app sets it, and signs it):
   * a decision, or a replayed proof of one, cannot land on a later request for the same step. */
  request: z.number().int().optional(),
  /** An approver group (`@handle` or S… id) the Slack app confirmed `user` belongs to (usergroups.users.list). */
  via: z.string().regex(/^(@[\w.-]+|S[A-Z0-9]+)$/).optional(),
  proof: IdentityProofSchema.optional(),
});
export type DecisionInput = z.infer<typeof DecisionInputSchema>;
export const DecisionResultSchema = z.object({
  decision: z.enum(['approve', 'deny']),
  by: z.string(),
  at: z.number(),
  step: z.number().int().min(0),
  complete: z.boolean().optional().describe('Four-eyes: false while the step still waits for another, different approver.'),
  approvals: z.array(z.string()).optional().describe('Who approved so far (four-eyes).'),
  needed: z.number().int().optional().describe('How many distinct approvals the step needs.'),
});
export type DecisionResult = z.infer<typeof DecisionResultSchema>;
export const decideUpdate = defineUpdate<DecisionResult, [DecisionInput]>('decide');

/** Someone takes an escalated incident from a slack-group rung's "Take it" button. */
export const TakeInputSchema = z.strictObject({
  user: z.string().min(1),
  /** The rung whose request the taker saw; a stale click on an older rung is rejected. */
  rung: z.number().int().min(0),
  /** How the Slack app vouched for the taker: the rung's group, or `admin`. */
  via: z.string().min(1).max(100).optional(),
  proof: IdentityProofSchema.optional(),
});
export type TakeInput = z.infer<typeof TakeInputSchema>;
export const TakeResultSchema = z.object({ by: z.string(), at: z.number(), rung: z.number().int().min(0) });
export type TakeResult = z.infer<typeof TakeResultSchema>;
export const takeUpdate = defineUpdate<TakeResult, [TakeInput]>('take');

/** A person resolves the incident (Slack Resolve button, `medic resolve`, operator API). */
export const ResolveInputSchema = z.strictObject({
  user: z.string().min(1),
  reason: z.string().max(2000).optional(),
  proof: IdentityProofSchema.optional(),
});
export type ResolveInput = z.infer<typeof ResolveInputSchema>;
export const ResolveResultSchema = z.object({ by: z.string(), at: z.number() });
export type ResolveResult = z.infer<typeof ResolveResultSchema>;
export const resolveUpdate = defineUpdate<ResolveResult, [ResolveInput]>('resolve');

/** A person snoozes the incident's alerts (Slack Snooze button): an Alertmanager silence. */
export const SnoozeInputSchema = z.strictObject({
  user: z.string().min(1),
  /** One of the playbook's silence.snooze choices. */
  duration: z.string().min(1).max(16),
  /** An approver group the Slack app confirmed `user` belongs to. */
  via: z.string().regex(/^(@[\w.-]+|S[A-Z0-9]+)$/).optional(),
  proof: IdentityProofSchema.optional(),
});
export type SnoozeInput = z.infer<typeof SnoozeInputSchema>;
export const SnoozeResultSchema = z.object({ by: z.string(), until: z.number() });
export type SnoozeResult = z.infer<typeof SnoozeResultSchema>;
export const snoozeUpdate = defineUpdate<SnoozeResult, [SnoozeInput]>('snooze');

// ---------------------------------------------------------------- governor

// The governor's limits come from the playbook (LimitsSchema, parsed where playbooks are loaded).
const ParsedLimits = z.custom<Limits>((v) => typeof v === 'object' && v !== null, { message: "must be a parsed playbook's limits" });
const Lock = z.object({ workflowId: z.string(), incidentId: z.string(), expiresAt: z.number() });

export const GovernorStateSchema = z.object({
  pause: PauseStateSchema,
  locks: z.record(z.string(), Lock).describe('Per target: the incident holding its lock, until when.'),
  waiters: z.record(z.string(), z.array(z.string())),
  starts: z.array(z.object({ target: z.string(), at: z.number() })),
  inFlight: z.record(z.string(), z.array(z.string())),
  cooldowns: z.record(z.string(), CooldownSchema),
  deployments: z.record(z.string(), DeploymentMarkerSchema),
  incidents: z.record(z.string(), z.number()),
  touched: z
    .record(z.string(), z.array(z.object({ target: z.string(), at: z.number() })))
    .optional()
    .describe('Per playbook: targets acted on lately, for limits.maxTargetsPerWindow (pruned by window).'),
  steps: z.record(z.string(), StepHistorySchema).optional().describe('Recent runs per (playbook, step index), keyed by stepKey(); feeds auto-demotion.'),
});
export type GovernorState = z.infer<typeof GovernorStateSchema>;

/** Takes (or renews) the target's lock and, when `begin` carries the limits, runs the
 * cross-incident gates and admits the action: one round trip on the hot path. */
export const AdmitInputSchema = z.object({
  target: z.string(),
  workflowId: z.string(),
  incidentId: z.string(),
  leaseMs: z.number().int().positive(),
  begin: ParsedLimits.optional(),
  step: z
    .object({ playbook: z.string(), index: z.number().int().min(0), demoteAfter: DemoteAfterSchema, approved: z.boolean() })
    .optional()
    .describe('The step about to run: the governor says whether it is auto-demoted, and then admits the action (`begin`) only once a person has `approved` it.'),
});
export type AdmitInput = z.infer<typeof AdmitInputSchema>;
export const AdmitResultSchema = z.object({
  granted: z.boolean(),
  holder: z.string().optional(),
  pause: PauseStateSchema,
  decisions: z.array(GateDecisionSchema),
  allowed: z.boolean(),
  demotion: DemotionSchema.optional().describe('Present when the step is auto-demoted to require approval.'),
  facts: GovernorFactsSchema.optional().describe("What the governor knows across incidents, for the OPA gate's input (absent from governors started before it was given)."),
});
export type AdmitResult = z.infer<typeof AdmitResultSchema>;

/** One run (action + verification of one try) of a step ended. */
export const RecordStepRunInputSchema = z.object({
  playbook: z.string(),
  step: z.number().int().min(0),
  stepName: z.string(),
  ok: z.boolean(),
  incidentId: z.string(),
  demoteAfter: DemoteAfterSchema,
});
export type RecordStepRunInput = z.infer<typeof RecordStepRunInputSchema>;

export const PromoteStepInputSchema = z.strictObject({
  playbook: z.string().min(1),
  step: z.number().int().min(0),
  by: z.string().min(1),
});
export type PromoteStepInput = z.infer<typeof PromoteStepInputSchema>;
export const PromoteStepResultSchema = z.object({
  before: StepHistorySchema.optional().describe("The step's history before the promotion reset it (absent: it had none)."),
  wasDemoted: z.boolean(),
});
export type PromoteStepResult = z.infer<typeof PromoteStepResultSchema>;
/** A demoted step as the operator API shows it. */
export const DemotedStepSchema = StepHistorySchema.pick({ playbook: true, step: true, stepName: true, runs: true }).extend({ reason: z.string() });
export type DemotedStep = z.infer<typeof DemotedStepSchema>;
export const EndActionInputSchema = z.object({ target: z.string(), workflowId: z.string() });
export type EndActionInput = z.infer<typeof EndActionInputSchema>;
export const ReleaseInputSchema = EndActionInputSchema.extend({
  cooldown: z
    .object({ incidentId: z.string(), ms: z.number().int().min(0) })
    .optional()
    .describe('Set when the incident acted and still failed: no automation on the target for a while.'),
});
export type ReleaseInput = z.infer<typeof ReleaseInputSchema>;

export const SetPausedInputSchema = z.strictObject({
  paused: z.boolean(),
  by: z.string().min(1),
  reason: z.string().max(500).optional(),
});
export type SetPausedInput = z.infer<typeof SetPausedInputSchema>;

export const SetDeploymentInputSchema = z.strictObject({
  target: z.string().min(1),
  /** Epoch ms the deployment is expected to end; null clears the marker. */
  until: z.number().int().nullable(),
  by: z.string().min(1),
});
export type SetDeploymentInput = z.infer<typeof SetDeploymentInputSchema>;

export const admitUpdate = defineUpdate<AdmitResult, [AdmitInput]>('admit');
export const endActionUpdate = defineUpdate<void, [EndActionInput]>('endAction');
export const releaseUpdate = defineUpdate<void, [ReleaseInput]>('release');
export const setPausedUpdate = defineUpdate<PauseState, [SetPausedInput]>('setPaused');
export const setDeploymentUpdate = defineUpdate<void, [SetDeploymentInput]>('setDeployment');
export const recordStepRunUpdate = defineUpdate<Demotion, [RecordStepRunInput]>('recordStepRun');
export const promoteStepUpdate = defineUpdate<PromoteStepResult, [PromoteStepInput]>('promoteStep');
export const governorStateQuery = checkedQuery('governorState', GovernorStateSchema);

export type { ActionLedger, DemoteAfter, Demotion, StepHistory };
