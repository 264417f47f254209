// medic's configuration: one zod schema, read from environment variables and an optional YAML
// file (MEDIC_CONFIG), parsed once at start. An invalid config fails with every problem listed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { VerbositySchema } from './playbooks/thread.js';
import { TASK_QUEUE } from '../workflows/contracts.js';
import { DetectorSchema } from './detect/schema.js';
import { CorrelationSchema } from './intake/correlate.js';
import { IntakeLimitsSchema } from './intake/limits.js';
import { BusSchema } from './intake/bus/config.js';
import { DrillsConfigSchema } from './drills/schema.js';
import { StoreSchema } from './store/config.js';
import { SloSchema } from './report/slo.js';
import { DigestSchema } from './digest/config.js';
import { checkTemporalAuth, TemporalAuthShape } from './temporal/tls-config.js';
import { DURATION_PATTERN } from './playbooks/duration.js';

const Token = z.string().min(16, 'tokens must be at least 16 characters');

/** What an operator token may do. admin includes the other two; read and operate are separate. */
export const SCOPES = ['read', 'operate', 'admin'] as const;
export const ScopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof ScopeSchema>;

const sha256Hex = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const OperatorSchema = z
  .strictObject({
    user: z.string().min(1).describe('The identity recorded in approvals and the audit log'),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the hex SHA-256 of the token (64 hex characters; `medic token` prints it)')
      .optional()
      .describe('Hex SHA-256 of the API token the CLI sends as a bearer token (`medic token` makes a token and prints this); preferred over token'),
    token: Token.optional().describe('The API token in plain text: still accepted, but medic warns at start; use tokenSha256'),
    scopes: z
      .array(ScopeSchema)
      .min(1)
      .optional()
      .describe('read: status, incidents, timelines, postmortems; operate: approve, deny, take, resolve, drills; admin: pause/resume, deployment markers, promote, drill schedules, and everything else. Default: read and operate (plus admin with admin: true)'),
    admin: z.boolean().default(false).describe('Older form of scopes: adds admin'),
    expires: z
      .preprocess((v) => (v instanceof Date ? v.toISOString() : v), z.union([z.iso.date(), z.iso.datetime({ offset: true })]))
      .optional()
      .describe('ISO date (UTC midnight) or date-time from which the token is refused with 401 "token expired on …"'),
    groups: z
      .array(z.string().min(1))
      .default([])
      .describe('Slack user groups (@handle) this operator counts as a member of in the API, for approver lists and escalation groups (Slack checks membership itself; the API trusts this list)'),
  })
  .refine((o) => (o.token === undefined) !== (o.tokenSha256 === undefined), { message: 'set exactly one of tokenSha256 (preferred) or token', path: ['tokenSha256'] })
  // Only the digest is kept: the plain token never travels further than this parse.
  .transform(({ token, tokenSha256, admin, scopes, expires, ...rest }) => ({
    ...rest,
    tokenSha256: tokenSha256?.toLowerCase() ?? sha256Hex(token ?? ''),
    plaintext: token !== undefined,
    // admin includes the others: listed in full so what a token may do reads plainly.
    scopes: admin || scopes?.includes('admin') ? [...SCOPES] : [...new Set<Scope>(scopes ?? ['read', 'operate'])],
    ...(expires ? { expires: new Date(expires).toISOString() } : {}),
  }));
export type Operator = z.infer<typeof OperatorSchema>;

export const MetricsSchema = z
  .strictObject({
    listener: z
      .enum(['separate', 'public'])
      .default('separate')
      .describe('separate: /metrics only on its own listener (metrics.host:metrics.port), never on the public one; public: on the main HTTP listener, behind metrics.token'),
    host: z.string().default('127.0.0.1').describe('Address of the metrics listener (0.0.0.0 in a pod, so Prometheus can reach it)'),
    port: z.coerce.number().int().min(0).max(65535).default(9464).describe('Port of the metrics listener'),
    token: Token.optional().describe('Bearer token Prometheus sends (authorization.credentials); required with listener: public, optional on the separate listener'),
  })
  .refine((m) => m.listener !== 'public' || m.token !== undefined, { message: 'listener: public needs metrics.token (MEDIC_METRICS_TOKEN)', path: ['token'] })
  .prefault({})
  .describe('Where /metrics is served (medic server only)');

