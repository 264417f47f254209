// The playbook schema is the single source of truth: types come from z.infer, the JSON Schema in
// playbooks/playbook.schema.json is generated from it (npm run schema), and `medic validate`
// reports its errors with file, line and column.
import { z } from 'zod';
import { DURATION_PATTERN, toMs } from './duration.js';
import { jsonBodyTemplateProblem } from './render-json.js';
import { PromqlTemplateSchema } from './render-promql.js';
import { urlTemplateProblem } from './render-url.js';
import { AllowSchema } from './allow.js';
import { KubernetesParamsSchema, KubernetesProbeSchema } from './kubernetes.js';
import { kubernetesAllowProblems } from '../policy/targets.js';
import { PolicyGateSchema } from '../policy/opa.js';
import { AnsibleParamsSchema, requireAnsibleAllow } from './ansible.js';
import { ScopeSettingsSchema, SilenceSettingsSchema, VerbositySchema } from './thread.js';
import { requireSsmAllow, SsmAutomationParamsSchema, SsmCommandParamsSchema } from './ssm.js';
import { EvidenceConfigSchema } from '../evidence/config.js';
import { whenProblem } from '../evidence/when.js';

export { SsmAutomationParamsSchema, SsmCommandParamsSchema, type SsmAutomationParams, type SsmCommandParams } from './ssm.js';

export const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration like 500ms, 30s, 5m, 1h or 2d')
  .describe('A duration: a number followed by ms, s, m, h or d');

const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes (max 63)');

/** A "~regex" label value must compile, or matching would throw on every alert. */
function compiles(value: string): boolean {
  if (!value.startsWith('~')) return true;
  try {
    new RegExp(`^(?:${value.slice(1)})$`); // as match.ts builds it
    return true;
  } catch {
    return false;
  }
}

const OneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const MatchSchema = z
  .strictObject({
    alertname: OneOrMany.optional().describe('Alert name(s) this playbook handles'),
    severity: OneOrMany.optional().describe('Severities this playbook handles'),
    labels: z
      .record(z.string(), z.string().refine(compiles, { error: (i) => `invalid regular expression ${String(i.input)}` }))
      .optional()
      .describe('Labels that must be equal; a value "~regex" matches a regular expression'),
  })
  .refine((m) => m.alertname !== undefined || m.labels !== undefined, {
    message: 'match needs at least alertname or labels',
  });

/** Values may use {{incident.id}}, {{labels.NAME}}, {{annotations.NAME}}, each rendered for where it
 * lands (src/playbooks/render.ts): percent-encoded in URL paths and queries, JSON-escaped in bodies,
 * escaped in PromQL strings, refused in headers when it holds a line break. Header values may use
 * {{secret.NAME}}, which only the activity resolves (from MEDIC_SECRET_NAME), so secrets never
 * enter workflow history. The scheme://host[:port] of a URL is always literal. */
const HttpUrl = z
  .string()
  .superRefine((v, c) => {
    const problem = urlTemplateProblem(v);
    if (problem) c.addIssue({ code: 'custom', message: problem });
  })
  .describe('An http(s) URL; templates may appear in the path, query or fragment (values are percent-encoded), never in scheme://host[:port]');

const HttpBody = z
  .string()
  .superRefine((v, c) => {
    const problem = jsonBodyTemplateProblem(v);
    if (problem) c.addIssue({ code: 'custom', message: problem });
  });

export const HttpRequestSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  url: HttpUrl,
  headers: z.record(z.string(), z.string()).default({}),
  body: HttpBody.optional().describe(
    'Request body (sent as application/json). With templates it must be JSON with every {{…}} inside a JSON string; values are JSON-string-escaped there',
  ),
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200, 201, 202, 204]),
  hmac: z
    .strictObject({
      secret: z.string().regex(/^[A-Za-z0-9_]+$/, 'must be a secret name (letters, digits, _)').describe('Secret holding the key (MEDIC_SECRET_<NAME>)'),
      header: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name').default('x-signature'),
      timestampHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name').default('x-signature-timestamp'),
    })
    .optional()
    .describe(
      'Sign the request: header = hex HMAC-SHA256(secret, timestamp + "\\n" + METHOD + "\\n" + path?query + "\\n" + body), path?query exactly as sent (percent-encoded); the timestamp (unix seconds) goes in timestampHeader',
    ),
  dryRunHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a header name')
    .optional()
    .describe(
      'The target supports server-side dry run: in dry-run (mode: dry-run, medic simulate) the request is sent with this header set to "true" and the target answers what it would do without acting (it may add `medic-would-heal: true|false`)',
    ),
});
export type HttpRequest = z.infer<typeof HttpRequestSchema>;

