// Chaos drills on real parts: Temporal dev server (drill workflow + Schedules), medic's worker and
// HTTP server, the demo service as the drillable target, a health watcher posting to medic's
// intake as detection, and the Slack stand-in behind the real Slack sink.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { createSlackSink } from '../../src/sinks/slack/sink.js';
import { createGovernorActivities } from '../../activities/governor.js';
import { drillCommand } from '../../src/cli/drill.js';
import { ConfigSchema } from '../../src/config.js';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { startHealthWatcher } from '../../dev/health-watcher.js';
import { startSlackStandIn, type SlackStandIn } from '../../dev/slack/server.js';
import { DrillScenarioSchema, type DrillScenario } from '../../src/drills/schema.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { buildServer } from '../../src/server/app.js';
import { buildMetricsServer, listenMetrics } from '../../src/server/metrics.js';
import { medicRegistry } from '../../src/store/metrics.js';
import { slackWebClient } from '../../src/slack/client.js';
import { DRILL_WORKFLOW_TYPE, drillScheduleId, type DrillReport } from '../../workflows/contracts-drill.js';
import { demoPlaybook, silentLog, stopAll } from '../support/fixtures.js';
import { devServerEnv, uniqueQueue, runTestWorker, type RunningWorker } from '../support/temporal.js';

const TOKEN = { intake: 'intake-token-0123456789', alice: 'alice-token-0123456789ab', root: 'admin-token-0123456789ab' } as const;
const DEMO_TOKEN = 'demo-admin-token-0123456789';
const CHANNEL = 'C0INCIDENT';

// The real parts this file starts once (beforeAll) and stops (afterAll).
let env: TestWorkflowEnvironment, demo: DemoService, other: DemoService, slack: SlackStandIn;
let worker: RunningWorker | undefined;
let server: FastifyInstance, url: string;
let metricsServer: FastifyInstance | undefined, metricsUrl: string, watcher: { stop(): void };
const taskQueue = uniqueQueue('drills');

const scenario = (s: Record<string, unknown>): DrillScenario => DrillScenarioSchema.parse(s);
const SCENARIOS: DrillScenario[] = [
  scenario({ name: 'demo-outage', target: 'demo', fault: { kind: 'demo-fault', fault: 'outage' }, expect: { playbook: 'demo-service-down' }, detectWithin: '1m', deadline: '90s' }),
  scenario({ name: 'other-outage', target: 'other', fault: { kind: 'demo-fault', fault: 'outage' }, expect: { playbook: 'demo-service-down' } }),
];

