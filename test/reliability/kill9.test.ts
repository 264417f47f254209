// kill -9 of the worker process at random points in each phase (decide, act, verify, waiting for
// approval), many times over, on one long-lived Temporal dev server: after every kill a new worker
// process takes over. Every incident must reach a terminal status (0 lost) and no action may be
// applied twice, counted at the target (the demo service counts applications per Idempotency-Key).
// MEDIC_KILLS_PER_PHASE (default 5) sets the number of kills aimed at each phase.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signedUpdates } from '../support/identity.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDemoService, type DemoService } from '../../dev/demo-service.js';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { statusQuery, timelineQuery, type IncidentStatus } from '../../workflows/contracts.js';
import { firingAlert, healthyAgain, remediateStep, silentLog } from '../support/fixtures.js';
import { devServerEnv, uniqueQueue } from '../support/temporal.js';
import { playbookDir, privateBundle } from '../support/worker-process.js';
import { PHASES, phaseAt, type Phase } from './phases.js';
import { recordRows } from './exactly-once-table.js';
import { crashPlaybook, lastAttempt, warmWorkers } from './crash-harness.js';

const KILLS_PER_PHASE = Number(process.env.MEDIC_KILLS_PER_PHASE ?? 5);
const SPARES = 2; // workers loading in the background (module loading takes seconds of CPU)
const ACTION_DELAY_MS = 2_000; // how long /remediate takes for act-phase runs: the kill lands inside it

let env: TestWorkflowEnvironment;
const taskQueue = uniqueQueue('kill9');
const demos: DemoService[] = [];
let stopWorkers: () => Promise<void> = async () => undefined;

