// An incident's timeline entry: a zod discriminated union on `kind`, one typed payload (`data`)
// per kind. Producers build entries with the `entry.*` constructors; sinks, the store, KPIs and
// the audit log `switch (e.kind)` and read typed fields, never the human `message`. Entries
// written before the union (one of nine coarse kinds, untyped data) are read through
// upgradeLegacyEntry (workflows/contracts-timeline-legacy.ts). Pure zod: bundled into the workflow sandbox.
import { z } from 'zod';
import { PolicyVerdictSchema } from './contracts-policy.js';
import { EvidencePackSchema } from './contracts-evidence.js';

const step = z.number().int().min(0).describe('The playbook step (0-based) the entry is about.');
const base = {
  seq: z.number().int().min(0).describe("Position in the incident's whole timeline (survives the cap and continue-as-new)."),
  at: z.number().describe('Epoch ms (workflow time).'),
  message: z.string().describe('The line a person reads (Slack thread, CLI, postmortem); never parsed.'),
};
/** Structured values from elsewhere (policy, renderers, activities): the fields read here are
 * typed; other fields are kept as they are (parsed loosely, typed without an index signature so
 * those modules' interfaces fit). */
const loose = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape) as unknown as z.ZodType<z.output<z.ZodObject<T>>>;
const GateDecisionSchema = loose({ gate: z.string(), outcome: z.enum(['pass', 'wait', 'block']), reason: z.string(), untilMs: z.number().optional() });
const RefusalSchema = loose({ message: z.string() });
const Decisions = z.array(GateDecisionSchema).describe('Every gate decision, local and from the governor.');
export const ApprovalRequestSchema = z.strictObject({
  step: z.number().int().min(0),
  stepName: z.string(),
  what: z.string().describe('The step label and what its action does.'),
  preview: z.string().optional().describe("The step's own dry run, run before asking (ansible: --check --diff, per host)."),
  risk: z.enum(['low', 'medium', 'high']),
  approvers: z.array(z.string()),
  fourEyes: z.boolean(),
  needed: z.number().int().optional().describe('Distinct approvals the step needs: 2 for four-eyes (absent in requests made before four-eyes counted approvers: 1).'),
  approvedBy: z.array(z.strictObject({ by: z.string(), at: z.number(), via: z.string().optional() })).optional().describe('Approvals so far while more are needed (four-eyes), in order.'),
  requestedBy: z.string().optional(),
  policy: z
    .strictObject({ decision: z.string(), hash: z.string().optional(), reasons: z.array(z.string()) })
    .optional()
    .describe('Set when an OPA policy required this approval: the rule, its content hash and its reasons'),
  requestedAt: z.number(),
  expiresAt: z.number(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;
const TakeWait = z.strictObject({ rung: z.number().int(), group: z.string(), since: z.number(), until: z.number() });
const PagerDutyReply = loose({ status: z.number(), message: z.string(), dedupKey: z.string().optional() });
const Json = z.record(z.string(), z.unknown());
/** One host's part in a run over several hosts (the ansible action). */
export const HostResultSchema = z.strictObject({
  host: z.string(),
  status: z.enum(['ok', 'changed', 'failed', 'unreachable', 'already-applied']).describe('already-applied: the marker of this idempotency key was on the host, so the playbook did nothing there'),
  changedTasks: z.array(z.string()).describe('Tasks that changed something (in --check: would change).'),
  failedTask: z.string().optional(),
  message: z.string().optional().describe('Why the host failed or was unreachable (redacted, capped).'),
  diff: z.string().optional().describe('What --diff showed (redacted, capped).'),
});
export type HostResult = z.infer<typeof HostResultSchema>;
export const HostReportSchema = z.strictObject({
  playbook: z.string(),
  check: z.boolean().describe('A --check --diff run (dry run or approval preview): nothing changed.'),
  hosts: z.array(HostResultSchema),
});
export type HostReport = z.infer<typeof HostReportSchema>;

/** Payload per kind; `step` tells whether entries of the kind name a step. */
const KINDS = {
  'alert.opened': { data: z.strictObject({ detection: loose({ source: z.string(), startsAt: z.string().optional(), receivedAt: z.number().optional(), ttdSeconds: z.string().optional() }) }) },
  'alert.received': {
    data: z.strictObject({
      labels: z.record(z.string(), z.string()),
      status: z.enum(['firing', 'resolved']).optional().describe('Absent in entries from before typed timelines that did not say.'),
      source: z.string().optional(),
    }),
  },
  'alert.similar': {
    data: z.strictObject({
      similar: z
        .array(loose({ incidentId: z.string(), why: z.string(), score: z.number(), outcome: z.string(), postmortem: z.string() }))
        .describe('Similar past incidents found at open, best first (src/store/similar.ts).'),
    }),
  },
  'gate.passed': { step, data: z.strictObject({ decisions: Decisions }) },
  'gate.held': { step, data: z.strictObject({ decisions: Decisions }) },
  'gate.blocked': { step, data: z.strictObject({ decisions: Decisions, refusal: RefusalSchema.optional() }) },
  'gate.demoted': { step, data: z.strictObject({ demotion: loose({ demoted: z.boolean(), failures: z.number(), runs: z.number(), reason: z.string().optional() }).optional() }) },
  'gate.policy': { step, data: z.strictObject({ policy: PolicyVerdictSchema }) },
  'gate.playbookRefused': { data: z.strictObject({ playbook: z.strictObject({ requested: loose({ name: z.string() }).nullable(), loaded: z.array(z.string()) }) }) },
  'lock.waiting': { data: z.strictObject({ target: z.string(), holder: z.string().optional() }) },
  'lock.acquired': { data: z.strictObject({ target: z.string() }) },
  'approval.requested': { step, data: z.strictObject({ request: ApprovalRequestSchema }) },
  'approval.partial': { step, data: z.strictObject({ partial: z.strictObject({ by: z.string(), approvals: z.array(z.string()), needed: z.number().int() }) }) },
  'approval.decided': {
    step,
    data: z.strictObject({ decision: z.enum(['approve', 'deny']), by: z.string(), approvers: z.array(z.string()).optional(), reason: z.string().optional() }),
  },
  'approval.expired': { step, data: z.strictObject({}) },
  'action.started': {
    step,
    data: z.strictObject({
      idempotencyKey: z.string(),
      stepName: z.string(),
      try: z.number().int().min(1),
      dryRun: z.boolean(),
      action: z.string().optional().describe("The step's action kind (http, ssm-command, …); absent only in entries from histories before it was recorded."),
    }),
  },
  'action.succeeded': {
    step,
    data: z.strictObject({
      dryRun: z.boolean(),
      httpStatus: z.number().int().optional(),
      durationMs: z.number().min(0).optional().describe("The action's own time, measured inside its activity; absent in entries from before it was recorded."),
      output: Json.describe('What the action reported (status, ids, changes).'),
    }),
  },
  'action.failed': { step, data: z.strictObject({ httpStatus: z.number().int().optional(), details: Json.optional().describe("The failure's details (refusal, API status).") }) },
  'action.hosts': { step, data: HostReportSchema },
  'action.retrying': { data: z.strictObject({ reason: z.string(), step: z.number().int(), try: z.number().int() }) },
  'action.movedOn': { data: z.strictObject({ reason: z.string(), step: z.number().int() }) },
  'verification.started': { step, data: z.strictObject({}) },
  'verification.skipped': { step, data: z.strictObject({}) },
  'verification.passed': { step, data: z.strictObject({}) },
  'verification.probeFailed': { step, data: z.strictObject({}) },
  'verification.failed': { step, data: z.strictObject({ evidence: z.string().optional(), probes: z.number().int().optional() }) },
  'escalation.started': { data: z.strictObject({ reason: z.string() }) },
  'escalation.overflow': { data: z.strictObject({ overflow: z.strictObject({ reason: z.string(), cap: z.number().int() }) }) },
  'escalation.ladder': { data: z.strictObject({ ladder: z.array(z.string()) }) },
  'escalation.handedOver': { data: z.strictObject({ to: z.string() }) },
  'escalation.notified': { data: z.strictObject({}) },
  'escalation.webhookRefused': { data: z.strictObject({ refusal: RefusalSchema }) },
  'escalation.webhookFailed': { data: z.strictObject({}) },
  'escalation.takeRequested': { data: z.strictObject({ take: TakeWait }) },
  'escalation.takeMissed': { data: z.strictObject({ take: TakeWait.extend({ outcome: z.literal('missed') }) }) },
  'escalation.taken': { data: z.strictObject({ take: z.strictObject({ rung: z.number().int(), group: z.string(), outcome: z.literal('taken'), by: z.string(), at: z.number() }) }) },
  'page.sending': {
    data: z.strictObject({ pagerduty: loose({ event_action: z.literal('trigger'), routingKeySecret: z.string(), dedupKey: z.string(), summary: z.string() }) }),
  },
  'page.accepted': { data: z.strictObject({ pagerduty: PagerDutyReply }) },
  'page.failed': { data: z.strictObject({}) },
  'page.resolving': { data: z.strictObject({ pagerduty: z.strictObject({ event_action: z.literal('resolve'), routingKeySecret: z.string(), dedupKey: z.string() }) }) },
  'page.resolved': { data: z.strictObject({ pagerduty: PagerDutyReply }) },
  'page.resolveFailed': { data: z.strictObject({}) },
  resolution: {
    data: z.strictObject({
      status: z.enum(['resolved', 'escalated']),
      outcome: z.string(),
      unverifiedStep: z.number().int().optional().describe('Healed by this step, which had no verification configured.'),
    }),
  },
  'control.killSwitch': { data: z.strictObject({ paused: z.boolean(), by: z.string().optional(), reason: z.string().optional() }) },
  'control.graphRefused': { data: z.strictObject({ graph: z.strictObject({ refused: z.literal(true), query: z.string().optional() }) }) },
  'control.drillReport': { data: z.strictObject({ drill: loose({ scenario: z.string(), passed: z.boolean() }) }) },
  'control.forged': { data: z.strictObject({ forged: z.strictObject({ kind: z.string(), user: z.string(), what: z.string(), reason: z.string() }) }) },
  'control.silenced': {
    data: z.strictObject({ silence: z.strictObject({ purpose: z.literal('medic'), id: z.string(), until: z.number(), extended: z.boolean() }) }),
  },
  'control.silenceExpired': { data: z.strictObject({ silence: z.strictObject({ purpose: z.enum(['medic', 'snooze']), expired: z.array(z.string()) }) }) },
  'control.silenceFailed': { data: z.strictObject({ silence: z.strictObject({ purpose: z.enum(['medic', 'snooze']), error: z.string() }) }) },
  'control.snoozed': {
    data: z.strictObject({ silence: z.strictObject({ purpose: z.literal('snooze'), id: z.string(), until: z.number(), by: z.string().describe('Who clicked Snooze') }) }),
  },
  'control.evidence': { data: z.strictObject({ evidence: EvidencePackSchema }) },
  'gate.skipped': { step, data: z.strictObject({ when: z.string().describe("The step's `when:` condition"), seen: z.string().describe('What the evidence said') }) },
  'control.resolvedByHand': { data: z.strictObject({ resolvedBy: z.strictObject({ by: z.string(), at: z.number(), reason: z.string().optional() }) }) },
} as const;

export type TimelineKind = keyof typeof KINDS;
export const TIMELINE_KINDS = Object.keys(KINDS) as TimelineKind[];

type Spec = { data: z.ZodType; step?: z.ZodNumber };
const variant = <K extends TimelineKind>(kind: K, s: Spec) =>
  z.strictObject({ ...base, kind: z.literal(kind), ...(s.step ? { step: s.step } : { step: step.optional() }), data: s.data });
type Variant<K extends TimelineKind> = z.ZodObject<
  typeof base & { kind: z.ZodLiteral<K>; step: (typeof KINDS)[K] extends { step: z.ZodNumber } ? z.ZodNumber : z.ZodOptional<z.ZodNumber>; data: (typeof KINDS)[K]['data'] },
  z.core.$strict
>;
const variants = TIMELINE_KINDS.map((k) => variant(k, KINDS[k])) as unknown as { [K in TimelineKind]: Variant<K> }[TimelineKind][];

export type TimelineEntry = { [K in TimelineKind]: z.infer<Variant<K>> }[TimelineKind];
export const TimelineEntrySchema = z
  .discriminatedUnion('kind', variants as unknown as [Variant<TimelineKind>, ...Variant<TimelineKind>[]])
  .describe('One fact in an incident timeline, typed by its kind.') as unknown as z.ZodType<TimelineEntry>;
export type EntryOf<K extends TimelineKind> = Extract<TimelineEntry, { kind: K }>;
/** An entry before the timeline numbers and times it (src/incident/state.ts record). */
export type NewEntry = { [K in TimelineKind]: Omit<EntryOf<K>, 'seq' | 'at'> }[TimelineKind];

/** The nine groups shown as icons (Slack), columns (CLI, postmortem) and sections. */
export type TimelineGroup = 'alert' | 'gate' | 'lock' | 'approval' | 'action' | 'verification' | 'escalation' | 'resolution' | 'control';
export const groupOf = (kind: TimelineKind): TimelineGroup => {
  const g = kind.split('.')[0];
  return (g === 'page' ? 'escalation' : g) as TimelineGroup;
};
export const kindsOf = (...groups: TimelineGroup[]): TimelineKind[] => TIMELINE_KINDS.filter((k) => groups.includes(groupOf(k)));

/** Every kind handled: a `switch (e.kind)` ends with `default: return unreachable(e)`. */
export function unreachable(x: never): never {
  throw new Error(`unhandled timeline entry kind: ${JSON.stringify((x as { kind?: unknown }).kind)}`);
}

/** Parses one entry; the error names each field and rule. */
export function parseTimelineEntry(raw: unknown): TimelineEntry {
  const r = TimelineEntrySchema.safeParse(raw);
  if (r.success) return r.data;
  const kind = (raw as { kind?: unknown } | null)?.kind;
  throw new TimelineEntryError(
    `invalid timeline entry${typeof kind === 'string' ? ` (kind ${kind})` : ''}: ${r.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ')}`,
  );
}
export class TimelineEntryError extends Error {}

type Fields<K extends TimelineKind> = Omit<EntryOf<K>, 'seq' | 'at' | 'kind'>;
const make =
  <K extends TimelineKind>(kind: K) =>
  (f: Fields<K>): NewEntry =>
    ({ kind, ...f }) as unknown as NewEntry;

/** Constructors: `note(entry.actionSucceeded({ message, step, data }))`. */
export const entry = {
  alertOpened: make('alert.opened'),
  alertReceived: make('alert.received'),
  similarFound: make('alert.similar'),
  gatePassed: make('gate.passed'),
  gateHeld: make('gate.held'),
  gateBlocked: make('gate.blocked'),
  gateDemoted: make('gate.demoted'),
  playbookRefused: make('gate.playbookRefused'),
  gatePolicy: make('gate.policy'),
  lockWaiting: make('lock.waiting'),
  lockAcquired: make('lock.acquired'),
  approvalRequested: make('approval.requested'),
  approvalPartial: make('approval.partial'),
  approvalDecided: make('approval.decided'),
  approvalExpired: make('approval.expired'),
  actionStarted: make('action.started'),
  actionSucceeded: make('action.succeeded'),
  actionFailed: make('action.failed'),
  actionHosts: make('action.hosts'),
  actionRetrying: make('action.retrying'),
  actionMovedOn: make('action.movedOn'),
  verificationStarted: make('verification.started'),
  verificationSkipped: make('verification.skipped'),
  verificationPassed: make('verification.passed'),
  verificationProbeFailed: make('verification.probeFailed'),
  verificationFailed: make('verification.failed'),
  escalationStarted: make('escalation.started'),
  escalationOverflow: make('escalation.overflow'),
  escalationLadder: make('escalation.ladder'),
  handedOver: make('escalation.handedOver'),
  notified: make('escalation.notified'),
  webhookRefused: make('escalation.webhookRefused'),
  webhookFailed: make('escalation.webhookFailed'),
  takeRequested: make('escalation.takeRequested'),
  takeMissed: make('escalation.takeMissed'),
  taken: make('escalation.taken'),
  pageSending: make('page.sending'),
  pageAccepted: make('page.accepted'),
  pageFailed: make('page.failed'),
  pageResolving: make('page.resolving'),
  pageResolved: make('page.resolved'),
  pageResolveFailed: make('page.resolveFailed'),
  resolution: make('resolution'),
  killSwitch: make('control.killSwitch'),
  graphRefused: make('control.graphRefused'),
  drillReport: make('control.drillReport'),
  forged: make('control.forged'),
  resolvedByHand: make('control.resolvedByHand'),
  silenced: make('control.silenced'),
  silenceExpired: make('control.silenceExpired'),
  silenceFailed: make('control.silenceFailed'),
  snoozed: make('control.snoozed'),
  evidence: make('control.evidence'),
  stepSkipped: make('gate.skipped'),
} satisfies Record<string, (f: never) => NewEntry>;

/** An action's output → its typed fields: an HTTP status when it reported one. */
export const httpStatusOf = (output: Record<string, unknown> | undefined): { httpStatus?: number } =>
  typeof output?.status === 'number' && Number.isInteger(output.status) ? { httpStatus: output.status } : {};

/** A type guard for entries of the given kinds: `timeline.filter(isKind('action.failed'))`. */
export const isKind =
  <K extends TimelineKind>(...kinds: K[]) =>
  (e: TimelineEntry): e is EntryOf<K> =>
    (kinds as TimelineKind[]).includes(e.kind);

/** What an action reported: its output when it succeeded, the failure's details when it failed. */
export function actionOutput(e: TimelineEntry | undefined): Record<string, unknown> | undefined {
  if (e?.kind === 'action.succeeded') return e.data.output;
  if (e?.kind === 'action.failed') return e.data.details;
  return undefined;
}
