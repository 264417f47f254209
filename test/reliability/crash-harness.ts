// Crash points for every actuator: each case opens one incident whose action goes through a
// holding proxy in front of the real target; at the case's point (request held before the target,
// answer held after the target applied it, or answer just delivered) the medic worker process is
// killed with SIGKILL and a warm spare takes over. Cases are killed in waves on one Temporal dev
// server: a wave holds several cases at points that stay held (before the target, answer held)
// and then at most one at `answer-delivered`, fired last so the kill still follows its answer at
// once; one kill interrupts them all (a worker start costs seconds of CPU, so one per case made
// these the slowest files of the suite). A held case whose activity went back to the target before
// the kill (its own timeout, not the kill) fails the run: the waves must stay shorter than the
// steps' timeouts. Incidents finish in the background (a killed attempt is retried only once its
// timeout has passed). Then, per case: effect requests sent, applications counted at the target,
// requests the retried activity made after the kill, its last attempt, and the final status.
import { expect } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Alert } from '../../src/intake/schemas.js';
import type { Playbook } from '../../src/playbooks/schema.js';
import { statusQuery, type IncidentStatus } from '../../workflows/contracts.js';
import type { Exchange, HoldingProxy, HoldPoint } from '../support/crash-proxy.js';
import { silentLog } from '../support/fixtures.js';
import { devServerEnv, uniqueQueue } from '../support/temporal.js';
import { playbookDir, privateBundle, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { recordRows, type ExactlyOnceRow } from './exactly-once-table.js';

export interface CrashContext {
  /** Sends an alert through the intake; resolves with the incident's workflow id. */
  fire(alert: Alert): Promise<string>;
  /** Arms the hold on the case's effect request at the case's point. */
  arm(): Promise<Exchange>;
  /** Waits until the incident's status matches. */
  until(workflowId: string, ok: (s: IncidentStatus) => boolean, what: string): Promise<void>;
}

/** What a case's effect goes through: the holding proxy in front of an HTTP target, or another
 * recorder of what reaches the target that can hold it there (e.g. ansible runs logged on hosts). */
export type CrashTarget = Pick<HoldingProxy, 'exchanges' | 'hold' | 'drop'>;

export interface CrashCase {
  actuator: string;
  point: HoldPoint;
  playbook: Playbook;
  proxy: CrashTarget;
  /** The request that changes the target: what is held, and counted as sent. */
  effect: (e: Exchange) => boolean;
  /** Any request of this case at the target (reads included). */
  touches: (e: Exchange) => boolean;
  /** The activity type that sends the effect. */
  activity: string;
  /** Opens the incident; arms the hold before the effect can be sent. Default: arm, then fire `alert`. */
  start?: (ctx: CrashContext) => Promise<{ workflowId: string; held: Promise<Exchange> }>;
  alert?: Alert;
  /** Runs right after the kill, before the next worker takes over (e.g. a human's change). */
  afterKill?: () => Promise<void>;
  /** The crash point as the table shows it (default: the point). */
  label?: string;
  /** Applications of the effect, counted at the target. */
  applied: () => Promise<number>;
  expected: 'resolved' | 'escalated';
}

export interface CrashHarness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Runs the cases, asserts exactly-once for each, records and prints the table. */
  run(part: string, cases: CrashCase[]): Promise<ExactlyOnceRow[]>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The cases in kill waves: as many waves as `answer-delivered` cases (at least one), each with at
 * most one of those and its share of the others, in the cases' order. */
export function waves(cases: CrashCase[]): CrashCase[][] {
  const delivered = cases.filter((c) => c.point === 'answer-delivered');
  const staying = cases.filter((c) => c.point !== 'answer-delivered');
  const n = Math.max(1, delivered.length);
  const out: CrashCase[][] = Array.from({ length: n }, (_, i) => (delivered[i] ? [delivered[i]] : []));
  staying.forEach((c, i) => out[Math.floor((i * n) / staying.length)]!.unshift(c));
  return out.filter((w) => w.length > 0);
}

/** The highest attempt of the named activity in the incident's history (1 = never retried). */
export async function lastAttempt(env: TestWorkflowEnvironment, workflowId: string, activity: string): Promise<number> {
  const { events } = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Set((events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => String(e.eventId)));
  const attempts = (events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  return Math.max(0, ...attempts);
}

/** A Temporal dev server and worker processes configured by `workerEnv` (targets behind proxies). */
export async function startCrashHarness(workerEnv: () => Record<string, string>): Promise<CrashHarness> {
  privateBundle(); // copied now, before another vitest run can re-bundle
  const env = await devServerEnv();
  const taskQueue = uniqueQueue('crash');
  const workers: WorkerProcess[] = [];

  let lastRunWorker: WorkerProcess | undefined;

  async function run(part: string, all: CrashCase[]): Promise<ExactlyOnceRow[]> {
    // A second run on the same task queue is served only by workers that know its playbooks and
    // that its kills interrupt: the earlier run's worker goes first.
    await lastRunWorker?.kill();
    lastRunWorker = undefined;
    // MEDIC_CRASH_ONLY=restart,drain narrows a run to those actuators (while debugging one).
    const only = process.env.MEDIC_CRASH_ONLY?.split(',').filter(Boolean);
    const cases = only ? all.filter((c) => only.some((o) => c.actuator.includes(o))) : all;
    const playbooks = playbookDir(cases.map((c) => c.playbook));
    const spawn = (): WorkerProcess => {
      // A short sticky timeout: after a kill, the next workflow task waits this long for the dead
      // worker's sticky queue (production default 5 s).
      const w = startWorkerProcess({ client: env.client, address: env.address, taskQueue, held: true, env: { MEDIC_TEMPORAL_STICKY_TIMEOUT_MS: '2000', MEDIC_PLAYBOOKS: playbooks, ...workerEnv() } });
      workers.push(w);
      return w;
    };
    let current = spawn();
    current.run();
    await current.ready();
    let spare = spawn();
    const fire = async (alert: Alert): Promise<string> => {
      const r = await ingestAlerts({ client: env.client, taskQueue, playbooks: () => cases.map((c) => c.playbook), log: silentLog }, [alert]);
      const id = r.incidents[0]?.workflowId;
      if (!id) throw new Error(`the intake opened no incident for ${alert.alertname}`);
      return id;
    };
    const until = async (workflowId: string, ok: (s: IncidentStatus) => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const s = await env.client.workflow.getHandle(workflowId).query(statusQuery).catch(() => undefined);
        if (s && ok(s)) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (status ${s?.status})`);
        await sleep(100);
      }
    };

    const started: { c: CrashCase; workflowId: string; afterKill: number; beforeKill: number }[] = [];
    const touching = (c: CrashCase): number => c.proxy.exchanges.filter(c.touches).length;
    const open = async (c: CrashCase): Promise<{ c: CrashCase; workflowId: string; touched: number }> => {
      const ctx: CrashContext = { fire, until, arm: () => c.proxy.hold(c.effect, c.point) };
      const { workflowId, held } = c.start
        ? await c.start(ctx)
        : await (async () => {
            const h = ctx.arm();
            return { workflowId: await fire(c.alert!), held: h };
          })();
      await within(held, 120_000, `${c.actuator}: the request to hold (${c.point})`);
      return { c, workflowId, touched: touching(c) };
    };
    for (const wave of waves(cases)) {
      const staying = wave.filter((c) => c.point !== 'answer-delivered');
      const opened = await Promise.all(staying.map(open));
      const delivered = wave.find((c) => c.point === 'answer-delivered');
      if (delivered) opened.push(await open(delivered));
      // The cases held until now: nothing of theirs reached the target since their hold (no retry
      // before the kill), so what follows is the kill's doing.
      const beforeKill = new Map(opened.map((o) => [o.c, touching(o.c) - o.touched]));
      await current.kill();
      for (const o of opened) {
        const afterKill = o.c.proxy.exchanges.length;
        o.c.proxy.drop();
        started.push({ c: o.c, workflowId: o.workflowId, afterKill, beforeKill: o.c.point === 'answer-delivered' ? 0 : beforeKill.get(o.c)! });
      }
      for (const o of opened) await o.c.afterKill?.();
      current = spare;
      await current.loaded;
      current.run();
      await current.ready();
      spare = spawn();
    }

    started.sort((x, y) => cases.indexOf(x.c) - cases.indexOf(y.c)); // the table in the cases' order
    const rows: ExactlyOnceRow[] = [];
    for (const { c, workflowId, afterKill, beforeKill } of started) {
      expect(beforeKill, `${c.actuator} at ${c.point}: requests at the target between the hold and the kill (the wave outlasted the step's timeout)`).toBe(0);
      const final = await within(env.client.workflow.getHandle(workflowId).result() as Promise<IncidentStatus>, 300_000, `${c.actuator} (${c.point}) to end`).catch(
        () => undefined,
      );
      rows.push({
        actuator: c.actuator,
        point: c.label ?? c.point,
        sent: c.proxy.exchanges.filter(c.effect).length,
        applied: await c.applied(),
        resent: c.proxy.exchanges.slice(afterKill).filter(c.touches).length,
        attempts: await lastAttempt(env, workflowId, c.activity),
        status: final?.status ?? 'not ended',
        lost: final?.status === c.expected ? 0 : 1,
      });
    }
    await spare.kill();
    // This run's worker stays up for the test's queries of its ended incidents (a query of a closed
    // workflow still needs a worker); the next run on this harness stops it first (see below).
    lastRunWorker = current;
    const table = recordRows(part, rows);
    console.log(table);

    for (const r of rows) {
      const what = `${r.actuator} at ${r.point}`;
      expect(r.lost, `${what}: incident ended ${r.status}`).toBe(0);
      expect(r.applied, `${what}: applications counted at the target`).toBe(1);
      // The kill interrupted the activity: it ran again and went back to the target.
      if (r.point !== 'answer-delivered' || r.attempts > 1) {
        expect(r.attempts, `${what}: the activity's last attempt`).toBeGreaterThanOrEqual(2);
        expect(r.resent, `${what}: requests at the target after the kill`).toBeGreaterThanOrEqual(1);
      }
    }
    return rows;
  }

  return {
    env,
    taskQueue,
    run,
    async close() {
      await Promise.all(workers.map((w) => w.kill()));
      await env.teardown();
    },
  };
}
