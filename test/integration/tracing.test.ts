// OpenTelemetry: with tracing configured, an incident is one trace from webhook to resolution.
// A real OTLP/HTTP receiver (test/support/otlp-receiver.ts, in a child process) collects
// what medic exports while an alert goes through the real HTTP intake to a worker on a Temporal
// dev server: the HTTP server span, the intake's signalWithStart (client interceptor), the
// incident workflow's spans (workflow interceptors + sink) and its activities' spans share one
// traceId, each span's parent is in that trace, and probes are not traced.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IDENTITY_KEY_TEXT } from '../support/identity.js';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { ConfigSchema } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { alertmanagerPayload } from '../../dev/health-watcher.js';
import { freePort } from '../../dev/ports.js';
import { buildServer } from '../../src/server/app.js';
import { createMedicWorker } from '../../src/temporal/worker.js';
import { startTracing, type Tracing } from '../../src/tracing.js';
import type { IncidentStatus } from '../../workflows/contracts.js';
import { demoPlaybook, healthyAgain, knownPlaybooks, remediateStep, silentLog, stopAll } from '../support/fixtures.js';
import type { OtlpSpan } from '../support/otlp-receiver.js';
import { BUNDLE_PATH, ROOT } from '../support/paths.js';
import { devServerEnv, uniqueQueue, workflowBundle, runWorker, type RunningWorker } from '../support/temporal.js';

type ReceivedSpan = OtlpSpan;

/** The receiver runs in a child process: in this one, its own requests would be traced. */
async function startReceiver(): Promise<{ url: string; spans(): Promise<{ spans: ReceivedSpan[]; rejected: string[] }>; close(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/otlp-receiver.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`OTLP receiver exited (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
  });
  return {
    url,
    spans: async () => (await (await fetch(`${url}/spans`)).json()) as { spans: ReceivedSpan[]; rejected: string[] },
    close: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const TOKEN = 'intake-token-0123456789';
const SERVER_KIND = 2; // OTLP SpanKind SPAN_KIND_SERVER

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let tracing: Tracing;
let env: TestWorkflowEnvironment;
let demo: DemoService;
let worker: RunningWorker | undefined;
let server: FastifyInstance;
let url: string;
let client: Client;

beforeAll(async () => {
  receiver = await startReceiver();
  // before the server exists, as src/server/main.ts and src/worker.ts do
  const started = startTracing(ConfigSchema.parse({ tracing: { otlpEndpoint: receiver.url, serviceName: 'medic-test' } }).tracing, 'server');
  if (!started) throw new Error('tracing did not start although configured');
  tracing = started;
  env = await devServerEnv();
  demo = await startDemoService();
  client = new Client({ connection: env.connection, interceptors: { workflow: tracing.clientInterceptors } });
  const taskQueue = uniqueQueue('trace');
  worker = runWorker(await createMedicWorker({ connection: env.nativeConnection, client, taskQueue, workflowBundle: await workflowBundle(), tracing: tracing.worker, playbooks: knownPlaybooks }));
  const config = ConfigSchema.parse({ http: { port: 0 }, temporal: { taskQueue }, intake: { alertmanagerToken: TOKEN } });
  server = await buildServer({ config, client, log: silentLog, playbooks: () => [demoPlaybook(demo.url)] });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => stopAll(server, worker, demo, env, tracing, receiver));

async function spansUntil(done: (spans: ReceivedSpan[]) => boolean, what: string): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 60_000;
  let spans: ReceivedSpan[] = [];
  while (Date.now() < deadline) {
    await tracing.flush();
    spans = (await receiver.spans()).spans;
    if (done(spans)) return spans;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; received: ${spans.map((s) => `${s.name} ${s.traceId.slice(0, 6)}/${s.spanId.slice(0, 4)}<${(s.parentSpanId ?? '').slice(0, 4)}`).join(', ')}`);
}

