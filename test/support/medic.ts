// A whole medic on real parts for integration tests: Temporal dev server, worker, HTTP server
// (real Fastify on a port), and the demo service as the system being healed.
import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import type { Logger } from 'pino';
import type { MedicWorker } from '../../src/temporal/worker.js';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../dev/pagerduty/stand-in.js';
import type { KubernetesDeps } from '../../activities/kubernetes.js';
import type { OpaDeps } from '../../activities/opa.js';
import type { AnsibleDeps } from '../../activities/ansible.js';
import type { IncidentSink } from '../../src/sinks/sink.js';
import type { AuditLog } from '../../src/audit/log.js';
import type { IncidentStore } from '../../src/store/store.js';
import { createStoreSink } from '../../activities/store.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema, type Config } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { expect } from 'vitest';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';
import { runbookPlaybook, type Runbook } from '../../src/runbooks/schema.js';
import { buildServer } from '../../src/server/app.js';
import { queryChecked, statusQuery, timelineQuery, type IncidentStatus, type TimelineEntry } from '../../workflows/contracts.js';
import { knownPlaybooks, silentLog } from './fixtures.js';
import { TEST_IDENTITY_KEY_TEXT } from './identity.js';
import { devServerEnv, medicWorker, uniqueQueue } from './temporal.js';
import { present } from '../../src/present.js';
import { groupOf } from '../../workflows/contracts-timeline.js';

export const TOKENS = {
  intake: 'intake-token-0123456789',
  alice: 'alice-token-0123456789ab',
  bob: 'bob-token-0123456789abcd',
  admin: 'admin-token-0123456789ab',
  /** read scope only */
  reader: 'reader-token-0123456789ab',
  /** operate + read, member (per config) of @oncall */
  oncall: 'oncall-token-0123456789ab',
  /** expired on 2020-01-01 */
  expired: 'expired-token-0123456789a',
} as const;

const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
/** alice's token is configured in plain text (the older form: medic warns at start); the rest as SHA-256. */
export const OPERATORS = [
  { user: 'alice', token: TOKENS.alice },
  { user: 'bob', tokenSha256: sha(TOKENS.bob) },
  { user: 'root', tokenSha256: sha(TOKENS.admin), scopes: ['admin'] },
  { user: 'rita', tokenSha256: sha(TOKENS.reader), scopes: ['read'] },
  { user: 'olga', tokenSha256: sha(TOKENS.oncall), scopes: ['read', 'operate'], groups: ['@oncall'] },
  { user: 'eddie', tokenSha256: sha(TOKENS.expired), scopes: ['read', 'operate'], expires: '2020-01-01' },
];