/** Where ansible steps find their playbooks, inventory and ansible-playbook (activities/ansible.ts). */
const AnsibleConfigSchema = z.strictObject({
  playbookDir: z.string().min(1).describe('Directory holding the playbooks ansible steps may run (a step names a file relative to it, e.g. the shipped ansible/)'),
  inventory: z.string().min(1).describe('Inventory file or directory (-i); a step can only reach hosts listed here and allow-listed by its playbook'),
  ansiblePlaybook: z
    .string()
    .min(1)
    .default('ansible-playbook')
    .describe('The ansible-playbook to run (ansible-core with the ansible.posix collection, whose JSON callback medic reads); ansible-inventory is taken from the same directory'),
});

export const ConfigSchema = z.strictObject({
  mode: z.enum(['production', 'demo']).default('production').describe('demo loads the local stand-ins (npm start); never set it in production'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('pino log level'),
  http: z
    .strictObject({
      host: z.string().default('0.0.0.0').describe('Address the HTTP server listens on'),
      port: z.coerce.number().int().min(0).max(65535).default(8080).describe('HTTP port (webhooks, operator API, /healthz, /readyz; /metrics only with metrics.listener: public)'),
      bodyLimitBytes: z.coerce.number().int().min(1024).default(1_048_576).describe('Larger request bodies get 413'),
    })
    .prefault({})
    .describe('The HTTP server (medic server only)'),
  metrics: MetricsSchema,
  temporal: z
    .strictObject({
      address: z.string().default('localhost:7233').describe('Temporal frontend host:port'),
      ...TemporalAuthShape,
      workflowBundle: z.string().optional().describe('A pre-built workflow bundle (npm run bundle); without it the worker bundles from source'),
      namespace: z.string().default('default').describe('Temporal namespace'),
      connectTimeout: z
        .string()
        .regex(DURATION_PATTERN, 'must be a duration like 500ms, 30s, 5m, 1h or 2d')
        .optional()
        .describe("How long a client keeps trying to reach the frontend before it fails naming why (a refused TLS handshake fails only at this deadline); default the SDK's 10s"),
      taskQueue: z.string().default(TASK_QUEUE).describe('Task queue of the incident workflows (the governor uses medic-governor/<queue>); every worker of one deployment uses the same'),
      versioning: z
        .enum(['off', 'pinned', 'auto-upgrade'])
        .default('off')
        .describe(
          "Worker versioning (Temporal Worker Deployments). pinned: each incident runs to its end on workers of the build that started it (build id = medic's version + a hash of the workflow bundle), and a starting worker makes its build the deployment's current version, so new incidents go to the newest build while older ones drain on theirs (keep the previous build's workers until they have). auto-upgrade: running incidents move to the current build at their next task (workflow changes must be patched). off: unversioned workers, every worker takes every task (one build at a time). The governor always moves with the current build",
        ),
      deploymentName: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
        .default('medic')
        .describe('Worker Deployment name when versioning is on: one per medic installation on a namespace, the same on every worker of it'),
      uiUrl: z.string().default('http://localhost:8233').describe('Temporal UI base URL, for links in Slack, PagerDuty and the CLI'),
      maxCachedWorkflows: z.coerce
        .number()
        .int()
        .min(0)
        .default(250)
        .describe('Workflow runs each worker keeps in its sticky cache between tasks (evicted ones replay their history on their next task). About 1.4 MiB each: 250 keeps a worker with 2,000 open incidents under 1 GiB (npm run bench:capacity)'),
      stickyTimeoutMs: z.coerce
        .number()
        .int()
        .min(500)
        .default(5_000)
        .describe('Sticky queue schedule-to-start timeout (ms): how long a task waits for the worker that cached its workflow before any worker takes it. After a worker crash, the governor and its incidents stall this long; the SDK default is 10 s'),
      maxConcurrentLocalActivities: z.coerce
        .number()
        .int()
        .min(1)
        .default(8)
        .describe('Governor calls (local activities running Updates) in flight at once per worker. Unbounded, hundreds of incidents opening together flood the governor, whose tasks then time out in the worker: throughput collapses (npm run bench:capacity)'),
    })
    .superRefine(checkTemporalAuth)
    .prefault({})
    .describe('Temporal connection'),
  worker: z
    .strictObject({
      healthPort: z.coerce
        .number()
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe('Serve /healthz (process up) and /readyz (both Temporal workers running) on this port (container probes); absent: no health server'),
    })
    .prefault({})
    .describe('The medic worker process'),
  // Optional here because only the HTTP server needs it; the server refuses to start without it.
  intake: z
    .strictObject({
      alertmanagerToken: Token.describe('Bearer token Alertmanager sends (http_config.authorization)'),
      hmacSecret: Token.optional().describe('Accept HMAC-signed webhooks (generic, Grafana) signed with this'),
      limits: IntakeLimitsSchema.prefault({}),
    })
    .optional()
    .describe('Alert intake authentication and limits (medic server only; the server refuses to start without it)'),
  prometheus: z
    .strictObject({ url: z.url({ protocol: /^https?$/ }).describe('Prometheus for PromQL verification and detectors') })
    .optional()
    .describe('Prometheus (PromQL verification, detectors, incident graphs)'),
  opa: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).optional().describe('An OPA server (REST Data API) the policy gate asks, e.g. http://opa:8181'),
      bundle: z.string().min(1).optional().describe('A policy bundle built with `opa build -t wasm -e <path>…` (bundle.tar.gz), evaluated in process when no server is wanted'),
    })
    .refine((o) => o.url !== undefined || o.bundle !== undefined, { message: 'opa needs url or bundle (or both)' })
    .optional()
    .describe('Open Policy Agent for steps with a `policy` gate. Absent: such steps get no answer, and their onError rule decides'),
  alertmanager: z
    .strictObject({ url: z.url({ protocol: /^https?$/ }).describe('Alertmanager base URL (API v2): medic silences the alerts of incidents whose playbook has `silence`, and the Snooze button silences them for a chosen time') })
    .optional()
    .describe('Alertmanager (silences tied to incidents)'),
  bus: BusSchema.optional(),
  logs: z
    .strictObject({
      provider: z.enum(['victorialogs']).default('victorialogs'),
      url: z.url({ protocol: /^https?$/ }).describe('Base URL of the log store (LogsQL API under /select/logsql/query)'),
    })
    .optional()
    .describe("Where the evidence pack reads a target's last log lines; default: the Kubernetes pod log API when kubernetes is configured"),
  correlation: CorrelationSchema.optional().describe('Alert correlation window and service dependency map (YAML config file only)'),
  detectors: z.array(DetectorSchema).default([]).describe('Built-in detectors evaluated against prometheus.url (YAML config file only)'),
  operators: z.array(OperatorSchema).default([]).describe('API users of the CLI and operator API'),
  playbooks: z.array(z.string().min(1)).default(['playbooks']).describe('Playbook files or directories of YAML'),
  playbookEnv: z
    .array(
      z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
        .refine((n) => !n.startsWith('MEDIC_') || n.startsWith('MEDIC_PB_'), { message: "medic's own settings and secrets (MEDIC_*) may not be exposed to playbooks" }),
    )
    .default([])
    .describe('Environment variables playbooks and runbooks may read with ${VAR} besides MEDIC_PB_* (e.g. TRAFFIC_API_URL); any other ${VAR} fails validation'),
  runbooks: z.array(z.string().min(1)).default(['runbooks']).describe('Runbooks `/medic run` may start (files or directories of YAML)'),
  identityKey: z
    .string()
    .min(32, 'the identity key must be at least 32 characters')
    .optional()
    .describe('Signs who decided, took or resolved an incident (HMAC): the server signs, the worker checks; the same on both, kept secret. Required in production (or identityKeyFile); demo mode makes one per process'),
  identityKeyFile: z.string().min(1).optional().describe('A file holding the identity key (e.g. a mounted Kubernetes Secret); used when identityKey is unset'),
  secrets: z.record(z.string(), z.string()).default({}).describe('Values for {{secret.NAME}} in playbooks; from MEDIC_SECRET_<NAME> env vars, resolved only inside activities'),
  drills: DrillsConfigSchema.optional().describe('Chaos drills: scenario files, and the targets drills may break (each marked drillable: true); YAML config file only. Absent: no drills'),
  store: StoreSchema.optional().describe('The incident store (SQLite or PostgreSQL): incidents, steps, outcomes, timings; feeds /metrics, reports, postmortems'),
  slos: z.array(SloSchema).default([]).describe('SLOs whose compliance `medic report` and the digest show, evaluated against prometheus.url (YAML config file only)'),
  digest: DigestSchema.optional().describe('Weekly digest to Slack (a Temporal Schedule the worker creates or updates at start); needs slack and store'),
  audit: z
    .strictObject({
      path: z.string().min(1).describe('SQLite file, e.g. /var/lib/medic/audit.db'),
      keyFile: z
        .string()
        .min(1)
        .optional()
        .describe('File holding the audit key (at least 32 characters, e.g. `openssl rand -hex 32`), kept outside the database: entries are HMAC-chained and checkpoints signed with keys derived from it. Required in production mode (or `key`); demo mode generates one beside the log'),
      key: z.string().min(32, 'the audit key must be at least 32 characters').optional().describe('The audit key itself (prefer keyFile). Never logged'),
      checkpoints: z
        .strictObject({
          file: z.string().min(1).optional().describe('Append signed checkpoints as JSON lines to this file; keep it on another volume than the log'),
          webhookUrl: z.url({ protocol: /^https?$/ }).optional().describe('POST each signed checkpoint (JSON) to this URL'),
          slackChannel: z.string().min(1).optional().describe('Post each signed checkpoint to this Slack channel (needs the slack section)'),
          everyEntries: z.coerce.number().int().min(1).default(100).describe('A checkpoint after this many new entries'),
          intervalSeconds: z.coerce.number().int().min(1).default(300).describe('And every this many seconds while the log grows (also at start and on shutdown)'),
        })
        .prefault({})
        .describe('Signed checkpoints of the log exported outside the database, so `medic audit verify --checkpoint` detects a rewritten or truncated log (the worker writes them)'),
    })
    .refine((a) => !(a.key !== undefined && a.keyFile !== undefined), { message: 'set key or keyFile, not both', path: ['key'] })
    .optional()
    .describe('The tamper-evident audit log (SQLite, HMAC-chained, with signed checkpoints). Absent: nothing is audited'),
  tracing: z
    .strictObject({
      otlpEndpoint: z.url({ protocol: /^https?$/ }).describe('OTLP/HTTP base URL of a collector, e.g. http://otel-collector:4318 (spans go to <url>/v1/traces)'),
      serviceName: z.string().min(1).default('medic').describe('service.name resource attribute (the process role is appended: medic-server, medic-worker)'),
    })
    .optional()
    .describe('OpenTelemetry tracing: one trace per incident, from webhook to resolution. Absent: no tracing'),
  /** PagerDuty Events API v2 (routing keys are secrets named by each playbook's `pagerduty` rung). */
  pagerduty: z
    .strictObject({
      server: z
        .string()
        .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be host[:port] (pdjs always uses https)')
        .default('events.pagerduty.com')
        .describe('Events API host; a private CA is trusted through NODE_EXTRA_CA_CERTS'),
    })
    .optional()
    .describe('PagerDuty Events API v2 (routing keys are secrets named by each playbook\'s pagerduty rung)'),
  kubernetes: z
    .strictObject({
      kubeconfig: z.string().min(1).optional().describe("kubeconfig file whose current context medic uses (default: $KUBECONFIG or ~/.kube/config, unless inCluster)"),
      inCluster: z
        .preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()) // env: "true"/"false"
        .default(false)
        .describe("Use the pod's ServiceAccount (in-cluster config); bind it with deploy/kubernetes/rbac.yaml"),
      namespace: z.string().min(1).optional().describe("Namespace for kubernetes steps that name none (default: the context's, else default)"),
      argocdNamespace: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
        .default('argocd')
        .describe('Where Argo CD keeps its Applications: a tracking id or app.kubernetes.io/instance label without a namespace names an Application here (gitops option of kubernetes steps)'),
    })
    .refine((k) => !(k.inCluster && k.kubeconfig), { message: 'set kubeconfig or inCluster, not both', path: ['inCluster'] })
    .optional()
    .describe('Kubernetes actions (kubernetes steps and probes). Absent: such steps fail with "not configured"'),
  ansible: AnsibleConfigSchema.optional().describe('Ansible steps (action: ansible). Absent: such steps fail with "not configured"'),
  /** AWS (SSM actions): region and credentials come from the standard AWS chain (AWS_REGION,
   * AWS_PROFILE, instance/task roles, …); the endpoint is overridden only for tests (moto). */
  aws: z
    .strictObject({ endpoint: z.url({ protocol: /^https?$/ }).optional().describe('SSM and EC2 endpoint override (EC2 is read for instance tags), e.g. http://127.0.0.1:5000 (moto)') })
    .optional()
    .describe('AWS SSM actions; region and credentials come from the standard AWS chain (AWS_REGION, AWS_PROFILE, instance/task roles)'),
  /** Absent: medic runs without Slack (no threads, no buttons; the CLI still approves). */
  slack: z
    .strictObject({
      botToken: z.string().min(1).describe('Bot token (xoxb-…) from the app installed with slack-manifest.yml'),
      signingSecret: z.string().min(16).describe('Signing secret: requests to /slack/events must carry its signature'),
      channel: z.string().min(1).describe('Channel id (C…) that incident root messages go to; a #name works too, but then a publish retried after a crash cannot find the root message it already posted'),
      apiUrl: z.url().optional().describe('Web API base URL; only for the local stand-in (tests, demo)'),
      appToken: z.string().regex(/^xapp-/, 'must be an app-level token (xapp-…)').optional().describe('Socket Mode: connect out to Slack instead of receiving on /slack/events'),
      admins: z.array(z.string().min(1)).default([]).describe('Slack user ids or @group handles allowed to pause/resume'),
      verbosity: VerbositySchema.default('full').describe("The incidents channel's thread verbosity (a playbook's `verbosity` overrides it): full, summary or quiet"),
    })
    .optional()
    .describe('Slack app; absent: no threads or buttons (the CLI still approves)'),
}).superRefine((c, ctx) => {
  // The audit chain is only as strong as its key: production logs are never written unkeyed.
  if (c.mode === 'production' && c.audit && c.audit.key === undefined && c.audit.keyFile === undefined) {
    ctx.addIssue({ code: 'custom', path: ['audit', 'keyFile'], message: 'required in production mode when audit.path is set (MEDIC_AUDIT_KEY_FILE, or MEDIC_AUDIT_KEY): the key that HMAC-chains the log and signs its checkpoints' });
  }
});
export type Config = z.infer<typeof ConfigSchema>;

