// The OPA policy gate, pure: the playbook field that asks for it, the input document OPA sees,
// the answer it must give (zod: a wrong shape is a failure naming the field), and what an error
// turns into (fail closed for risk: high, `onError` otherwise). The question is put by an
// activity (activities/opa.ts); the decision core (src/incident/steps.ts) only reads answers, so
// a replay reads the recorded one. Bundled into the workflow sandbox: no I/O, no Node built-ins.
import { z } from 'zod';
import { DURATION_PATTERN } from '../playbooks/duration.js';
import type { PolicyVerdict } from '../../workflows/contracts-policy.js';
import type { GovernorFacts } from '../../workflows/contracts-governor.js';

const Duration = z.string().regex(DURATION_PATTERN, 'must be a duration like 500ms, 2s or 1m');

const DecisionPath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a rule path like medic/remediation/decision (package path and rule, "/"-separated)');

export const PolicyGateSchema = z
  .strictObject({
    decision: DecisionPath.describe(
      'The rule OPA evaluates, as a Data API path: medic/remediation/decision is `decision` in `package medic.remediation`. It must answer {outcome: "allow" | "deny" | "require_approval", reasons: [...], approvers: [@groups]} (README, "Policy as code (OPA)")',
    ),
    backend: z
      .enum(['server', 'wasm'])
      .optional()
      .describe('server = an OPA server (config opa.url, REST Data API); wasm = in process, from the bundle `opa build -t wasm` made (config opa.bundle). Default: server when opa.url is set, else wasm'),
    onError: z
      .enum(['deny', 'allow', 'approve'])
      .default('deny')
      .describe(
        'When OPA cannot answer in time (down, slow, not configured): deny (escalate), allow (act as if it allowed) or approve (ask the step\'s approvers). A high-risk step always fails closed: deny, or approve if set. A policy that does not compile or answers in the wrong shape always denies',
      ),
    timeout: Duration.default('2s').describe('Deadline of one decision, OPA call included'),
  })
  .describe('Ask Open Policy Agent before this step runs: allow, deny (the incident escalates with the policy\'s reasons) or require approval (by the groups the policy names)');
export type PolicyGate = z.infer<typeof PolicyGateSchema>;

/** Who a policy may name as approvers: Slack user groups (@handle or S… id), or user ids. */
const Approver = z.string().regex(/^(@[\w.-]+|S[A-Z0-9]+|[UW][A-Z0-9]+)$/, 'must be a Slack user group (@handle or S… id) or user id');

/** What the decision rule must evaluate to. */
export const PolicyAnswerSchema = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('allow'), reasons: z.array(z.string()).default([]) }),
  z.strictObject({ outcome: z.literal('deny'), reasons: z.array(z.string()).min(1, 'a deny must say why (at least one reason)') }),
  z.strictObject({
    outcome: z.literal('require_approval'),
    reasons: z.array(z.string()).default([]),
    approvers: z.array(Approver).min(1, 'require_approval must name who approves (at least one group)'),
  }),
]);
export type PolicyAnswer = z.infer<typeof PolicyAnswerSchema>;

/** Parses a rule's value; the error names each field and rule. */
export function parsePolicyAnswer(raw: unknown, where: string): { ok: true; answer: PolicyAnswer } | { ok: false; error: string } {
  if (raw === undefined) return { ok: false, error: `${where} is undefined: no loaded policy defines it (a typo in the path, or the policy is not loaded)` };
  const r = PolicyAnswerSchema.safeParse(raw);
  if (r.success) return { ok: true, answer: r.data };
  const issues = r.error.issues.map((i) => `${['result', ...i.path].join('.')}: ${i.message}`).join('; ');
  return { ok: false, error: `${where} answered in the wrong shape: ${issues}` };
}