export interface Medic {
  env: TestWorkflowEnvironment;
  demo: DemoService;
  worker: MedicWorker;
  server: FastifyInstance;
  url: string;
  config: Config;
  playbooks: Playbook[];
  /** The PagerDuty Events API stand-in, with startMedic({ pagerduty: true }) (routing key secret PD_ROUTING_KEY). */
  pd?: PagerDutyStandIn;
  stop(): Promise<void>;
  postAlerts(status: 'firing' | 'resolved', labels: Record<string, string>, token?: string): Promise<Response>;
  api(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  status(workflowId: string): Promise<IncidentStatus>;
  timeline(workflowId: string): Promise<TimelineEntry[]>;
  waitFor(workflowId: string, done: (s: IncidentStatus) => boolean, timeoutMs?: number): Promise<IncidentStatus>;
}

export async function startMedic(
  opts: {
    bodyLimitBytes?: number;
    hmacSecret?: string;
    correlation?: Record<string, unknown>;
    awsEndpoint?: string;
    secrets?: Record<string, string>;
    kubernetes?: KubernetesDeps;
    /** ansible-playbook, playbooks and inventory for ansible steps (test/support/ansible.ts). */
    ansible?: AnsibleDeps;
    /** Incident sinks for the worker (e.g. the audit sink) and the audit log the server writes. */
    sinks?: IncidentSink[];
    audit?: AuditLog;
    /** Runbooks the operator API may start (POST /api/runbooks/:name/run). */
    runbooks?: Runbook[];
    /** Start the PagerDuty stand-in and let the worker page it. */
    pagerduty?: boolean;
    /** The server's logger (default: silent), e.g. to capture what it logs. */
    log?: Logger;
    /** The worker's Alertmanager (silences tied to incidents). */
    alertmanagerUrl?: string;
    /** An incident store: the worker records into it and reads similar past incidents from it. */
    store?: IncidentStore;
    /** config intake.limits (rate, request size, open incidents per playbook). */
    intakeLimits?: Record<string, unknown>;
    /** The OPA policy gate's backends (activities/opa.ts), e.g. a server from test/support/opa.ts. */
    opa?: OpaDeps;
    /** The server's playbooks from the start, built on the demo service's URL. */
    playbooks?: (demoUrl: string) => Playbook[];
    /** The Temporal environment (default: a dev server of its own, devServerEnv()); e.g.
     * existingServerEnv() on the production engine. stop() tears it down either way. */
    temporal?: () => Promise<TestWorkflowEnvironment>;
  } = {},
): Promise<Medic> {
  const env = await (opts.temporal ?? devServerEnv)();
  const demo = await startDemoService();
  const pd = opts.pagerduty ? await startPagerDutyStandIn() : undefined;
  const agent = pd ? new Agent({ ca: pd.certs.ca }) : undefined;
  const taskQueue = uniqueQueue('it');
  const playbooks: Playbook[] = opts.playbooks?.(demo.url) ?? [];
  const worker = await medicWorker(env, taskQueue, { ...(pd ? { PD_ROUTING_KEY: 'PDR0UT1NGKEY0123456789abcdefABCD' } : {}), ...(opts.secrets ?? {}) }, [...(opts.sinks ?? []), ...(opts.store ? [createStoreSink(opts.store)] : [])], {
    // the server's playbooks and runbooks, and this process's
    playbooks: () => [...playbooks, ...(opts.runbooks ?? []).map(runbookPlaybook), ...knownPlaybooks()],
    ...present(opts, ['awsEndpoint', 'kubernetes', 'opa', 'ansible', 'alertmanagerUrl', 'store']),
    ...(pd && agent ? { pagerduty: { server: pd.server, agent, throttlePauseMs: 20 } } : {}),
  });
  const running = worker.run();
  const config = ConfigSchema.parse({
    http: { port: 0, bodyLimitBytes: opts.bodyLimitBytes ?? 1_048_576 },
    temporal: { taskQueue },
    intake: {
      alertmanagerToken: TOKENS.intake,
      ...(opts.hmacSecret ? { hmacSecret: opts.hmacSecret } : {}),
      ...(opts.intakeLimits ? { limits: opts.intakeLimits } : {}),
    },
    identityKey: TEST_IDENTITY_KEY_TEXT,
    ...(opts.correlation ? { correlation: opts.correlation } : {}),
    operators: OPERATORS,
  });
  const server = await buildServer({ config, client: env.client, log: opts.log ?? silentLog, playbooks: () => playbooks, runbooks: () => opts.runbooks ?? [], ...(opts.audit ? { audit: opts.audit } : {}), ...(opts.store ? { store: opts.store } : {}) });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });

  const medic: Medic = {
    env,
    demo,
    worker,
    server,
    url,
    config,
    playbooks,
    ...(pd ? { pd } : {}),
    async stop() {
      await server.close();
      worker.shutdown();
      await running;
      agent?.destroy();
      await pd?.close();
      await demo.close();
      await env.teardown();
    },
    postAlerts: (status, labels, token = TOKENS.intake) =>
      fetch(`${url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(alertmanagerPayload(status, labels, new Date().toISOString())),
      }),
    async api(method, path, token, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    status: (id) => queryChecked(env.client.workflow.getHandle(id), statusQuery),
    timeline: (id) => queryChecked(env.client.workflow.getHandle(id), timelineQuery),
    async waitFor(id, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: IncidentStatus | undefined;
      while (Date.now() < deadline) {
        try {
          last = await medic.status(id);
          if (done(last)) return last;
        } catch {
          // not started yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${id}; last status: ${JSON.stringify(last?.status)} ${last?.outcome ?? ''}`);
    },
  };
  return medic;
}

/** The workflow id the intake returned for the first incident in a 202 response. */
export async function incidentIdFrom(res: Response): Promise<string> {
  const body = (await res.json()) as { incidents: { workflowId: string }[] };
  const id = body.incidents[0]?.workflowId;
  if (!id) throw new Error(`no incident in response: ${JSON.stringify(body)}`);
  return id;
}

/** Loads `playbook` into m, posts a firing alert with `labels` (answered 202) and waits up to
 * `timeoutMs` for the incident to end or escalate; returns its id, last status and timeline. */
export async function runIncident(m: Medic, playbook: PlaybookInput, labels: Record<string, string>, timeoutMs = 60_000) {
  m.playbooks.push(PlaybookSchema.parse(playbook));
  const res = await m.postAlerts('firing', labels);
  expect(res.status).toBe(202);
  const id = await incidentIdFrom(res);
  const final = await m.waitFor(id, (s) => s.endedAt !== undefined || s.status === 'escalated', timeoutMs);
  return { id, final, timeline: await m.timeline(id) };
}

/** The first action entry of a timeline whose message says `word`. */
export const actionEntry = (timeline: TimelineEntry[], word: 'started' | 'finished' | 'failed' | 'dry run'): TimelineEntry | undefined =>
  timeline.find((e) => groupOf(e.kind) === 'action' && e.message.includes(word));
