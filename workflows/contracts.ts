// The one module that the HTTP server, the CLI and the Slack app import from workflows/:
// names, signals, queries, updates and their payload types. It pulls in no activity code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import { z } from 'zod';
import type { Alert } from '../src/intake/schemas.js';
import type { Playbook } from '../src/playbooks/schema.js';
import type { PlaybookRef } from '../src/playbooks/hash.js';
import type {
  ActionLedger,
  Cooldown,
  DeploymentMarker,
  GateDecision,
  PauseState,
} from '../src/policy/gates.js';
import type { Limits } from '../src/playbooks/schema.js';
import type { DemoteAfter, Demotion, StepHistory } from '../src/policy/demotion.js';
import type { GovernorFacts } from '../src/policy/opa.js';
import type { PolicyVerdict } from './contracts-policy.js';
import type { SinkRefs } from './contracts-sinks.js';
import type { TraceEntry } from '../src/incident/trace.js';
import type { Scope } from '../src/incident/scope.js';
import type { Verbosity } from '../src/playbooks/thread.js';
import type { SimilarIncident, SimilarQuery } from '../src/store/similar.js';

export type { Alert, Playbook, PlaybookRef, GateDecision, PauseState, SimilarIncident, SimilarQuery };

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

export type IncidentStatusName =
  | 'open'
  | 'holding'
  | 'awaiting_approval'
  | 'acting'
  | 'verifying'
  | 'resolved'
  | 'escalated'
  /** Escalated and taken by a person from Slack (a slack-group rung): the ladder stopped. */
  | 'acknowledged';

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
import type { ApprovalRequest, TimelineEntry } from './contracts-timeline.js';

export { ApprovalRequestSchema, type ApprovalRequest } from './contracts-timeline.js';

/** The escalation ladder as it runs (src/incident/escalation.ts); the Slack thread shows it. */
export interface LadderState {
  /** One line per rung, in order (what it does, its delay and timeout). */
  rungs: string[];
  /** The user groups of its slack-group rungs: their members may resolve the incident from Slack. */
  groups: string[];
  /** The rung firing or waiting now; rungs.length once every rung fired. */
  current: number;
  startedAt: number;
  /** When the current rung fires (its `after` delay), while it waits to. */
  dueAt?: number;
  /** A slack-group rung waiting for someone to take the incident. */
  waiting?: { rung: number; group: string; since: number; until: number };
  /** slack-group rungs nobody took within their wait. */
  missed: number[];
}

export interface IncidentOptions {
  /** continueAsNew once history passes this many events (Temporal also suggests it). */
  maxHistoryEvents: number;
  /** Timeline entries kept in workflow state; older ones are dropped (counted). */
  timelineCap: number;
  /** Lease on the per-target lock, renewed at every step. */
  lockLeaseMs: number;
  /** Distinct alert fingerprints kept in state (config intake.limits.maxFingerprintsPerIncident). */
  fingerprintCap: number;
  /** Look up similar past incidents at open (the server sets it when an incident store is configured). */
  similar?: boolean;
  temporalUiUrl?: string;
}

export interface IncidentInput {
  /** The playbook to run, by name and content hash (src/playbooks/hash.ts). The worker runs its
   * own loaded copy of exactly that version; a reference it does not hold escalates at once and
   * acts on nothing (workflows/playbook-source.ts). */
  playbookRef?: PlaybookRef;
  /** The body, for workers from before the playbook registry (histories, rolling upgrades).
   * Current workers never run it as given: without `playbookRef`, its hash names their copy. */
  playbook?: Playbook;
  alert: Alert;
  target: string;
  requestedBy?: string;
  options?: Partial<IncidentOptions>;
  /** The playbook's overflow incident (src/intake/open-incidents.ts): it records the alerts of
   * groups over the open-incident cap and escalates; it never acts. */
  overflow?: { reason: string; cap: number };
  /** Present only when continuing as new. */
  carried?: IncidentState;
  /** The true scope of the batch that opened it (src/incident/scope.ts scopeOfBatch). */
  scope?: IncidentState['scope'];
}

/** The input as the workflow runs it: the playbook is the worker's own copy. */
export type RunningIncidentInput = IncidentInput & { playbook: Playbook };