/** The input document: the incident, the step about to run and the governor's facts. */
export interface PolicyInput {
  incident: { id: string; playbook: string; startedAt: string };
  alert: { alertname: string; severity: string; status: string; source: string; labels: Record<string, string>; annotations: Record<string, string> };
  labels: Record<string, string>;
  target: string;
  step: { index: number; name: string; action: string; operation?: string; namespace?: string; targets: string[]; risk: 'low' | 'medium' | 'high' };
  risk: 'low' | 'medium' | 'high';
  mode: 'dry-run' | 'approve-all' | 'auto';
  /** Workflow time (deterministic); weekday and hour in UTC so the wasm build needs no time built-ins. */
  time: { now: string; unixMs: number; weekday: string; hourUtc: number; minuteUtc: number };
  governor: GovernorFacts;
}

/** What the governor knows across incidents, as OPA sees it (a contract: workflows/contracts-governor.ts). */
export type { GovernorFacts };

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
export const timeFacts = (at: number): PolicyInput['time'] => {
  const d = new Date(at);
  return { now: d.toISOString(), unixMs: at, weekday: WEEKDAYS[d.getUTCDay()]!, hourUtc: d.getUTCHours(), minuteUtc: d.getUTCMinutes() };
};

/** What the activity brings back: OPA's answer, or why there is none. */
export type PolicyResult =
  | { ok: true; answer: PolicyAnswer; hash?: string; backend: 'server' | 'wasm'; durationMs: number }
  /** unavailable: down, slow or not configured (onError applies); invalid: a policy that does
   * not compile or load, or an answer of the wrong shape (always deny). */
  | { ok: false; error: { kind: 'unavailable' | 'invalid'; message: string }; hash?: string; backend: 'server' | 'wasm' | 'none'; durationMs: number };

export { PolicyVerdictSchema, type PolicyVerdict } from '../../workflows/contracts-policy.js';

/** An answer, or the error rule: fail closed for risk: high, `onError` otherwise; invalid → deny. */
export function policyVerdict(gate: PolicyGate, risk: 'low' | 'medium' | 'high', r: PolicyResult): PolicyVerdict {
  const head = { decision: gate.decision, backend: r.backend, ...(r.hash ? { hash: r.hash } : {}), durationMs: r.durationMs };
  if (r.ok) {
    const a = r.answer;
    return { ...head, outcome: a.outcome, reasons: a.reasons, approvers: a.outcome === 'require_approval' ? a.approvers : [] };
  }
  const { kind, message } = r.error;
  let outcome: PolicyVerdict['outcome'];
  let rule: string;
  if (kind === 'invalid') {
    outcome = 'deny';
    rule = 'a broken policy or answer always denies';
  } else if (risk === 'high' && gate.onError !== 'approve') {
    outcome = 'deny';
    rule = 'risk: high fails closed';
  } else {
    outcome = gate.onError === 'approve' ? 'require_approval' : gate.onError;
    rule = `onError: ${gate.onError}${risk === 'high' ? ' (risk: high: still closed, a person decides)' : ''}`;
  }
  return { ...head, outcome, reasons: [`OPA gave no decision: ${message}`], approvers: [], error: { kind, message, rule } };
}

const OUTCOME_TEXT = { allow: 'ALLOW', deny: 'DENY', require_approval: 'REQUIRE APPROVAL' } as const;

/** The line a person reads (Slack thread, CLI, simulate). */
export function describeVerdict(v: PolicyVerdict): string {
  const hash = v.hash ? `, sha256 ${v.hash.slice(0, 12)}` : '';
  const by = v.outcome === 'require_approval' && v.approvers.length > 0 ? ` by ${v.approvers.join(', ')}` : '';
  const why = v.reasons.length > 0 ? `: ${v.reasons.join('; ')}` : '';
  const err = v.error ? ` [${v.error.rule}]` : '';
  return `policy ${v.decision} (${v.backend}${hash}): ${OUTCOME_TEXT[v.outcome]}${by}${why}${err}`;
}

/** Facts when the governor gave none (a governor started before it gave them). */
export const emptyFacts: GovernorFacts = { openIncidents: 0, recentActions: [], deployments: {} };
