// Crash points for every actuator: each case opens one incident whose action goes through a
// holding proxy in front of the real target; at the case's point (request held before the target,
// answer held after the target applied it, or answer just delivered) the medic worker process is
// killed with SIGKILL and a warm spare takes over. All cases of a run (several parts of the table
// at once) are killed by ONE kill on one Temporal dev server: every case is held at its point
// first — the `answer-delivered` ones with their answers held too — then those answers are handed
// over together and the kill follows at once, so each lands between "answer received" and
// "activity completed" (a worker start costs seconds of CPU: one per case, or per wave, made these
// the slowest files of the suite). A held case whose activity went back to the target before the
// kill (its own timeout, not the kill) fails the run: holding every case must take less than the
// steps' timeouts. Incidents finish in the background (a killed attempt is retried only once its
// timeout has passed). Then, per case: effect requests sent, applications counted at the target,
// requests the retried activity made after the kill, its last attempt, and the final status.
import { expect } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ingestAlerts } from '../../src/intake/ingest.js';
import type { Alert } from '../../src/intake/schemas.js';
import { PlaybookSchema, type Playbook, type PlaybookInput } from '../../src/playbooks/schema.js';
import { statusQuery, type IncidentStatus } from '../../workflows/contracts.js';
import type { Exchange, HoldingProxy, HoldPoint } from '../support/crash-proxy.js';
import { silentLog } from '../support/fixtures.js';
import { devServerEnv, uniqueQueue } from '../support/temporal.js';
import { playbookDir, privateBundle, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { recordRows, type ExactlyOnceRow } from './exactly-once-table.js';

/** Rate and concurrency gates are not under test in these files: many incidents act at once. */
export const CRASH_LIMITS = { maxActionsPerHourGlobal: 1000, maxConcurrentGlobal: 100, maxActionsPerHourPerTarget: 100, maxTargetsPerWindow: { targets: 1000, window: '1h' } };

/** A crash test's playbook: grouped by alertname unless said otherwise, with CRASH_LIMITS. */
export function crashPlaybook(p: Omit<PlaybookInput, 'groupBy' | 'limits'> & Partial<Pick<PlaybookInput, 'groupBy'>>): Playbook {
  return PlaybookSchema.parse({ groupBy: ['alertname'], limits: CRASH_LIMITS, ...p });
}

/** Medic worker processes on one task queue: one polling, `spares` loaded and held (module loading
 * takes seconds of CPU), so a kill -9 is followed by a takeover in well under a second. */
export interface WarmWorkers {
  /** kill -9 of the polling worker; resolves once the process is gone. */
  kill(): Promise<void>;
  /** A spare polls in the killed worker's place (ready: listed as a poller); another starts loading. */
  takeOver(): Promise<void>;
  /** Kills the spares; the polling worker stays up (a query of a closed workflow needs a worker). */
  stopSpares(): Promise<void>;
  stop(): Promise<void>;
}

export async function warmWorkers(o: { env: TestWorkflowEnvironment; taskQueue: string; spares: number; workerEnv: Record<string, string> }): Promise<WarmWorkers> {
  const all: WorkerProcess[] = [];
  const spawn = (): WorkerProcess => {
    // A short sticky timeout: after a kill, the next workflow task waits this long for the dead
    // worker's sticky queue (production default 5 s) — recovery time is not what is measured here.
    const w = startWorkerProcess({ client: o.env.client, address: o.env.address, taskQueue: o.taskQueue, held: true, env: { MEDIC_TEMPORAL_STICKY_TIMEOUT_MS: '2000', ...o.workerEnv } });
    all.push(w);
    return w;
  };
  let current = spawn();
  current.run();
  await current.ready();
  // Loading while the first one is driven to its kill point (not beside it: on a loaded machine
  // three starts at once kept the first from polling within its 90 s).
  const spares = Array.from({ length: o.spares }, spawn);
  return {
    kill: () => current.kill(),
    async takeOver() {
      current = spares.shift()!;
      spares.push(spawn());
      await current.loaded;
      current.run();
      await current.ready();
    },
    stopSpares: async () => void (await Promise.all(spares.map((w) => w.kill()))),
    stop: async () => void (await Promise.all(all.map((w) => w.kill()))),
  };
}

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
export type CrashTarget = Pick<HoldingProxy, 'exchanges' | 'hold' | 'deliver' | 'drop'>;

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

/** A case's row, and how often its target was touched between its hold and the kill. */
export type CrashRow = ExactlyOnceRow & { beforeKill: number };

export interface CrashHarness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Runs the cases, asserts exactly-once for each, records and prints the table. */
  run(part: string, cases: CrashCase[]): Promise<ExactlyOnceRow[]>;
  /** Runs the cases of several parts under one kill, records each part; asserts nothing (see
   * assertExactlyOnce). */
  runParts(parts: Record<string, CrashCase[]>): Promise<Record<string, CrashRow[]>>;
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

/** The highest attempt of the named activity in the incident's history (1 = never retried). */
export async function lastAttempt(env: TestWorkflowEnvironment, workflowId: string, activity: string): Promise<number> {
  const { events } = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Set((events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => String(e.eventId)));
  const attempts = (events ?? [])
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  return Math.max(0, ...attempts);
}

/** Exactly once per row: nothing retried before the kill, the incident ended as expected, the
 * effect applied once at the target, and the killed activity ran again and went back to it. */
export function assertExactlyOnce(rows: CrashRow[]): void {
  expect(rows.length, 'crash points run').toBeGreaterThan(0);
  for (const r of rows) {
    const what = `${r.actuator} at ${r.point}`;
    expect(r.beforeKill, `${what}: requests at the target between the hold and the kill (holding outlasted the step's timeout)`).toBe(0);
    expect(r.lost, `${what}: incident ended ${r.status}`).toBe(0);
    expect(r.applied, `${what}: applications counted at the target`).toBe(1);
    // The kill interrupted the activity: it ran again and went back to the target.
    if (!r.point.startsWith('answer-delivered') || r.attempts > 1) {
      expect(r.attempts, `${what}: the activity's last attempt`).toBeGreaterThanOrEqual(2);
      expect(r.resent, `${what}: requests at the target after the kill`).toBeGreaterThanOrEqual(1);
    }
  }
}

/** A Temporal dev server and worker processes configured by `workerEnv` (targets behind proxies). */
export async function startCrashHarness(workerEnv: () => Record<string, string>): Promise<CrashHarness> {
  privateBundle(); // copied now, before another vitest run can re-bundle
  const env = await devServerEnv();
  const taskQueue = uniqueQueue('crash');
  const generations: WarmWorkers[] = [];

  let lastRun: WarmWorkers | undefined;

  async function runParts(parts: Record<string, CrashCase[]>): Promise<Record<string, CrashRow[]>> {
    // A second run on the same task queue is served only by workers that know its playbooks and
    // that its kill interrupts: the earlier run's worker goes first.
    await lastRun?.stop();
    lastRun = undefined;
    // MEDIC_CRASH_ONLY=restart,drain narrows a run to those actuators (while debugging one).
    const only = process.env.MEDIC_CRASH_ONLY?.split(',').filter(Boolean);
    const cases = Object.values(parts)
      .flat()
      .filter((c) => !only || only.some((o) => c.actuator.includes(o)));
    const t0 = Date.now();
    // MEDIC_CRASH_TRACE=1 prints when each stage was reached (where the time goes).
    const trace = (what: string): void => void (process.env.MEDIC_CRASH_TRACE && console.log(`${Object.keys(parts).join('+')} ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`));
    const workers = await warmWorkers({ env, taskQueue, spares: 1, workerEnv: { MEDIC_PLAYBOOKS: playbookDir(cases.map((c) => c.playbook)), ...workerEnv() } });
    generations.push(workers);
    trace('first worker polling');
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

    const touching = (c: CrashCase): number => c.proxy.exchanges.filter(c.touches).length;
    const open = async (c: CrashCase) => {
      // An answer-delivered case is held with its answer until every case is held (see below).
      const point = c.point === 'answer-delivered' ? 'answer-held' : c.point;
      const ctx: CrashContext = { fire, until, arm: () => c.proxy.hold(c.effect, point) };
      const { workflowId, held } = c.start
        ? await c.start(ctx)
        : await (async () => {
            const h = ctx.arm();
            return { workflowId: await fire(c.alert!), held: h };
          })();
      const exchange = await within(held, 120_000, `${c.actuator}: the request to hold (${c.point})`);
      return { c, workflowId, exchange, touched: touching(c) };
    };
    const opened = await Promise.all(cases.map(open));
    trace(`${opened.length} cases held`);
    // The cases held until now: nothing of theirs reached the target since their hold (no retry
    // before the kill), so what follows is the kill's doing.
    const beforeKill = new Map(opened.map((o) => [o.c, touching(o.c) - o.touched]));
    // The held answers of the answer-delivered cases go out together; the kill follows at once.
    await Promise.all(opened.filter((o) => o.c.point === 'answer-delivered').map((o) => o.c.proxy.deliver(o.exchange)));
    await workers.kill();
    const afterKill = new Map(opened.map((o) => [o.c, o.c.proxy.exchanges.length]));
    for (const o of opened) o.c.proxy.drop();
    for (const o of opened) await o.c.afterKill?.();
    trace('killed');
    await workers.takeOver();
    trace('the spare polling');

    const rows = new Map<CrashCase, CrashRow>();
    for (const { c, workflowId } of opened) {
      const final = await within(env.client.workflow.getHandle(workflowId).result() as Promise<IncidentStatus>, 300_000, `${c.actuator} (${c.point}) to end`).catch(
        () => undefined,
      );
      rows.set(c, {
        actuator: c.actuator,
        point: c.label ?? c.point,
        sent: c.proxy.exchanges.filter(c.effect).length,
        applied: await c.applied(),
        resent: c.proxy.exchanges.slice(afterKill.get(c)).filter(c.touches).length,
        attempts: await lastAttempt(env, workflowId, c.activity),
        status: final?.status ?? 'not ended',
        lost: final?.status === c.expected ? 0 : 1,
        beforeKill: c.point === 'answer-delivered' ? 0 : beforeKill.get(c)!,
      });
      trace(`${c.actuator} at ${c.point}: ${final?.status ?? 'not ended'}`);
    }
    await workers.stopSpares();
    // This run's worker stays up for the test's queries of its ended incidents; the next run on
    // this harness stops it first (above).
    lastRun = workers;
    const out: Record<string, CrashRow[]> = {};
    for (const [part, partCases] of Object.entries(parts)) {
      out[part] = partCases.flatMap((c) => rows.get(c) ?? []); // the table in the cases' order
      console.log(recordRows(part, out[part].map(({ beforeKill: _, ...row }) => row)));
    }
    return out;
  }

  return {
    env,
    taskQueue,
    runParts,
    async run(part, cases) {
      const rows = (await runParts({ [part]: cases }))[part]!;
      assertExactlyOnce(rows);
      return rows;
    },
    async close() {
      await Promise.all(generations.map((g) => g.stop()));
      await env.teardown();
    },
  };
}