export interface IncidentState {
  incidentId: string;
  status: IncidentStatusName;
  phase: 'gates' | 'approval' | 'act' | 'verify' | 'escalate' | 'done';
  stepIndex: number;
  /** The workflow's own try of the current step; part of the idempotency key. */
  stepTry: number;
  alertsReceived: number;
  lastAlert: Alert;
  /** Last status seen per alert fingerprint; resolved when every one is resolved. Bounded
   * (options.fingerprintCap): the oldest resolved, else the oldest, is evicted and counted. */
  fingerprints: Record<string, 'firing' | 'resolved'>;
  /** `fingerprints` keys, oldest first (absent in state from before the bound). */
  fingerprintOrder?: string[];
  /** Fingerprints evicted by the bound; `firing` of them were still firing when evicted (a
   * resolved alert with an unknown fingerprint counts one of those as resolved). */
  fingerprintsEvicted?: { total: number; firing: number };
  resolvedByAlert: boolean;
  /** `delivery|fingerprint` of the latest bus alerts (at most DELIVERY_WINDOW, oldest first): a
   * message the bus delivers again after a consumer crash is recognised and not counted twice. */
  deliveries?: string[];
  /** Bus alerts recognised as redeliveries and ignored. */
  redeliveries?: number;
  pause: PauseState;
  lockHeld: boolean;
  lockHolder?: string;
  holdStartedAt?: number;
  lastHold?: string;
  /** Counter making every governor call's update id unique. */
  calls: number;
  /** An action really ran (not a dry run): a failure then puts the target in cooldown. */
  acted: boolean;
  escalationReason?: string;
  escalationSent: boolean;
  /** The step the governor auto-demoted to require approval (it kept failing), and why. */
  demoted?: { step: number; reason: string };
  /** PagerDuty pages sent by `pagerduty` rungs (dedup_key = incident id); resolved on healing. */
  pages?: { rung: number; routingKeySecret: string; dedupKey: string; sent: boolean; failed?: boolean; resolved?: boolean }[];
  /** The escalation ladder, once escalation started (absent in histories from before it). */
  ladder?: LadderState;
  /** After escalating, the incident stays open (absorbing repeats) until this time. */
  holdUntil?: number;
  /** Who took the incident from a slack-group rung (the ladder stopped there). */
  owner?: { by: string; at: number; rung: number; via?: string };
  /** A person ended the incident (Slack Resolve, `medic resolve`). */
  resolvedBy?: { by: string; at: number; reason?: string };
  pendingApproval?: ApprovalRequest;
  /** The OPA gate's verdict for one try of a step (src/policy/opa.ts); kept until the step moves on. */
  policy?: { step: number; try: number; at: number; verdict: PolicyVerdict };
  /** The step's dry run shown in its approval request (ansible: --check --diff), per step and try. */
  preview?: { step: number; try: number; text: string };
  approval?: { decision: 'approve' | 'deny' | 'expired'; by: string; at: number; reason?: string; with?: string[] };
  verify?: { startedAt: number; passingSince?: number; probes: number; noData?: number; lastEvidence?: string };
  /** Undo workflows (workflows/undo.ts) waiting for this incident's end to revert a change. */
  undos?: string[];
  outcome?: string;
  startedAt: number;
  endedAt?: number;
  timeline: TimelineEntry[];
  timelineDropped: number;
  /** Unpublished entries given up past the outage bound (src/incident/state.ts record). */
  timelineLost?: number;
  /** Entries with seq below this went to the sinks already (Slack thread, audit, store); it
   * moves only after every sink confirmed them (workflows/outbox.ts). */
  publishedSeq: number;
  /** What sinks asked us to remember (the Slack messages, workflows/contracts-sinks.ts). */
  sinkRefs: SinkRefs;
  continuedAsNew: number;
  /** What the incident covers beyond the fingerprints (src/incident/scope.ts): distinct target
   * keys (playbook scope.targetLabels, capped; the rest counted) and, per Alertmanager group,
   * the alerts its latest notification left out. */
  scope?: { targets: string[]; targetsOver: number; truncated: Record<string, number> };
  /** The incident's evidence signature (e.g. `OOMKilled deployment/shop/api`), set from its
   * evidence pack when there is one: similar past incidents match on it. */
  signature?: string;
  /** Similar past incidents found at open (src/store/similar.ts), best first. */
  similar?: SimilarIncident[];
  /** medic's own Alertmanager silence of the incident's alerts (src/silences/core.ts): active
   * while it acts and verifies; `refused` when the grouping labels cannot make safe matchers. */
  silence?: { id?: string; until: number; active: boolean; refused?: string };
  /** The last Snooze a person asked for (a silence of its own, kept until it ends). */
  snooze?: { by: string; duration: string; until: number; id?: string };
  /** The decision core's own bookkeeping (src/incident/machine.ts). */
  machine?: MachineState;
}