interface Run {
  aimed: Phase;
  demo: DemoService;
  workflowId: string;
}
interface Kill {
  at: number;
  run: Run;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const random = (max: number) => Math.floor(Math.random() * max);

/** One per run: each run has its own demo service (a template may not choose the host). */
function playbook(name: string, alertname: string, approval: boolean, demoUrl: string): Playbook {
  return crashPlaybook({
    name,
    match: { alertname },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    steps: [
      remediateStep(demoUrl, {
        params: { method: 'POST', url: `${demoUrl}/remediate`, expectStatus: [200] },
        timeout: '5s',
        retries: 20,
        ...(approval ? { requiresApproval: true, approvers: ['alice'], approvalTimeout: '30m' } : {}),
        verification: healthyAgain(demoUrl, '3s', '5m'),
      }),
    ],
  });
}

interface Prepared {
  aimed: Phase;
  demo: DemoService;
  pb: Playbook;
}

/** Each run's demo service and playbook exist before any worker starts: a worker process loads its
 * playbooks at start and runs no others (src/playbooks/registry.ts). */
async function prepare(aimed: Phase, i: number): Promise<Prepared> {
  const demo = await startDemoService(0, { remediateDelayMs: aimed === 'act' ? ACTION_DELAY_MS : 100 });
  demo.state.fault = 'outage';
  demos.push(demo);
  const pb = aimed === 'approval' ? playbook(`kill9-guarded-${i}`, `Kill9Guarded${i}`, true, demo.url) : playbook(`kill9-plain-${i}`, `Kill9Plain${i}`, false, demo.url);
  return { aimed, demo, pb };
}

async function open({ aimed, demo, pb }: Prepared): Promise<Run> {
  const alert = firingAlert({ alertname: String(pb.match.alertname) });
  const r = await ingestAlerts({ client: env.client, taskQueue, playbooks: () => [pb], log: silentLog }, [alert]);
  return { aimed, demo, workflowId: r.incidents[0]!.workflowId };
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const status = (id: string) => env.client.workflow.getHandle(id).query(statusQuery);

/** Drives the run into its phase, then waits a random part of that phase. */
async function reach(run: Run): Promise<void> {
  const handle = env.client.workflow.getHandle(run.workflowId);
  switch (run.aimed) {
    case 'decide': // the first workflow task runs the gates (a governor round trip)
      await until(async () => (await handle.fetchHistory()).events?.some((e) => e.workflowTaskStartedEventAttributes) ?? false, 'the first workflow task');
      return sleep(random(60));
    case 'act': // the request is at the target, its answer not yet sent
      await until(() => Object.keys(run.demo.state.requests).length > 0, 'the action to reach the target');
      return sleep(random(ACTION_DELAY_MS - 500));
    case 'verify':
      await until(async () => (await status(run.workflowId)).status === 'verifying', 'verification');
      return sleep(random(2_500));
    case 'approval':
      await until(async () => (await status(run.workflowId)).status === 'awaiting_approval', 'the approval request');
      return sleep(random(1_000));
  }
}

beforeAll(async () => {
  privateBundle(); // copied now, before anything else can re-bundle
  env = await devServerEnv();
});
afterAll(async () => {
  await stopWorkers();
  await Promise.all(demos.map((d) => d.close()));
  await env?.teardown();
});

it(`kill -9 at random points of each phase (${KILLS_PER_PHASE * PHASES.length} kills): 0 incidents lost, 0 actions applied twice`, async () => {
  const started = Date.now();
  const schedule = Array.from({ length: KILLS_PER_PHASE }, () => [...PHASES].sort(() => Math.random() - 0.5)).flat();
  const prepared = await Promise.all(schedule.map((aimed, i) => prepare(aimed, i)));
  const workers = await warmWorkers({ env, taskQueue, spares: SPARES, workerEnv: { MEDIC_PLAYBOOKS: playbookDir(prepared.map((p) => p.pb)) } });
  stopWorkers = () => workers.stop();

  const runs: Run[] = [];
  const kills: Kill[] = [];
  const approvals: Promise<unknown>[] = [];
  for (const next of prepared) {
    const aimed = next.aimed;
    const t0 = Date.now();
    const run = await open(next);
    runs.push(run);
    await reach(run);
    const at = Date.now();
    await workers.kill();
    kills.push({ at, run });
    const t2 = Date.now();
    await workers.takeOver();
    if (process.env.MEDIC_KILL9_TRACE) console.log(`${aimed}: reached in ${at - t0} ms; next worker polling ${Date.now() - t2} ms after the kill`);
    if (aimed === 'approval') {
      // Approved through the new worker; the Update waits if that worker is killed first.
      approvals.push(signedUpdates(env.client).decide(run.workflowId, { decision: 'approve', user: 'alice' }));
    }
  }
  const killing = (Date.now() - started) / 1000;

  await Promise.all(approvals);
  const finals = await Promise.all(
    runs.map((r) =>
      Promise.race([
        env.client.workflow.getHandle(r.workflowId).result() as Promise<IncidentStatus>,
        sleep(180_000).then(() => undefined),
      ]),
    ),
  );
  await workers.stopSpares();
  const lost = runs.filter((_, i) => !finals[i] || !['resolved', 'escalated'].includes(finals[i]!.status));
  const applied = runs.flatMap((r) => Object.values(r.demo.state.applied));
  const duplicated = applied.filter((n) => n > 1).length;
  const retried = runs.filter((r) => Object.values(r.demo.state.requests).some((n) => n > 1)).length;

  // The phase each kill really hit, read from the incident's timeline.
  const perPhase: Record<string, number> = Object.fromEntries([...PHASES, 'between phases'].map((p) => [p, 0]));
  for (const k of kills) {
    const handle = env.client.workflow.getHandle(k.run.workflowId);
    const timeline = await handle.query(timelineQuery);
    // Deciding starts with the first workflow task; a kill inside it leaves no timeline entry.
    const first = (await handle.fetchHistory()).events?.find((e) => e.workflowTaskStartedEventAttributes)?.eventTime;
    const deciding = first ? Number(first.seconds) * 1000 + Math.floor((first.nanos ?? 0) / 1e6) : undefined;
    perPhase[phaseAt(timeline, k.at, deciding) ?? 'between phases']! += 1;
  }
  const total = (Date.now() - started) / 1000;
  console.log(
    [
      'kill -9 reliability figures',
      `  incidents run        ${runs.length} (resolved ${finals.filter((f) => f?.status === 'resolved').length}, escalated ${finals.filter((f) => f?.status === 'escalated').length})`,
      `  kills                ${kills.length} (worker processes started: ${kills.length + 1 + SPARES})`,
      `  kills per phase      ${Object.entries(perPhase).map(([p, n]) => `${p} ${n}`).join(', ')}`,
      `  incidents lost       ${lost.length}`,
      `  actions applied      ${applied.length}; applied twice: ${duplicated}; retried at the target after a kill: ${retried}`,
      `  wall time            ${killing.toFixed(0)} s killing, ${total.toFixed(0)} s in all`,
    ].join('\n'),
  );

  expect(kills.length).toBeGreaterThanOrEqual(20);
  for (const p of PHASES) expect(perPhase[p], `kills that landed in ${p}`).toBeGreaterThanOrEqual(Math.min(3, KILLS_PER_PHASE));
  expect(lost.map((r) => r.workflowId)).toEqual([]);
  expect(finals.map((f) => f?.status)).toEqual(runs.map(() => 'resolved'));
  expect(duplicated).toBe(0);
  // Every incident acted exactly once (one idempotency key, applied once) and healed its target.
  for (const r of runs) expect(Object.values(r.demo.state.applied)).toEqual([1]);
  // A kill with the request in flight at the target made the next worker send it again (same key):
  // the re-sends happened, and the target answered them from its idempotency record.
  const actRuns = runs.filter((r) => r.aimed === 'act');
  for (const r of actRuns) expect(Object.values(r.demo.state.requests)[0], `requests at the target of ${r.workflowId}`).toBeGreaterThanOrEqual(2);
  const attempts = await Promise.all(actRuns.map((r) => lastAttempt(env, r.workflowId, 'httpAction')));
  for (const a of attempts) expect(a, 'the action activity ran again after the kill').toBeGreaterThanOrEqual(2);
  expect(retried).toBeGreaterThanOrEqual(actRuns.length);
  console.log(
    recordRows(
      'http',
      actRuns.map((r, i) => {
        const sent = Object.values(r.demo.state.requests).reduce((a, b) => a + b, 0);
        return {
          actuator: 'http (demo service)',
          point: 'request in flight at the target',
          sent,
          applied: Object.values(r.demo.state.applied).reduce((a, b) => a + b, 0),
          resent: sent - 1,
          attempts: attempts[i]!,
          status: finals[runs.indexOf(r)]?.status ?? 'not ended',
          lost: lost.includes(r) ? 1 : 0,
        };
      }),
    ),
  );
}, 600_000);
