// The decision core's vocabulary: what happens to an incident (events), what it asks the outside
// world to do (commands), and the fixed facts of one run (env). Types only: the workflow
// (workflows/incident.ts) and `medic simulate` (src/simulate/engine.ts) both interpret these.
import type { Playbook, Step, EscalationRung } from '../playbooks/schema.js';
import type { TemplateContext } from '../playbooks/template.js';
import type { PlaybookMode } from '../policy/plan.js';
import type { RenderRefusal } from '../playbooks/render.js';
import type { TargetRefusal } from '../policy/targets.js';
import type {
  Alert,
  AdmitInput,
  AdmitResult,
  DecisionInput,
  IncidentOptions,
  IncidentState,
  IdentityKind,
  IncidentStatusName,
  MachineState,
  PauseState,
  ResolveInput,
  SimilarIncident,
  SimilarQuery,
  SnoozeInput,
  TakeInput,
  TimelineEntry,
} from '../../workflows/contracts.js';
import type { HostReport } from '../../workflows/contracts-timeline.js';
import type { PageContent } from '../../workflows/page.js';
import type { EvidenceMoment, EvidencePack } from '../evidence/schema.js';
import type { DrillReport } from '../../workflows/contracts-drill.js';
import type { PlaybookRef } from '../playbooks/hash.js';
import type { PolicyGate, PolicyInput, PolicyResult } from '../policy/opa.js';
import type { SilenceMatcher } from '../playbooks/silence-matchers.js';

export type { IncidentState, MachineState };

/** The one wait an incident is in, if any (kept in state, so a continued run re-arms it):
 * recheck (gates held or the lock taken), approval (expiry), probe (between verification
 * rounds), rung (a rung's `after`), take (a slack-group rung), hold (after escalating). */
export type Wait = NonNullable<MachineState['wait']>;
export type TimerName = Wait['timer'];

/** What a run of the step's action came back with. */
export type ActionOutcome = (
  | { ok: true; summary: string; durationMs: number; data: Record<string, unknown> }
  /** `refused`: nothing reached the target (a render, SSM, Kubernetes-target or Ansible-host refusal). */
  | { ok: false; error: string; refused: boolean; details?: Record<string, unknown> }
) & {
  /** Per-host results of an action run on several hosts (ansible), noted as action.hosts. */
  hosts?: HostReport;
};

/** One round of verification probes; absent probes were not configured. */
export interface ProbeRound {
  http?: { ok: boolean; evidence: string };
  promql?: { outcome: 'pass' | 'fail' | 'nodata'; evidence: string };
  kubernetes?: { ok: boolean; evidence: string };
}

export type IncidentEvent =
  /** The run starts (first run, or continued as new with the state carried). */
  | { kind: 'start'; at: number; carried: boolean; scope?: IncidentState['scope']; overflow?: { reason: string; cap: number }; refusal?: { reason: string; ref: PlaybookRef | undefined; loaded: string[] } }
  | { kind: 'alerts'; at: number; alerts: Alert[] }
  /** The kill switch changed (the governor tells every open incident). */
  | { kind: 'pause'; at: number; pause: PauseState }
  | { kind: 'lockFreed'; at: number }
  /** The governor's answer: the lock, its gates and the admission (gate results). */
  | { kind: 'admitted'; at: number; result: AdmitResult }
  /** An approval decision whose identity was checked. */
  | { kind: 'decided'; at: number; decision: DecisionInput }
  | { kind: 'timer'; at: number; id: number }
  | { kind: 'actionResult'; at: number; outcome: ActionOutcome }
  /** The step's dry run before its approval request (ansible: --check --diff). */
  | { kind: 'previewed'; at: number; outcome: ActionOutcome }
  | { kind: 'verified'; at: number; round: ProbeRound }
  /** The OPA gate's answer (or why there is none) for the current step's try. */
  | { kind: 'policyDecided'; at: number; result: PolicyResult }
  /** A webhook rung's call came back. */
  | { kind: 'notified'; at: number; rung: number; ok: boolean; summary: string }
  /** PagerDuty answered a trigger or a resolve. */
  | { kind: 'paged'; at: number; rung: number; action: 'trigger' | 'resolve'; ok: boolean; result?: { status: number; message: string; dedupKey?: string }; error?: string }
  | { kind: 'taken'; at: number; take: TakeInput }
  | { kind: 'resolvedByHand'; at: number; resolve: ResolveInput }
  /** A decide/take/resolve whose identity proof was refused. */
  | { kind: 'forged'; at: number; what: string; user: string; idKind: IdentityKind; reason: string }
  /** Alertmanager answered a silence (create/extend) or an expiry (src/silences/core.ts). */
  | { kind: 'silenced'; at: number; purpose: 'medic' | 'snooze'; ok: true; id: string; endsAt: number }
  | { kind: 'silenced'; at: number; purpose: 'medic' | 'snooze'; ok: false; error: string }
  | { kind: 'unsilenced'; at: number; purpose: 'medic' | 'snooze'; ok: boolean; expired: string[]; error?: string }
  /** The store's answer: similar past incidents (empty when there is no store or it failed). */
  | { kind: 'similarFound'; at: number; similar: SimilarIncident[]; error?: string }
  /** A person's Snooze whose identity was checked. */
  | { kind: 'snoozed'; at: number; snooze: SnoozeInput }
  /** A chaos drill's report joins the timeline. */
  | { kind: 'drillReport'; at: number; message: string; report: DrillReport }
  /** An evidence pack came back (never fails: missing parts are in the pack). */
  | { kind: 'evidence'; at: number; pack: EvidencePack };