/** The HTTP server's extra requirement over the shared schema. */
export function intakeTokenOf(config: Config): string {
  if (!config.intake) throw new ConfigError(['intake.alertmanagerToken: required by the server (set MEDIC_INTAKE_TOKEN)']);
  return config.intake.alertmanagerToken;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid medic configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Record<string, string | undefined>;

/** A fragment that only continues the previous entry's scopes (or its expiry): "read" or "read:2027-01-01". */
const CONTINUES = /^(read|operate|admin)(?::\d{4}-\d{2}-\d{2}\S*)?$/;
const ENTRY = /^([^:]+):([^:]+)(?::([a-z,]+))?(?::(\d{4}-\d{2}-\d{2}\S*))?$/;

/**
 * MEDIC_OPERATORS: comma-separated `user:secret[:scopes][:expires]`, where secret is
 * `sha256=<hex>` (preferred) or the plain token, scopes a comma list (read, operate, admin) and
 * expires an ISO date, e.g. `alice:sha256=9f…:operate,read:2027-01-01,bob:sha256=4c…:read`. The
 * older `user:token[:admin]` still works (default scopes read, operate; admin adds admin).
 */
export function operatorsFromEnv(value: string): unknown[] {
  const entries: string[] = [];
  for (const fragment of value.split(',').map((f) => f.trim()).filter(Boolean)) {
    if (CONTINUES.test(fragment) && entries.length > 0) entries[entries.length - 1] += `,${fragment}`;
    else entries.push(fragment);
  }
  return entries.map((entry, i) => {
    const m = ENTRY.exec(entry);
    // Never echo the entry: it holds a token.
    if (!m) throw new ConfigError([`MEDIC_OPERATORS: entry ${i + 1} (user "${entry.split(':')[0]}"): expected user:sha256=<hex>[:scopes][:expires] or user:token[:admin]`]);
    const [, user, secret, scopes, expires] = m as unknown as [string, string, string, string | undefined, string | undefined];
    const words = scopes?.split(',').filter(Boolean) ?? [];
    return {
      user,
      ...(secret.startsWith('sha256=') ? { tokenSha256: secret.slice('sha256='.length) } : { token: secret }),
      ...(words.length > 0 ? { scopes: words } : {}),
      ...(expires ? { expires } : {}),
    };
  });
}

/** Environment variables that set one config value, by its dotted path (docs/configuration.md is generated from this). */
const ENV_DOTTED = {
  MEDIC_MODE: 'mode',
  MEDIC_LOG_LEVEL: 'logLevel',
  MEDIC_HTTP_HOST: 'http.host',
  MEDIC_HTTP_PORT: 'http.port',
  MEDIC_HTTP_BODY_LIMIT: 'http.bodyLimitBytes',
  MEDIC_METRICS_LISTENER: 'metrics.listener',
  MEDIC_METRICS_HOST: 'metrics.host',
  MEDIC_METRICS_PORT: 'metrics.port',
  MEDIC_METRICS_TOKEN: 'metrics.token',
  MEDIC_TEMPORAL_ADDRESS: 'temporal.address',
  MEDIC_TEMPORAL_TLS: 'temporal.tls.enabled',
  MEDIC_TEMPORAL_TLS_CA_FILE: 'temporal.tls.caFile',
  MEDIC_TEMPORAL_TLS_CERT_FILE: 'temporal.tls.certFile',
  MEDIC_TEMPORAL_TLS_KEY_FILE: 'temporal.tls.keyFile',
  MEDIC_TEMPORAL_TLS_SERVER_NAME: 'temporal.tls.serverName',
  MEDIC_TEMPORAL_API_KEY: 'temporal.apiKey',
  MEDIC_TEMPORAL_API_KEY_FILE: 'temporal.apiKeyFile',
  MEDIC_TEMPORAL_NAMESPACE: 'temporal.namespace',
  MEDIC_TEMPORAL_TASK_QUEUE: 'temporal.taskQueue',
  MEDIC_TEMPORAL_VERSIONING: 'temporal.versioning',
  MEDIC_TEMPORAL_DEPLOYMENT_NAME: 'temporal.deploymentName',
  MEDIC_TEMPORAL_UI_URL: 'temporal.uiUrl',
  MEDIC_WORKFLOW_BUNDLE: 'temporal.workflowBundle',
  MEDIC_TEMPORAL_MAX_CACHED_WORKFLOWS: 'temporal.maxCachedWorkflows',
  MEDIC_TEMPORAL_STICKY_TIMEOUT_MS: 'temporal.stickyTimeoutMs',
  MEDIC_TEMPORAL_MAX_LOCAL_ACTIVITIES: 'temporal.maxConcurrentLocalActivities',
  MEDIC_WORKER_HEALTH_PORT: 'worker.healthPort',
  MEDIC_INTAKE_TOKEN: 'intake.alertmanagerToken',
  MEDIC_INTAKE_HMAC_SECRET: 'intake.hmacSecret',
  MEDIC_INTAKE_REQUESTS_PER_SECOND: 'intake.limits.requestsPerSecond',
  MEDIC_INTAKE_BURST: 'intake.limits.burst',
  MEDIC_INTAKE_MAX_OPEN_INCIDENTS_PER_PLAYBOOK: 'intake.limits.maxOpenIncidentsPerPlaybook',
  MEDIC_NATS_SERVERS: 'bus.nats.servers',
  MEDIC_NATS_EVENTS_SUBJECT: 'bus.nats.eventsSubject',
  MEDIC_KAFKA_BROKERS: 'bus.kafka.brokers',
  MEDIC_KAFKA_EVENTS_TOPIC: 'bus.kafka.eventsTopic',
  MEDIC_BUS_MAX_IN_FLIGHT: 'bus.maxInFlight',
  MEDIC_PROMETHEUS_URL: 'prometheus.url',
  MEDIC_LOGS_URL: 'logs.url',
  MEDIC_OPA_URL: 'opa.url',
  MEDIC_OPA_BUNDLE: 'opa.bundle',
  MEDIC_ALERTMANAGER_URL: 'alertmanager.url',
  MEDIC_PAGERDUTY_SERVER: 'pagerduty.server',
  MEDIC_AUDIT_PATH: 'audit.path',
  MEDIC_AUDIT_KEY_FILE: 'audit.keyFile',
  MEDIC_AUDIT_KEY: 'audit.key',
  MEDIC_AUDIT_CHECKPOINT_FILE: 'audit.checkpoints.file',
  MEDIC_AUDIT_CHECKPOINT_URL: 'audit.checkpoints.webhookUrl',
  MEDIC_AUDIT_CHECKPOINT_SLACK_CHANNEL: 'audit.checkpoints.slackChannel',
  MEDIC_AUDIT_CHECKPOINT_EVERY: 'audit.checkpoints.everyEntries',
  MEDIC_AUDIT_CHECKPOINT_INTERVAL: 'audit.checkpoints.intervalSeconds',
  MEDIC_STORE_PATH: 'store.path',
  MEDIC_STORE_URL: 'store.url',
  MEDIC_STORE_KIND: 'store.kind',
  MEDIC_AWS_ENDPOINT: 'aws.endpoint',
  MEDIC_ANSIBLE_PLAYBOOK_DIR: 'ansible.playbookDir',
  MEDIC_ANSIBLE_INVENTORY: 'ansible.inventory',
  MEDIC_ANSIBLE_PLAYBOOK_BIN: 'ansible.ansiblePlaybook',
  MEDIC_KUBECONFIG: 'kubernetes.kubeconfig',
  MEDIC_KUBERNETES_IN_CLUSTER: 'kubernetes.inCluster',
  MEDIC_KUBERNETES_NAMESPACE: 'kubernetes.namespace',
  MEDIC_ARGOCD_NAMESPACE: 'kubernetes.argocdNamespace',
  MEDIC_SLACK_BOT_TOKEN: 'slack.botToken',
  MEDIC_SLACK_SIGNING_SECRET: 'slack.signingSecret',
  MEDIC_SLACK_CHANNEL: 'slack.channel',
  MEDIC_SLACK_API_URL: 'slack.apiUrl',
  MEDIC_SLACK_APP_TOKEN: 'slack.appToken',
  MEDIC_IDENTITY_KEY: 'identityKey',
  MEDIC_IDENTITY_KEY_FILE: 'identityKeyFile',
  MEDIC_OTLP_ENDPOINT: 'tracing.otlpEndpoint',
  MEDIC_OTEL_SERVICE_NAME: 'tracing.serviceName',
};
/** The same, each path split into its keys. */
export const ENV_PATHS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(ENV_DOTTED).map(([name, path]) => [name, path.split('.')]),
);