/** What the decision core waits for: at most one call in flight and at most one timer. */
export interface MachineState {
  /** The governor, the step's action, a verification round, a webhook rung or a page resolve. */
  inFlight?: 'governor' | 'action' | 'preview' | 'verify' | 'notify' | 'page' | 'policy';
  wait?: { id: number; timer: 'recheck' | 'approval' | 'probe' | 'rung' | 'take' | 'hold'; until: number; paused?: boolean; lock?: boolean };
  timers: number;
  /** The other incident holding the target's lock signalled it let go. */
  lockFreed?: boolean;
  /** Local gate decisions taken while the governor is asked. */
  gates?: { at: number; local: GateDecision[]; begin: boolean; needsApproval: boolean };
  /** Ending: pages are resolved first (index of the next one to resolve). */
  finishing?: { status: 'resolved' | 'escalated'; outcome: string; page: number };
  released?: boolean;
}

export interface IncidentStatus extends Omit<IncidentState, 'timeline' | 'lastAlert' | 'sinkRefs' | 'machine' | 'scope' | 'deliveries'> {
  /** How many alerts and distinct targets the incident covers (src/incident/scope.ts), counting
   * alerts Alertmanager left out of capped notifications. */
  coverage?: Scope;
  /** For humans: the alert's Prometheus graph link (its expression) and Alertmanager silence link. */
  alertLinks?: { graph?: string; silence?: string };
  /** The PromQL the incident graph may run (src/graphs/query.ts); never the alert's own
   * expression unless the playbook allow-lists it. Absent: no graph. */
  graphQuery?: string;
  workflowId: string;
  playbook: string;
  service: string;
  severity: string;
  target: string;
  stepName?: string;
  alertname: string;
  /** The playbook's runbook link, for the Slack root message and pages. */
  runbookUrl?: string;
  /** The Snooze button's choices (playbook silence.snooze) and who may click it (whoever may
   * approve a step); absent: the playbook offers no snooze. */
  snoozeChoices?: string[];
  snoozeApprovers?: string[];
  /** Among the similar incidents' fixes, the best one this playbook also has as a step. */
  tryWhatWorked?: { step: string; index: number; successRate: number };
  /** The playbook's Slack thread verbosity (absent: the channel's, config slack.verbosity). */
  verbosity?: Verbosity;
  /** The latest alert's `summary` annotation (hostile text: sinks escape it for their medium). */
  summary?: string;
}

/** What the workflow hands its sinks after new timeline entries: see src/sinks/sink.ts. */
export interface PublishInput {
  incident: IncidentStatus;
  /** New entries, in order; a sink must ignore seqs it has seen (activity retries). */
  entries: TimelineEntry[];
  refs: SinkRefs;
  temporalUiUrl?: string;
}
export interface PublishResult {
  refs: SinkRefs;
}

export const alertSignal = defineSignal<[Alert[]]>('alerts');
export const pauseSignal = defineSignal<[PauseState]>('pause');
export const lockFreedSignal = defineSignal<[]>('lockFreed');
export const statusQuery = defineQuery<IncidentStatus>('status');
export const timelineQuery = defineQuery<TimelineEntry[]>('timeline');
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
export type IdentityKind = 'decide' | 'take' | 'resolve' | 'snooze';

