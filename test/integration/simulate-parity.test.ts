// Parity, as a property over generated scenarios (fast-check): `medic simulate` (the decision
// core with dry-run answers, actions in dry run against the real demo service) predicts the
// commands, then the real incident runs on the Temporal dev server against the same demo service,
// and the core's commands there (the `decisions` query), its step sequence and its outcome must
// be the same. The simulation must change nothing. Also: simulate reads a real Alertmanager's /api/v2/alerts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestAlerts } from '../../src/intake/ingest.js';
import { startDemoService, type DemoService, type Fault } from '../../dev/demo-service.js';
import { DEMO_RULES, startPrometheusStack, type PrometheusStack } from '../../dev/prometheus-stack.js';
import type { Alert } from '../../src/intake/schemas.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { simulate, type SimIncident } from '../../src/simulate/engine.js';
import { dryRunActuator } from '../../src/simulate/actuator.js';
import { fetchAlertmanagerAlerts, parseRecorded } from '../../src/simulate/alerts.js';
import { formatSimulation } from '../../src/simulate/format.js';
import { stepSequenceOf, type StepOutcome } from '../../src/simulate/sequence.js';
import { simulateCommand } from '../../src/cli/simulate.js';
import { incidentsApi } from '../../src/incidents/api.js';
import { decisionsQuery, timelineQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { traceOf, type TraceEntry } from '../../src/incident/trace.js';
import { useDemoStack } from '../support/demo-stack.js';
import { demoPlaybook, firingAlert, silentLog } from '../support/fixtures.js';

const dev = useDemoStack('parity');
const { taskQueue } = dev;

// Parity needs a verification that passes and one that fails, not a long one: a failing step
// costs its deadline (up to four per scenario), a passing one its window.
const verification = (url: string) => ({ http: { url: `${url}/healthz` }, window: '500ms', interval: '250ms', deadline: '2s' });
const playbook = (url: string): Playbook =>
  demoPlaybook(url, {
    name: 'parity',
    holdAfterEscalation: '1s',
    cooldown: '1s',
    limits: { maxActionsPerHourPerTarget: 100 },
    steps: [
      { name: 'restart', action: 'http', params: { method: 'POST', url: `${url}/remediate`, expectStatus: [200], dryRunHeader: 'x-dry-run' }, retries: 0, timeout: '5s', verification: verification(url) },
      { name: 'hard restart', action: 'http', params: { method: 'POST', url: `${url}/remediate?mode=hard`, expectStatus: [200], dryRunHeader: 'x-dry-run' }, retries: 0, timeout: '5s', verification: verification(url) },
    ],
  });

async function predict(pb: Playbook, alert: Alert): Promise<SimIncident> {
  const r = await simulate([alert], { playbooks: [pb], actuator: dryRunActuator() });
  expect(r.incidents).toHaveLength(1);
  return r.incidents[0]!;
}

async function realRun(pb: Playbook, alert: Alert): Promise<{ final: IncidentStatus; sequence: StepOutcome[]; decisions: TraceEntry[] }> {
  const r = await ingestAlerts({ client: dev.env.client, taskQueue, playbooks: () => [pb], log: silentLog }, [alert]);
  const handle = dev.env.client.workflow.getHandle(r.incidents[0]!.workflowId);
  const final = (await handle.result()) as IncidentStatus;
  return { final, sequence: stepSequenceOf(await handle.query(timelineQuery)), decisions: await handle.query(decisionsQuery) };
}

const scenarios: { name: string; fault: Fault; labels?: Record<string, string>; expected: StepOutcome[]; outcome: 'resolved' | 'escalated' }[] = [
  { name: 'heals at step 1', fault: 'outage', expected: [{ step: 0, result: 'healed' }], outcome: 'resolved' },
  { name: 'step 1 fails → step 2 heals', fault: 'broken-remediation', expected: [{ step: 0, result: 'action-failed' }, { step: 1, result: 'healed' }], outcome: 'resolved' },
  { name: 'every step fails → escalates', fault: 'stubborn', expected: [{ step: 0, result: 'verification-failed' }, { step: 1, result: 'verification-failed' }], outcome: 'escalated' },
  { name: 'a gate blocks → escalates without acting', fault: 'outage', labels: { deploying: 'true' }, expected: [{ step: 0, result: 'blocked' }], outcome: 'escalated' },
];

/** The core's commands with their payloads left out; timers, publishing and the repeats of a
 * verification loop or a hold (how many rounds depends on real time) are folded. */
function comparable(trace: TraceEntry[]): string[] {
  const out: string[] = [];
  for (const t of trace) {
    if (t.kind === 'publish' || t.kind === 'startTimer' || t.kind === 'cancelTimer') continue;
    const line = JSON.stringify(t);
    if (out.at(-1) !== line) out.push(line);
  }
  return out;
}

const PARITY_RUNS = Number(process.env.MEDIC_PARITY_RUNS ?? 25);
// The generated scenarios run this many at a time on the one worker, each against its own demo
// service (the fault is the service's state): an incident waiting on timers does not hold up the others.
const PARITY_CONCURRENCY = 5;
const scenarioArb = fc.record({
  fault: fc.constantFrom<Fault>('outage', 'stubborn', 'broken-remediation'),
  steps: fc.array(fc.record({ hard: fc.boolean(), attempts: fc.integer({ min: 1, max: 2 }), verify: fc.boolean() }), { minLength: 1, maxLength: 2 }),
  deploying: fc.boolean(),
  mode: fc.constantFrom('auto' as const, 'dry-run' as const),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;
let generated = 0;

/** Runs `fn` over `items`, demos.length at a time, each run on a demo service no other run is
 * using; every run ends before the first failure is thrown. */
async function concurrently<T>(demos: DemoService[], items: T[], fn: (item: T, demo: DemoService) => Promise<void>): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  await Promise.all(
    demos.map(async (demo) => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        await fn(item, demo).catch((e: unknown) => void failures.push(e));
      }
    }),
  );
  if (failures.length > 0) throw failures[0];
}