async function api(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const call = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
  api(method, path, TOKEN.alice, body).then((r) => {
    if (r.status >= 400) throw new Error(`${r.status}: ${String(r.body.error)}`);
    return r.body as T;
  });

beforeAll(async () => {
  env = await devServerEnv();
  demo = await startDemoService(0, { token: DEMO_TOKEN });
  other = await startDemoService(0, { token: DEMO_TOKEN });
  slack = await startSlackStandIn({ botToken: 'xoxb-drill-test', channels: [{ id: CHANNEL, name: 'incidents' }], users: [] });
  const drills = {
    targets: {
      demo: { kind: 'demo-service', url: demo.url, tokenSecret: 'DEMO_TOKEN', drillable: true },
      other: { kind: 'demo-service', url: other.url, tokenSecret: 'DEMO_TOKEN' },
    },
  };
  const config = ConfigSchema.parse({
    http: { port: 0 },
    metrics: { port: 0 },
    temporal: { taskQueue },
    intake: { alertmanagerToken: TOKEN.intake },
    operators: [
      { user: 'alice', token: TOKEN.alice },
      { user: 'root', token: TOKEN.root, admin: true },
    ],
    drills,
  });
  const sink = createSlackSink({ web: slackWebClient({ botToken: 'xoxb-drill-test', apiUrl: slack.apiUrl, retries: 10 }), channel: CHANNEL });
  worker = await runTestWorker(env, taskQueue, {
    secrets: { DEMO_TOKEN },
    sinks: [sink],
    drillTargets: config.drills!.targets,
  });
  const pb: Playbook = demoPlaybook(demo.url, {
    name: 'demo-service-down',
    cooldown: '1s',
    limits: { maxActionsPerHourPerTarget: 50 },
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${demo.url}/remediate`, headers: { authorization: 'Bearer {{secret.DEMO_TOKEN}}' }, expectStatus: [200] },
        retries: 1,
        verification: { http: { url: `${demo.url}/healthz` }, window: '1s', interval: '250ms', deadline: '20s' },
      },
    ],
  });
  // medic as it runs: its governor workflow already started. The first admission after a
  // deployment starts it (a one-off that cost ~2 s of a drill's MTTR overhead on the loaded
  // 2-core machine); the overhead goal is about every heal after that.
  await createGovernorActivities({ client: env.client, taskQueue }).governorRelease({ target: 'warm-up', workflowId: 'warm-up', key: 'warm-up' });
  const registry = medicRegistry();
  server = await buildServer({ config, client: env.client, log: silentLog, playbooks: () => [pb], drills: () => SCENARIOS, metrics: registry });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
  // /metrics (with the drill metrics the server registered) is on the metrics listener
  metricsServer = buildMetricsServer({ config, registry, log: silentLog });
  metricsUrl = await listenMetrics(metricsServer, config);
  // Detection: polls the demo service and posts Alertmanager webhooks to medic's intake.
  watcher = startHealthWatcher({
    healthUrl: `${demo.url}/healthz`,
    webhookUrl: `${url}/webhooks/alertmanager`,
    token: TOKEN.intake,
    labels: { alertname: 'DemoServiceDown', service: 'demo-drill', severity: 'critical' },
    intervalMs: 300,
  });
});

afterAll(() => stopAll(watcher, server, metricsServer, worker, slack, demo, other, env));

describe('medic drill on the Temporal dev server', () => {
  it('demo-outage: injects the fault, medic detects and heals it, the report has TTD, MTTR and steps — terminal, Slack thread, /metrics', async () => {
    const lines: string[] = [];
    const code = await drillCommand(['demo-outage'], { json: false }, call, (s) => lines.push(s), { pollMs: 300, timeoutMs: 120_000 });
    const text = lines.join('\n');
    expect(text, text).toContain('drill demo-outage: PASS — demo-fault outage on demo (by alice)');
    expect(code).toBe(0);
    expect(text).toMatch(/time to detect: \d+(\.\d)?s; time to recover: \d+(\.\d)?s \(deadline 90s, expected resolved\)/);
    expect(text).toContain('steps: step 1 healed');
    // MTTR overhead: medic's own share of the heal, against its goal, and where it went.
    expect(text).toMatch(/MTTR overhead: \d+\.\d\ds \(goal ≤ 2s: (met|NOT met)\) = detected → healed [\d.]+s − action [\d.]+s − verification [\d.]+s; largest: /);
    const workflowId = /started \((drill:demo-outage:[^)]+)\)/.exec(text)?.[1];
    const { report } = await call<{ report: DrillReport }>('GET', `/api/drills/runs/${encodeURIComponent(workflowId!)}`);
    const o = report.overhead!;
    expect(o, JSON.stringify(report)).toBeDefined();
    expect(o.overheadSeconds).toBeGreaterThan(0);
    expect(o.overheadSeconds, text).toBeLessThan(o.goalSeconds);
    expect(o.met).toBe(true);
    expect(o.actionSeconds).toBeGreaterThan(0);
    expect(o.verificationSeconds).toBeGreaterThanOrEqual(1); // the playbook's 1 s window
    expect(o.actionSeconds + o.verificationSeconds + o.approvalSeconds + o.overheadSeconds).toBeCloseTo(o.detectToHealedSeconds, 2);
    expect(o.detectToHealedSeconds).toBeLessThanOrEqual(report.mttrSeconds! + 0.05); // MTTR is rounded to 0.1 s
    expect(demo.state.fault).toBe('none');
    expect(Object.keys(demo.state.applied)).toHaveLength(1);

    // the report joined the incident's Slack thread
    const roots = slack.history(CHANNEL).filter((m) => JSON.stringify(m.blocks ?? []).includes('demo-service-down'));
    expect(roots).toHaveLength(1);
    const thread = JSON.stringify(slack.thread(CHANNEL, roots[0]!.ts));
    expect(thread).toContain('drill demo-outage: PASS');
    expect(thread).toMatch(/time to detect: [\d.]+s; time to recover: [\d.]+s/);

    // and /metrics
    const deadline = Date.now() + 20_000;
    let metrics = '';
    while (Date.now() < deadline && !metrics.includes('medic_drill_runs_total{scenario="demo-outage",result="passed"} 1')) {
      metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(metrics).toContain('medic_drill_runs_total{scenario="demo-outage",result="passed"} 1');
    expect(metrics).toContain('medic_drill_last_passed{scenario="demo-outage"} 1');
    expect(metrics).toMatch(/medic_drill_last_ttd_seconds\{scenario="demo-outage"\} \d/);
    expect(metrics).toMatch(/medic_drill_last_mttr_seconds\{scenario="demo-outage"\} \d/);
    expect(metrics).toContain(`medic_drill_last_overhead_seconds{scenario="demo-outage"} ${o.overheadSeconds}`);
  });

  it('refuses a target not marked drillable, with a clear error, in the API and in the drill workflow itself', async () => {
    const r = await api('POST', '/api/drills/other-outage', TOKEN.alice);
    expect(r.status).toBe(409);
    expect(r.body.error).toBe(
      `drill other-outage: target "other" is not marked drillable; medic refuses to inject faults into it (set drills.targets.other.drillable: true in medic's config to allow drills)`,
    );
    // A workflow started around the API (e.g. by a stale schedule) refuses too: the worker's config decides.
    const report = (await env.client.workflow.execute(DRILL_WORKFLOW_TYPE, {
      workflowId: `drill:other-outage:direct-${Date.now()}`,
      taskQueue,
      args: [{ scenario: SCENARIOS[1], maintenanceWindows: [], requestedBy: 'test' }],
    })) as DrillReport;
    expect(report.passed).toBe(false);
    expect(report.refused).toContain('target "other" is not marked drillable');
    expect(other.state.fault).toBe('none');
    expect(Object.keys(other.state.requests)).toHaveLength(0);
  });

  it('refuses while the kill switch is on, and inside a maintenance window', async () => {
    expect((await api('POST', '/api/pause', TOKEN.root, { reason: 'drill test' })).status).toBe(200);
    try {
      const r = await api('POST', '/api/drills/demo-outage', TOKEN.alice);
      expect(r.status).toBe(409);
      expect(r.body.error).toContain('drill demo-outage: the kill switch is on (paused by root); no drills while automation is paused');
      const report = (await env.client.workflow.execute(DRILL_WORKFLOW_TYPE, {
        workflowId: `drill:demo-outage:paused-${Date.now()}`,
        taskQueue,
        args: [{ scenario: SCENARIOS[0], maintenanceWindows: [], requestedBy: 'test' }],
      })) as DrillReport;
      expect(report.refused).toContain('the kill switch is on (paused by root: drill test)');
      expect(demo.state.fault).toBe('none');
    } finally {
      await api('POST', '/api/resume', TOKEN.root, {});
    }
    const now = Date.now();
    const windowed = (await env.client.workflow.execute(DRILL_WORKFLOW_TYPE, {
      workflowId: `drill:demo-outage:window-${now}`,
      taskQueue,
      args: [{ scenario: SCENARIOS[0], maintenanceWindows: [{ start: new Date(now - 60_000).toISOString(), end: new Date(now + 3_600_000).toISOString(), reason: 'db upgrade' }], requestedBy: 'test' }],
    })) as DrillReport;
    expect(windowed.refused).toMatch(/maintenance window active \(db upgrade\).*no drills inside a maintenance window/);
    expect(demo.state.fault).toBe('none');
  });

  it('a Temporal Schedule for game days: created, listed, triggered, and it produces a drill report', async () => {
    const forbidden = await api('POST', '/api/drills/demo-outage/schedule', TOKEN.alice, { cron: '0 3 * * 3' });
    expect(forbidden.status).toBe(403);
    const bad = await api('POST', '/api/drills/demo-outage/schedule', TOKEN.root, { cron: 'every tuesday' });
    expect(bad.status).toBe(400);
    const lines: string[] = [];
    const adminCall = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
      api(method, path, TOKEN.root, body).then((r) => {
        if (r.status >= 400) throw new Error(`${r.status}: ${String(r.body.error)}`);
        return r.body as T;
      });
    expect(await drillCommand(['schedule', 'demo-outage'], { cron: '0 3 * * 3' }, adminCall, (s) => lines.push(s))).toBe(0);
    expect(lines[0]).toBe(`schedule ${drillScheduleId(taskQueue, 'demo-outage')} created: drill demo-outage at cron '0 3 * * 3'`);
    expect(await drillCommand(['schedule', 'demo-outage'], { cron: '30 4 * * 3' }, adminCall, (s) => lines.push(s))).toBe(0);
    expect(lines[1]).toContain('updated');
    const handle = env.client.schedule.getHandle(drillScheduleId(taskQueue, 'demo-outage'));
    try {
      expect(await drillCommand(['schedules'], {}, call, (s) => lines.push(s))).toBe(0);
      expect(lines[2]).toMatch(/^demo-outage {2}cron '30 4 \* \* 3' {2}next: \d{4}-\d\d-\d\dT04:30:00\.000Z/);

      const since = Date.now();
      await handle.trigger();
      const deadline = Date.now() + 120_000;
      let report: DrillReport | undefined;
      while (Date.now() < deadline && !report) {
        for await (const wf of env.client.workflow.list({ query: `WorkflowType = '${DRILL_WORKFLOW_TYPE}' AND StartTime >= '${new Date(since - 1_000).toISOString()}'` })) {
          if (!wf.workflowId.startsWith('drill:demo-outage:scheduled') || wf.status.name !== 'COMPLETED') continue;
          report = (await env.client.workflow.getHandle(wf.workflowId, wf.runId).result()) as DrillReport;
        }
        if (!report) await new Promise((r) => setTimeout(r, 500));
      }
      expect(report?.passed, JSON.stringify(report)).toBe(true);
      expect(report?.requestedBy).toBe('schedule (set by root)');
      expect(report?.ttdSeconds).toBeGreaterThan(0);
      expect(report?.mttrSeconds).toBeGreaterThan(report!.ttdSeconds!);
      expect(report?.overhead?.overheadSeconds).toBeGreaterThan(0);
    } finally {
      await handle.delete();
    }
  });
});