/** The worker's check of an Update's proof (activities/identity.ts), run as a local activity. */
export interface VerifyIdentityInput {
  kind: IdentityKind;
  incidentId: string;
  /** The Update's input as received, proof included. */
  claim: Record<string, unknown>;
}
export type VerifyIdentityResult = { ok: true } | { ok: false; reason: string };

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
export interface DecisionResult {
  decision: 'approve' | 'deny';
  by: string;
  at: number;
  step: number;
  /** Four-eyes: false while the step still waits for another, different approver. */
  complete?: boolean;
  /** Who approved so far (four-eyes), and how many distinct approvals the step needs. */
  approvals?: string[];
  needed?: number;
}
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
export interface TakeResult {
  by: string;
  at: number;
  rung: number;
}
export const takeUpdate = defineUpdate<TakeResult, [TakeInput]>('take');

/** A person resolves the incident (Slack Resolve button, `medic resolve`, operator API). */
export const ResolveInputSchema = z.strictObject({
  user: z.string().min(1),
  reason: z.string().max(2000).optional(),
  proof: IdentityProofSchema.optional(),
});
export type ResolveInput = z.infer<typeof ResolveInputSchema>;
export interface ResolveResult {
  by: string;
  at: number;
}
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
export interface SnoozeResult {
  by: string;
  until: number;
}
export const snoozeUpdate = defineUpdate<SnoozeResult, [SnoozeInput]>('snooze');

// ---------------------------------------------------------------- governor

export interface GovernorState {
  pause: PauseState;
  locks: Record<string, { workflowId: string; incidentId: string; expiresAt: number }>;
  waiters: Record<string, string[]>;
  starts: { target: string; at: number }[];
  inFlight: Record<string, string[]>;
  cooldowns: Record<string, Cooldown>;
  deployments: Record<string, DeploymentMarker>;
  incidents: Record<string, number>;
  /** Per playbook: targets acted on lately, for limits.maxTargetsPerWindow (pruned by window). */
  touched?: Record<string, { target: string; at: number }[]>;
  /** Recent runs per (playbook, step index), keyed by stepKey(); feeds auto-demotion. */
  steps?: Record<string, StepHistory>;
}

/** Takes (or renews) the target's lock and, when `begin` carries the limits, runs the
 * cross-incident gates and admits the action: one round trip on the hot path. */
export interface AdmitInput {
  target: string;
  workflowId: string;
  incidentId: string;
  leaseMs: number;
  begin?: Limits;
  /** The step about to run: the governor says whether it is auto-demoted, and then admits
   * the action (`begin`) only once a person has `approved` it. */
  step?: { playbook: string; index: number; demoteAfter: DemoteAfter; approved: boolean };
}
export interface AdmitResult {
  granted: boolean;
  holder?: string;
  pause: PauseState;
  decisions: GateDecision[];
  allowed: boolean;
  /** Present when the step is auto-demoted to require approval. */
  demotion?: Demotion;
  /** What the governor knows across incidents, for the OPA gate's input (absent from governors
   * started before it was given). */
  facts?: GovernorFacts;
}

/** One run (action + verification of one try) of a step ended. */
export interface RecordStepRunInput {
  playbook: string;
  step: number;
  stepName: string;
  ok: boolean;
  incidentId: string;
  demoteAfter: DemoteAfter;
}

export const PromoteStepInputSchema = z.strictObject({
  playbook: z.string().min(1),
  step: z.number().int().min(0),
  by: z.string().min(1),
});
export type PromoteStepInput = z.infer<typeof PromoteStepInputSchema>;
export interface PromoteStepResult {
  /** The step's history before the promotion reset it (absent: it had none). */
  before?: StepHistory;
  wasDemoted: boolean;
}
/** A demoted step as the operator API shows it. */
export interface DemotedStep {
  playbook: string;
  step: number;
  stepName: string;
  reason: string;
  runs: StepHistory['runs'];
}
export interface EndActionInput {
  target: string;
  workflowId: string;
}
export interface ReleaseInput {
  target: string;
  workflowId: string;
  /** Set when the incident acted and still failed: no automation on the target for a while. */
  cooldown?: { incidentId: string; ms: number };
}

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
export const governorStateQuery = defineQuery<GovernorState>('governorState');

export type { ActionLedger, DemoteAfter, Demotion, StepHistory };