/** Environment variables with a list syntax of their own (see fromEnv). */
export const ENV_LISTS: Readonly<Record<string, { path: readonly string[]; format: string }>> = {
  MEDIC_OPERATORS: { path: ['operators'], format: '`user:sha256=<hex>[:scopes][:expires],…` e.g. `alice:sha256=9f…:operate,read:2027-01-01` (older `user:token[:admin]` still works)' },
  MEDIC_PLAYBOOKS: { path: ['playbooks'], format: 'comma-separated paths' },
  MEDIC_RUNBOOKS: { path: ['runbooks'], format: 'comma-separated paths' },
  MEDIC_PLAYBOOK_ENV: { path: ['playbookEnv'], format: 'comma-separated variable names' },
  MEDIC_SLACK_ADMINS: { path: ['slack', 'admins'], format: 'comma-separated user ids or @groups' },
  'MEDIC_SECRET_<NAME>': { path: ['secrets'], format: 'one variable per secret NAME' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { path: ['tracing', 'otlpEndpoint'], format: 'the standard OpenTelemetry variable, when MEDIC_OTLP_ENDPOINT is unset' },
};

function fromEnv(env: Env): Record<string, unknown> {
  const out: Record<string, Record<string, unknown> | unknown> = {};
  const set = (path: string[], value: unknown): void => {
    let node = out as Record<string, unknown>;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
  };
  for (const [name, path] of Object.entries(ENV_PATHS)) if (env[name] !== undefined) set([...path], env[name]);
  // The standard OpenTelemetry variables, unless medic's own are set.
  if (env.MEDIC_OTLP_ENDPOINT === undefined && env.OTEL_EXPORTER_OTLP_ENDPOINT) set(['tracing', 'otlpEndpoint'], env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (env.MEDIC_OTEL_SERVICE_NAME === undefined && env.OTEL_SERVICE_NAME && (env.MEDIC_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT)) set(['tracing', 'serviceName'], env.OTEL_SERVICE_NAME);
  if (env.MEDIC_OPERATORS) set(['operators'], operatorsFromEnv(env.MEDIC_OPERATORS));
  if (env.MEDIC_PLAYBOOKS) set(['playbooks'], env.MEDIC_PLAYBOOKS.split(','));
  if (env.MEDIC_RUNBOOKS) set(['runbooks'], env.MEDIC_RUNBOOKS.split(','));
  if (env.MEDIC_PLAYBOOK_ENV) set(['playbookEnv'], env.MEDIC_PLAYBOOK_ENV.split(',').map((n) => n.trim()).filter(Boolean));
  if (env.MEDIC_SLACK_ADMINS) set(['slack', 'admins'], env.MEDIC_SLACK_ADMINS.split(',').map((a) => a.trim()).filter(Boolean));
  const secrets = Object.entries(env).filter(([k, v]) => k.startsWith('MEDIC_SECRET_') && v !== undefined);
  if (secrets.length > 0) set(['secrets'], Object.fromEntries(secrets.map(([k, v]) => [k.slice('MEDIC_SECRET_'.length), v])));
  return out;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Environment variables win over the YAML file. */
export function loadConfig(env: Env = process.env): Config {
  let file: Record<string, unknown> = {};
  if (env.MEDIC_CONFIG) {
    try {
      file = (parseYaml(readFileSync(env.MEDIC_CONFIG, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError([`${env.MEDIC_CONFIG}: ${(err as Error).message}`]);
    }
  }
  const parsed = ConfigSchema.safeParse(merge(file, fromEnv(env)));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return parsed.data;
}