export const HttpProbeSchema = z.strictObject({
  url: HttpUrl,
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).default([200]),
  bodyContains: z.string().optional(),
  timeout: Duration.default('5s').describe('Per-request timeout'),
});

const PromqlTemplate = PromqlTemplateSchema;

export const PromqlProbeSchema = z.strictObject({
  query: PromqlTemplate.describe(
      'PromQL giving 1 (healthy) or 0 per series, e.g. `demo_up` or `rate(errors[1m]) < bool 0.01`. Templates only inside quoted strings (e.g. job="{{labels.job}}"): values are escaped, and regex-escaped after =~ / !~',
    ),
  prometheusUrl: HttpUrl.refine((v) => !v.includes('{{'), { message: 'may not use templates' }).optional().describe('Default: MEDIC_PROMETHEUS_URL'),
  timeout: Duration.default('5s'),
  maxNoData: z.number().int().min(0).default(3).describe('Consecutive empty results tolerated (scrape gaps) before they count as failing'),
});

export const VerificationSchema = z
  .strictObject({
    http: HttpProbeSchema.optional(),
    promql: PromqlProbeSchema.optional(),
    kubernetes: KubernetesProbeSchema.optional(),
    window: Duration.default('30s').describe('Every configured probe must pass continuously this long'),
    interval: Duration.default('5s'),
    deadline: Duration.default('5m').describe('Give up (step failed) if not verified by then'),
  })
  .refine((v) => v.http !== undefined || v.promql !== undefined || v.kubernetes !== undefined, {
    message: 'verification needs http, promql or kubernetes (or several)',
  });
export type Verification = z.infer<typeof VerificationSchema>;

/** What the incident thread graphs. An alert's own expression (its generatorURL) is attacker
 * data: it is run only when listed here, verbatim. */
export const GraphSchema = z
  .strictObject({
    query: PromqlTemplate.optional().describe(
      "PromQL the incident thread graphs (templates as in verification queries); default: the first step's promql verification query",
    ),
    alertExpressions: z
      .array(z.string().min(1))
      .default([])
      .describe("Alert expressions (the generatorURL's g0.expr) that may be graphed as the alert sends them, e.g. `demo_up == 0`; any other expression an alert carries is never run"),
  })
  .describe('The incident graph in the Slack thread');
export type Graph = z.infer<typeof GraphSchema>;

const FlagName = z
  .string()
  .regex(/^(?:[A-Za-z0-9_.~-]|\{\{[^}]+\}\})+$/, 'must be letters, digits, _ . ~ - (or a {{template}})');

export const FlagParamsSchema = z.strictObject({
  provider: z.enum(['unleash']).describe('Flag server: Unleash (admin API)'),
  url: HttpUrl.describe('Unleash base URL (the API is under <url>/api), e.g. ${MEDIC_PB_UNLEASH_URL:-https://unleash.example.com}'),
  project: FlagName.default('default').describe('Unleash project'),
  environment: FlagName.describe('Environment to switch the flag in, e.g. production'),
  feature: FlagName.describe('Flag name'),
  enabled: z.boolean().describe('Target state: false turns the flag off (kill switch), true turns it on'),
  tokenSecret: z
    .string()
    .regex(/^[A-Za-z0-9_]+$/, 'must be a secret name (letters, digits, _)')
    .describe('Secret holding an Unleash admin or personal API token (MEDIC_SECRET_<NAME>); read only inside the activity'),
});
export type FlagParams = z.infer<typeof FlagParamsSchema>;