async function checkParity(sc: Scenario, demo: DemoService): Promise<void> {
  generated += 1;
  const url = demo.url;
  const pb = demoPlaybook(url, {
    name: `parity-${process.pid}-${generated}`, // the governor's per-playbook window budget starts afresh
    mode: sc.mode,
    holdAfterEscalation: '1s',
    cooldown: '1s',
    limits: { maxActionsPerHourPerTarget: 100, maxActionsPerHourGlobal: 10_000 },
    steps: sc.steps.map((st, i) => ({
      name: `s${i}`,
      action: 'http' as const,
      params: { method: 'POST' as const, url: `${url}/remediate${st.hard ? '?mode=hard' : ''}`, expectStatus: [200], dryRunHeader: 'x-dry-run' },
      retries: 0,
      attempts: st.attempts,
      timeout: '5s',
      ...(st.verify ? { verification: verification(url) } : {}),
    })),
  });
  demo.state.fault = sc.fault;
  const alert = firingAlert(sc.deploying ? { deploying: 'true' } : {});
  const applied = JSON.stringify(demo.state.applied);
  const predicted = await predict(pb, alert);
  expect(demo.state.fault).toBe(sc.fault); // the simulation changed nothing
  expect(JSON.stringify(demo.state.applied)).toBe(applied);
  const real = await realRun(pb, alert);
  expect(comparable(real.decisions)).toEqual(comparable(predicted.commands.map(traceOf)));
  expect(real.sequence).toEqual(predicted.sequence);
  expect(real.final.status).toBe(predicted.outcome);
  if (predicted.escalation) expect(real.final.escalationReason).toBe(predicted.escalation.reason);
}