describe('tracing (OTLP/HTTP)', () => {
  it('a webhook → incident → resolution is one trace: HTTP server span, workflow start, workflow and activity spans', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    demo.state.fault = 'outage';
    const res = await fetch(`${url}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(alertmanagerPayload('firing', { alertname: 'DemoServiceDown', service: 'traced-shop', severity: 'critical' }, new Date().toISOString())),
    });
    expect(res.status).toBe(202);
    const workflowId = ((await res.json()) as { incidents: { workflowId: string }[] }).incidents[0]!.workflowId;
    const status = (await client.workflow.getHandle(workflowId).result()) as IncidentStatus;
    expect(status.status).toBe('resolved');

    const webhook = (s: ReceivedSpan): boolean => s.kind === SERVER_KIND && s.name === 'POST /webhooks/alertmanager';
    const spans = await spansUntil((all) => {
      const root = all.find(webhook);
      return !!root && all.some((s) => s.traceId === root.traceId && s.name === 'RunWorkflow:incidentWorkflow');
    }, 'the webhook span and the incident workflow span in one trace');
    const root = spans.find(webhook)!;
    const trace = spans.filter((s) => s.traceId === root.traceId);
    const names = trace.map((s) => s.name);
    console.log(`tracing: one trace ${root.traceId}, ${trace.length} spans: ${[...new Set(names)].join(', ')}`);

    expect(root.parentSpanId ?? '').toBe(''); // the webhook starts the trace
    expect(names).toContain('SignalWithStartWorkflow:incidentWorkflow');
    expect(names).toContain('RunWorkflow:incidentWorkflow');
    expect(names.some((n) => n.startsWith('StartActivity:'))).toBe(true);
    expect(names.some((n) => n.startsWith('RunActivity:'))).toBe(true);
    // the remediation activity itself (an HTTP step) is in it
    expect(names.filter((n) => n.startsWith('RunActivity:')).length).toBeGreaterThanOrEqual(2);
    // one tree: every span but the root has its parent in the trace
    const ids = new Set(trace.map((s) => s.spanId));
    const orphans = trace.filter((s) => s !== root && !ids.has(s.parentSpanId ?? ''));
    expect(orphans.map((s) => s.name)).toEqual([]);
    // the workflow span hangs below the intake's signalWithStart, which hangs below the webhook
    const start = trace.find((s) => s.name === 'SignalWithStartWorkflow:incidentWorkflow')!;
    const run = trace.find((s) => s.name === 'RunWorkflow:incidentWorkflow')!;
    const ancestors = (s: ReceivedSpan): string[] => {
      const chain: string[] = [];
      let cur: ReceivedSpan | undefined = s;
      while (cur?.parentSpanId) {
        cur = trace.find((p) => p.spanId === cur!.parentSpanId);
        if (cur) chain.push(cur.spanId);
      }
      return chain;
    };
    // webhook → medic.intake (playbook, incident) → SignalWithStart
    const intake = trace.find((s) => s.name === 'medic.intake')!;
    expect(intake.parentSpanId).toBe(root.spanId);
    expect(start.parentSpanId).toBe(intake.spanId);
    expect(ancestors(start)).toContain(root.spanId);
    expect(ancestors(run)).toContain(start.spanId);
    expect(new Set(trace.map((s) => s.service))).toEqual(new Set(['medic-test-server']));
    // probes are not traced, and the exporter's own requests are not traced either
    expect(spans.some((s) => s.name.includes('/healthz'))).toBe(false);
    expect(spans.some((s) => s.name.includes('/v1/traces'))).toBe(false);
    expect((await receiver.spans()).rejected).toEqual([]); // every export was OTLP/HTTP JSON
  }, 180_000);

  it('the real entry points (src/server/main.ts, src/worker.ts as processes) put the server and worker spans in one trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medic-trace-'));
    const procs: ChildProcess[] = [];
    try {
      const playbook = {
        name: 'traced-demo',
        match: { alertname: 'TracedDemoDown' },
        groupBy: ['alertname', 'service'],
        target: '{{labels.service}}',
        steps: [remediateStep(demo.url, { timeout: '5s', verification: healthyAgain(demo.url) })],
      };
      await writeFile(join(dir, 'traced-demo.yaml'), stringify(playbook));
      const [httpPort, healthPort] = [await freePort(), await freePort()];
      const common = {
        ...process.env,
        MEDIC_TEMPORAL_ADDRESS: env.address,
        MEDIC_TEMPORAL_TASK_QUEUE: uniqueQueue('trace-procs'),
        MEDIC_OTLP_ENDPOINT: receiver.url,
        MEDIC_INTAKE_TOKEN: TOKEN,
        MEDIC_PLAYBOOKS: dir,
        MEDIC_WORKFLOW_BUNDLE: BUNDLE_PATH,
        MEDIC_LOG_LEVEL: 'warn',
        MEDIC_IDENTITY_KEY: TEST_IDENTITY_KEY_TEXT,
      };
      const start = (script: string, extra: Record<string, string>): ChildProcess => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], { cwd: ROOT, env: { ...common, ...extra }, stdio: ['ignore', 'inherit', 'inherit'] });
        procs.push(child);
        return child;
      };
      const worker = start('src/worker.ts', { MEDIC_WORKER_HEALTH_PORT: String(healthPort) });
      const app = start('src/server/main.ts', { MEDIC_HTTP_PORT: String(httpPort), MEDIC_HTTP_HOST: '127.0.0.1' });
      const ready = async (u: string): Promise<void> => {
        const deadline = Date.now() + 90_000;
        while (Date.now() < deadline) {
          if ((await fetch(u).catch(() => undefined))?.status === 200) return;
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error(`${u} never became ready`);
      };
      await Promise.all([ready(`http://127.0.0.1:${httpPort}/readyz`), ready(`http://127.0.0.1:${healthPort}/readyz`)]);
      demo.state.fault = 'outage';
      const res = await fetch(`http://127.0.0.1:${httpPort}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(alertmanagerPayload('firing', { alertname: 'TracedDemoDown', service: 'traced-procs', severity: 'critical' }, new Date().toISOString())),
      });
      expect(res.status).toBe(202);
      const workflowId = ((await res.json()) as { incidents: { workflowId: string }[] }).incidents[0]!.workflowId;
      expect(((await client.workflow.getHandle(workflowId).result()) as IncidentStatus).status).toBe('resolved');
      // SIGTERM: both processes flush their buffered spans on the way out
      for (const p of [app, worker]) p.kill('SIGTERM');
      await Promise.all([once(app, 'exit'), once(worker, 'exit')]);

      const spans = (await receiver.spans()).spans;
      const root = spans.find((s) => s.service === 'medic-server' && s.name === 'POST /webhooks/alertmanager' && spans.some((x) => x.traceId === s.traceId && x.name === 'medic.intake'));
      expect(root, 'the app exported its webhook span').toBeDefined();
      const trace = spans.filter((s) => s.traceId === root!.traceId);
      const byService = (service: string): string[] => [...new Set(trace.filter((s) => s.service === service).map((s) => s.name))];
      console.log(`tracing (processes): ${trace.length} spans; medic-server: ${byService('medic-server').join(', ')}; medic-worker: ${byService('medic-worker').length} kinds`);
      expect(byService('medic-server')).toEqual(expect.arrayContaining(['POST /webhooks/alertmanager', 'medic.intake', 'SignalWithStartWorkflow:incidentWorkflow']));
      expect(byService('medic-worker')).toEqual(expect.arrayContaining(['RunWorkflow:incidentWorkflow', 'RunActivity:httpAction']));
    } finally {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('is off unless configured', () => {
    expect(startTracing(ConfigSchema.parse({}).tracing, 'worker')).toBeUndefined();
    expect(ConfigSchema.parse({}).tracing).toBeUndefined();
  });
});