const stepCommon = {
  name: z.string().min(1),
  risk: z.enum(['low', 'medium', 'high']).default('low'),
  requiresApproval: z.boolean().default(false),
  approvers: z.array(z.string().min(1)).default([]).describe('Slack user ids, operator user names or @groups allowed to approve (default deny)'),
  fourEyes: z
    .boolean()
    .default(false)
    .describe('Two different approvers must approve (the first approval is partial), and never the person who requested the run (runbooks); a deny by any approver denies'),
  approvalTimeout: Duration.default('30m'),
  targets: z
    .array(z.string().min(1))
    .default([])
    .describe('What this step touches (templates); counted against limits.blastRadius'),
  verification: VerificationSchema.optional(),
  timeout: Duration.default('30s'),
  retries: z.number().int().min(0).max(20).default(3).describe('Activity retries of one try'),
  attempts: z
    .number()
    .int()
    .min(1)
    .max(5)
    .default(1)
    .describe('Tries of this step (each with a fresh idempotency key) before the next step'),
  dryRun: z.boolean().optional(),
  policy: PolicyGateSchema.optional(),
  when: z
    .string()
    .superRefine((v, c) => {
      const problem = whenProblem(v);
      if (problem) c.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe(
      'Run this step only when the evidence says so, e.g. `evidence.oomKilled`, `evidence.restarts >= 3`, `changed.image within 30m`, `not changed.any within 1h`, joined by `and`; otherwise it is skipped (the decision waits for the opening evidence, at most its read deadlines)',
    ),
};

/** An approver entry naming a Slack user group (@handle or S… id) rather than one person. */
const isGroup = (a: string): boolean => a.startsWith('@') || /^S[A-Z0-9]+$/.test(a);

// Later issues add kubernetes and flag actions as further members of the union.
export const StepSchema = z
  .discriminatedUnion('action', [
    z.strictObject({ ...stepCommon, action: z.literal('http'), params: HttpRequestSchema }).describe('An HTTP request'),
    z
      .strictObject({ ...stepCommon, action: z.literal('ssm-command'), params: SsmCommandParamsSchema })
      .describe('AWS SSM Run Command (SendCommand), polled to completion; output captured (truncated, redacted)'),
    z
      .strictObject({ ...stepCommon, action: z.literal('ssm-automation'), params: SsmAutomationParamsSchema })
      .describe('AWS SSM Automation runbook (StartAutomationExecution), polled to completion'),
    z
      .strictObject({ ...stepCommon, action: z.literal('kubernetes'), params: KubernetesParamsSchema })
      .describe('A Kubernetes action (restart, delete-pod, scale, rollback, cordon, drain, uncordon, rollout-pause, rollout-abort); idempotent via an annotation stamp, dry-run server-side'),
    z
      .strictObject({ ...stepCommon, action: z.literal('flag'), params: FlagParamsSchema })
      .describe('Turn a feature flag on or off in one environment (Unleash admin API); reads first, so a repeat changes nothing'),
    z
      .strictObject({ ...stepCommon, action: z.literal('ansible'), params: AnsibleParamsSchema })
      .describe(
        'Run an Ansible playbook from the configured ansible.playbookDir on allow-listed hosts (--limit); dry run = --check --diff; per-host results (ok, changed, failed, unreachable, already applied) in the timeline',
      ),
  ])
  .refine((s) => !s.requiresApproval || s.approvers.length > 0, {
    message: 'a step that requires approval must list approvers',
    path: ['approvers'],
  })
  .refine((s) => !(s.risk === 'high' && s.policy?.onError === 'allow'), {
    message: 'a high-risk step fails closed when OPA cannot answer: onError must be deny or approve',
    path: ['policy', 'onError'],
  })
  .refine((s) => !s.fourEyes || s.approvers.length === 0 || s.approvers.length >= 2 || s.approvers.some(isGroup), {
    message: 'four-eyes needs two different approvers: list at least two user ids or a @group',
    path: ['fourEyes'],
  });
export type Step = z.infer<typeof StepSchema>;

/** A rung's trigger: it fires this long after the previous rung (unless the incident was taken or
 * resolved meanwhile). */
const RungAfter = Duration.optional().describe('Fire this long after the previous rung (default: at once)');

export const EscalationRungSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('record'),
    to: z.string().min(1).describe('Who is responsible next (shown in the timeline)'),
    after: RungAfter,
  }),
  z.strictObject({ kind: z.literal('webhook'), request: HttpRequestSchema, after: RungAfter }),
  z
    .strictObject({
      kind: z.literal('slack-group'),
      group: z
        .string()
        .regex(/^(@[\w.-]+|S[A-Z0-9]+)$/, 'must be a Slack user group: @handle or its S… id')
        .describe('User group mentioned in the incident thread with a "Take it" button'),
      wait: Duration.default('15m').describe('How long to wait for a member to take it before the next rung'),
      after: RungAfter,
    })
    .describe('Ask a Slack user group to take the incident; whoever takes it owns it and the ladder stops there'),
  z
    .strictObject({
      kind: z.literal('pagerduty'),
      after: RungAfter,
      routingKeySecret: z
        .string()
        .regex(/^[A-Za-z0-9_]+$/, 'must be a secret name (letters, digits, _)')
        .describe('Secret holding the 32-character Events API v2 routing key (MEDIC_SECRET_<NAME>)'),
    })
    .describe('Page PagerDuty (Events API v2); dedup_key = incident id, resolved when the incident heals'),
]);
export type EscalationRung = z.infer<typeof EscalationRungSchema>;

const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24h)');
const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

export const MaintenanceWindowSchema = z.union([
  z.strictObject({
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
    reason: z.string().optional(),
  }),
  z.strictObject({
    days: z.array(Weekday).min(1),
    from: TimeOfDay,
    to: TimeOfDay,
    timeZone: z.string().default('UTC').describe('IANA time zone, e.g. Europe/Berlin'),
    reason: z.string().optional(),
  }),
]);
export type MaintenanceWindow = z.infer<typeof MaintenanceWindowSchema>;