describe('simulate ↔ real run parity (Temporal dev server, real demo service)', () => {
  let demos: DemoService[] = [];
  beforeAll(async () => {
    demos = await Promise.all(Array.from({ length: Math.max(PARITY_CONCURRENCY, scenarios.length) }, () => startDemoService()));
  });
  afterAll(async () => {
    await Promise.all(demos.map((d) => d.close()));
  });

  it(`over ${PARITY_RUNS} generated scenarios (${PARITY_CONCURRENCY} at a time), simulate gives the commands the real run gives`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(scenarioArb, { minLength: PARITY_RUNS, maxLength: PARITY_RUNS }), (all) => concurrently(demos.slice(0, PARITY_CONCURRENCY), all, checkParity)),
      { numRuns: 1, endOnFailure: true },
    );
    console.log(`simulate ↔ real run parity: ${generated} generated scenarios, all equal`);
    expect(generated).toBe(PARITY_RUNS);
  });

  it('the hand-written scenarios still hold: heal, fail → next, every step fails, a gate blocks', async () => {
    await concurrently(demos, scenarios, async (sc, demo) => {
      const pb = playbook(demo.url);
      demo.state.fault = sc.fault;
      const alert = firingAlert(sc.labels ?? {});
      const predicted = await predict(pb, alert);
      expect(predicted.sequence).toEqual(sc.expected);
      expect(predicted.outcome).toBe(sc.outcome);
      const real = await realRun(pb, alert);
      expect(real.sequence).toEqual(predicted.sequence);
      expect(real.final.status).toBe(predicted.outcome);
      expect(comparable(real.decisions)).toEqual(comparable(predicted.commands.map(traceOf)));
    });
  });

  it('--live: with the running governor (a step auto-demoted by a real failure), simulate predicts what the real run does', async () => {
    const pb = demoPlaybook(dev.demo.url, {
      ...playbook(dev.demo.url),
      name: 'parity-demoted',
      cooldown: '1s',
      limits: { maxActionsPerHourPerTarget: 100, demoteAfter: { failures: 1, of: 1 } },
      steps: [playbook(dev.demo.url).steps[0]!],
    });
    dev.demo.state.fault = 'stubborn';
    const first = await realRun(pb, firingAlert());
    expect(first.final.status).toBe('escalated');
    // the governor now holds the step as demoted: read it as `medic simulate --live` does (GET /api/governor)
    const governor = await incidentsApi(dev.env.client, taskQueue).governorState();
    expect(governor.demotedSteps.map((d) => [d.playbook, d.step])).toEqual([['parity-demoted', 0]]);
    dev.demo.state.fault = 'outage';
    const alert = firingAlert();
    const r = await simulate([alert], { playbooks: [pb], actuator: dryRunActuator(), governor });
    const predicted = r.incidents[0]!;
    expect(predicted.sequence).toEqual([]);
    expect(predicted.escalation?.reason).toMatch(/^step 1 \(restart\) auto-demoted to require approval: .*nobody may approve it/);
    const real = await realRun(pb, alert);
    expect(real.sequence).toEqual(predicted.sequence);
    expect(real.final.status).toBe('escalated');
    expect(real.final.escalationReason).toBe(predicted.escalation?.reason);
    expect(dev.demo.state.fault).toBe('outage');
  });

  it('prints every gate decision with its reason, each step with the dry-run output, and the escalation rungs; --json too', async () => {
    dev.demo.state.fault = 'stubborn';
    const pb = playbook(dev.demo.url);
    const r = await simulate([firingAlert()], { playbooks: [pb], actuator: dryRunActuator() });
    const text = formatSimulation(r);
    expect(text).toContain('playbook parity (mode auto)');
    expect(text).toContain('✓ maintenance-window: no maintenance window is active');
    expect(text).toContain('✓ governor rate-limit: within hourly action limits');
    expect(text).toMatch(/→ dry run: POST .*\/remediate → 200 \(the target's own dry run; the target says it would not heal\)/);
    expect(text).toContain('steps: step 1 verification-failed → step 2 verification-failed');
    expect(text).toContain('⇒ ESCALATES: all 2 step(s) tried; last: verification failed');
    expect(text).toContain('rung 1: hand over to on-call');

    const dir = await mkdtemp(join(tmpdir(), 'medic-sim-'));
    const file = join(dir, 'recorded.jsonl');
    await writeFile(file, `${JSON.stringify(firingAlert())}\n`);
    await writeFile(join(dir, 'pb.yaml'), JSON.stringify({ ...pb, steps: pb.steps }));
    const lines: string[] = [];
    expect(await simulateCommand({ playbooks: join(dir, 'pb.yaml'), alerts: file, json: true }, { log: (s) => lines.push(s), error: (s) => lines.push(s) })).toBe(0);
    const json = JSON.parse(lines.join('\n')) as { incidents: SimIncident[] };
    expect(json.incidents[0]!.sequence).toEqual([{ step: 0, result: 'verification-failed' }, { step: 1, result: 'verification-failed' }]);
  });

  it('bad recorded lines are reported with their line number', () => {
    expect(() => parseRecorded('{"labels":{}}\nnot json\n', 'rec.jsonl')).toThrow(/rec\.jsonl:1: .*labels.alertname is required[\s\S]*rec\.jsonl:2: /);
  });

  it('--from-alertmanager: reads a real Alertmanager (fed by Prometheus scraping the demo service) and predicts the heal', async () => {
    let stack: PrometheusStack | undefined;
    try {
      stack = await startPrometheusStack({
        scrapeTarget: new URL(dev.demo.url).host,
        webhookUrl: 'http://127.0.0.1:9/unused',
        webhookToken: 'unused-token-0123456789',
        rules: DEMO_RULES,
      });
      dev.demo.state.fault = 'outage';
      const pb = demoPlaybook(dev.demo.url, { ...playbook(dev.demo.url), name: 'parity-am' });
      const deadline = Date.now() + 60_000;
      let alerts: Alert[] = [];
      while (Date.now() < deadline && alerts.length === 0) {
        alerts = await fetchAlertmanagerAlerts(stack.alertmanagerUrl);
        if (alerts.length === 0) await new Promise((r) => setTimeout(r, 500));
      }
      expect(alerts.map((a) => [a.alertname, a.labels.service, a.status])).toEqual([['DemoServiceDown', 'demo', 'firing']]);
      const r = await simulate(alerts, { playbooks: [pb], actuator: dryRunActuator() });
      expect(r.incidents[0]!.sequence).toEqual([{ step: 0, result: 'healed' }]);
      expect(dev.demo.state.fault).toBe('outage');
    } finally {
      dev.demo.state.fault = 'none';
      await stack?.stop();
    }
  });
});