export type IncidentCommand =
  /** Renew the target's lock and, with `begin`, ask the governor to admit the action. */
  | { kind: 'askGovernor'; admit: Omit<AdmitInput, 'workflowId'>; key: string }
  | { kind: 'endAction'; key: string }
  /** Learning: a run of a step ended (auto-demotion). */
  | { kind: 'recordRun'; step: number; stepName: string; ok: boolean; key: string }
  | { kind: 'requestApproval'; step: number; expiresAt: number }
  | { kind: 'runAction'; step: number; stepTry: number; idempotencyKey: string; dryRun: boolean }
  /** The step's action in dry run, for its approval request (the try's own idempotency key). */
  | { kind: 'preview'; step: number; stepTry: number; idempotencyKey: string }
  | { kind: 'verify'; step: number }
  /** Ask OPA (activities/opa.ts) whether the step may run; answered by `policyDecided`. */
  | { kind: 'askPolicy'; step: number; stepTry: number; gate: PolicyGate; input: PolicyInput }
  | { kind: 'startTimer'; id: number; timer: TimerName; ms: number }
  | { kind: 'cancelTimer'; id: number }
  /** A webhook rung: one HTTP call (rendered by the interpreter). */
  | { kind: 'escalateRung'; rung: number; idempotencyKey: string }
  | { kind: 'page'; rung: number; routingKeySecret: string; page: PageContent }
  | { kind: 'resolvePage'; rung: number; routingKeySecret: string; dedupKey: string }
  /** Create or extend the incident's silence of this purpose in Alertmanager (found again by the
   * incident id in its comment, so repeating it is safe). */
  | { kind: 'silence'; purpose: 'medic' | 'snooze'; matchers: SilenceMatcher[]; endsAt: number; createdBy: string; comment: string }
  | { kind: 'unsilence'; purpose: 'medic' | 'snooze' }
  /** Look up similar past incidents in the store (read-only; answered by similarFound). */
  | { kind: 'findSimilar'; query: SimilarQuery }
  /** New timeline entries: the outbox takes them to the sinks. */
  | { kind: 'publish'; entries: TimelineEntry[] }
  | { kind: 'setStatus'; status: IncidentStatusName }
  /** The incident ended: release the target (with a cooldown when it acted and still escalated). */
  | { kind: 'release'; key: string; cooldownMs?: number }
  /** Tell the undo workflows waiting for the end how it ended (resolved: they revert). */
  | { kind: 'endUndos'; workflowIds: string[]; resolved: boolean }
  /** An Update's answer, or why it is refused. */
  /** Collect the evidence pack (read-only; src/evidence/request.ts renders what to ask). */
  | { kind: 'collectEvidence'; moment: EvidenceMoment; step?: number; at: number }
  | { kind: 'answer'; value: unknown }
  | { kind: 'refuse'; reason: string };

/** Pure renderers the core needs from the playbook layer (workflows/describe.ts has the real
 * ones). Injected so the core imports no activity-input code. */
export interface Describer {
  action(step: Step): string;
  /** A value of the step that cannot be rendered safely (the step fails, nothing is sent). */
  renderRefusal(step: Step): RenderRefusal | undefined;
  /** A Kubernetes target outside the playbook's allow-lists. */
  targetRefusal(step: Step): TargetRefusal | undefined;
  /** What a verification round probes, for the timeline. */
  verification(step: Step): string;
  /** A webhook rung's request refused by typed rendering (nothing is sent). */
  webhookRefusal(rung: Extract<EscalationRung, { kind: 'webhook' }>, index: number): RenderRefusal | undefined;
  /** The PagerDuty page for the incident as it stands. */
  page(s: IncidentState, at: number): PageContent;
}

/** The fixed facts of one incident run. */
export interface IncidentEnv {
  playbook: Playbook;
  mode: PlaybookMode;
  target: string;
  incidentId: string;
  /** The alert that opened the incident. */
  alert: Alert;
  ctx: TemplateContext;
  requestedBy?: string;
  options: Pick<IncidentOptions, 'timelineCap' | 'lockLeaseMs' | 'fingerprintCap' | 'similar'>;
  describe: Describer;
}

export interface Transition {
  state: IncidentState;
  commands: IncidentCommand[];
}

/** An event before the interpreter stamps its time on it. */
export type UntimedEvent = IncidentEvent extends infer E ? (E extends IncidentEvent ? Omit<E, 'at'> : never) : never;