export const LimitsSchema = z.strictObject({
  maxActionsPerHourPerTarget: z.number().int().min(1).default(6),
  maxActionsPerHourGlobal: z.number().int().min(1).default(60),
  maxConcurrentPerTarget: z.number().int().min(1).default(1),
  maxConcurrentGlobal: z.number().int().min(1).default(10),
  blastRadius: z.number().int().min(1).default(1).describe('Max targets one action may touch'),
  maxTargetsPerWindow: z
    .strictObject({
      targets: z.number().int().min(1).describe('Distinct targets'),
      window: Duration.refine((d) => !DURATION_PATTERN.test(d) || toMs(d) <= 86_400_000, { message: 'window must be at most 1d' }).describe('Sliding window (at most 1d)'),
    })
    .default({ targets: 50, window: '1h' })
    .describe(
      'Blast radius across incidents: at most this many distinct targets acted on by this playbook within the window (a flood of alerts, one per node, cordons at most `targets`); further incidents are blocked and escalate',
    ),
  maxHold: Duration.default('1h').describe('Escalate if gates hold a step longer than this'),
  demoteAfter: z
    .strictObject({
      failures: z.number().int().min(1).describe('Failed runs that demote the step'),
      of: z.number().int().min(1).max(50).describe('Among this many most recent runs of the step'),
    })
    .refine((d) => d.failures <= d.of, { message: 'failures must not exceed of', path: ['failures'] })
    .default({ failures: 3, of: 5 })
    .describe('A step that failed `failures` of its last `of` runs is auto-demoted to require approval until re-promoted'),
});
export type Limits = z.infer<typeof LimitsSchema>;

/** A target templated from alert data must be allow-listed (src/policy/targets.ts, and
 * src/playbooks/ssm.ts for SSM instances, src/playbooks/ansible.ts for Ansible hosts); runbooks
 * (src/runbooks/schema.ts) apply the same rule. */
export function allowRule(pb: Pick<z.infer<typeof PlaybookObjectSchema>, 'steps' | 'allow'>, ctx: z.RefinementCtx): void {
  for (const p of kubernetesAllowProblems(pb)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  requireSsmAllow(pb, ctx);
  requireAnsibleAllow(pb, ctx);
}

/** The playbook's fields without its cross-field rules (for schemas built from it, e.g. runbooks). */
export const PlaybookObjectSchema = z
  .strictObject({
  name: Name,
  description: z.string().default(''),
  runbookUrl: z.string().optional(),
  owners: z
    .array(z.string().min(1))
    .default([])
    .describe('The team owning this playbook (Slack user ids or @groups): only they (and medic admins) see its incidents in /medic status, /medic incidents and App Home. Empty: visible to everyone in the workspace'),
  match: MatchSchema,
  groupBy: z.array(z.string().min(1)).default(['alertname', 'service']),
  target: z.string().min(1).optional().describe('Template naming the target (default: groupBy values)'),
  allow: AllowSchema.default({}),
  graph: GraphSchema.optional(),
  cooldown: Duration.default('15m').describe('After a failed remediation, no automation on the target'),
  limits: LimitsSchema.default(LimitsSchema.parse({})),
  maintenanceWindows: z.array(MaintenanceWindowSchema).default([]),
  deploymentLabel: z
    .string()
    .default('deploying')
    .describe('An alert label/annotation with value "true" marks an active deployment'),
  dryRun: z.boolean().default(false),
  mode: z
    .enum(['dry-run', 'approve-all', 'auto'])
    .default('auto')
    .describe(
      'Rollout stage: dry-run = every step only reports what it would do (nothing changes, no approvals), then a human decides; approve-all = every step waits for approval (step approvers, else demotionApprovers); auto = steps run as written',
    ),
  holdAfterEscalation: Duration.default('4h').describe(
    'After escalating, keep the incident open (absorbing repeats) until resolved or this long',
  ),
  steps: z.array(StepSchema).min(1),
  demotionApprovers: z
    .array(z.string().min(1))
    .default([])
    .describe('Who may approve an auto-demoted step that lists no approvers (default: nobody, so it escalates)'),
  escalation: z.array(EscalationRungSchema).default([{ kind: 'record', to: 'on-call' }]),
  silence: SilenceSettingsSchema.optional(),
  scope: ScopeSettingsSchema.optional(),
  verbosity: VerbositySchema.optional().describe('Slack thread verbosity for this playbook (default: the channel\'s, config slack.verbosity)'),
  evidence: EvidenceConfigSchema.optional(),
  });
export const PlaybookSchema = PlaybookObjectSchema.superRefine(allowRule);
export type Playbook = z.infer<typeof PlaybookSchema>;
export type PlaybookInput = z.input<typeof PlaybookSchema>;
