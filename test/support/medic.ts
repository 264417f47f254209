// A whole medic on real parts for integration tests: Temporal dev server, worker, HTTP server
// (real Fastify on a port), and the demo service as the system being healed.
import type { MedicWorker } from '../../src/temporal/worker.js';
import type { KubernetesDeps } from '../../activities/kubernetes.js';
import type { IncidentSink } from '../../activities/publish.js';
import type { AuditLog } from '../../src/audit/log.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema, type Config } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../src/dev/demo-service.js';
import { alertmanagerPayload } from '../../src/dev/health-watcher.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import type { Runbook } from '../../src/runbooks/schema.js';
import { buildServer } from '../../src/server/app.js';
import { statusQuery, timelineQuery, type IncidentStatus, type TimelineEntry } from '../../workflows/contracts.js';
import { silentLog } from './fixtures.js';
import { TEST_IDENTITY_KEY_TEXT } from './identity.js';
import { devServerEnv, medicWorker, uniqueQueue } from './temporal.js';

export const TOKENS = {
  intake: 'intake-token-0123456789',
  alice: 'alice-token-0123456789ab',
  bob: 'bob-token-0123456789abcd',
  admin: 'admin-token-0123456789ab',
} as const;

export interface Medic {
  env: TestWorkflowEnvironment;
  demo: DemoService;
  worker: MedicWorker;
  server: FastifyInstance;
  url: string;
  config: Config;
  playbooks: Playbook[];
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
    /** Incident sinks for the worker (e.g. the audit sink) and the audit log the server writes. */
    sinks?: IncidentSink[];
    audit?: AuditLog;
    /** Runbooks the operator API may start (POST /api/runbooks/:name/run). */
    runbooks?: Runbook[];
  } = {},
): Promise<Medic> {
  const env = await devServerEnv();
  const demo = await startDemoService();
  const taskQueue = uniqueQueue('it');
  const worker = await medicWorker(env, taskQueue, opts.secrets ?? {}, opts.sinks ?? [], {
    ...(opts.awsEndpoint ? { awsEndpoint: opts.awsEndpoint } : {}),
    ...(opts.kubernetes ? { kubernetes: opts.kubernetes } : {}),
  });
  const running = worker.run();
  const config = ConfigSchema.parse({
    http: { port: 0, bodyLimitBytes: opts.bodyLimitBytes ?? 1_048_576 },
    temporal: { taskQueue },
    intake: { alertmanagerToken: TOKENS.intake, ...(opts.hmacSecret ? { hmacSecret: opts.hmacSecret } : {}) },
    identityKey: TEST_IDENTITY_KEY_TEXT,
    ...(opts.correlation ? { correlation: opts.correlation } : {}),
    operators: [
      { user: 'alice', token: TOKENS.alice },
      { user: 'bob', token: TOKENS.bob },
      { user: 'root', token: TOKENS.admin, admin: true },
    ],
  });
  const playbooks: Playbook[] = [];
  const server = await buildServer({ config, client: env.client, log: silentLog, playbooks: () => playbooks, runbooks: () => opts.runbooks ?? [], ...(opts.audit ? { audit: opts.audit } : {}) });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });

  const medic: Medic = {
    env,
    demo,
    worker,
    server,
    url,
    config,
    playbooks,
    async stop() {
      await server.close();
      worker.shutdown();
      await running;
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
    status: (id) => env.client.workflow.getHandle(id).query(statusQuery),
    timeline: (id) => env.client.workflow.getHandle(id).query(timelineQuery),
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
