// npm run bench:capacity — CAPACITY_N (default 10,000) open incidents waiting for approval across
// CAPACITY_WORKERS (default 2) medic worker PROCESSES (src/worker.ts, the production entry point, as
// child processes on one task queue), then every one approved through the path a Slack click takes
// (the signed decide Update) and resolved. Prints progress, then one table: time to open all, each
// worker's RSS (idle, with all incidents waiting, peak; read from /proc), time to drain, actions
// applied and lost; writes bench/results/capacity.json. Goal: each worker's RSS < 1 GiB.
// CAPACITY_MAX_CACHED sets MEDIC_TEMPORAL_MAX_CACHED_WORKFLOWS for the workers (default: config's);
// CAPACITY_CONCURRENCY the alerts and approvals in flight at once (default 8); CAPACITY_WORKER_HEAP_MB
// each worker's --max-old-space-size (default 768).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { startDemoService } from '../dev/demo-service.js';
import { ingestAlerts } from '../src/intake/ingest.js';
import { PlaybookSchema } from '../src/playbooks/schema.js';
import { WORKFLOWS_PATH } from '../src/temporal/worker.js';
import { startBenchTemporal } from './lib/temporal.js';
import { LATENCY_DYNAMIC_CONFIG } from '../dev/temporal-dynamic-config.js';
import { machineNow, peakRss, rssOf, runBench, sleep } from './lib/process.js';
import { writeBenchResult } from './lib/readme.js';
import type { CapacityResult } from './lib/results.js';
import { decideUpdate, statusQuery } from '../workflows/contracts.js';
import { signIdentity } from '../src/identity/sign.js';

/** Shared with the worker processes (MEDIC_IDENTITY_KEY): approvals are signed with it. */
const IDENTITY_KEY_TEXT = randomBytes(24).toString('hex');
const IDENTITY_KEY = Buffer.from(IDENTITY_KEY_TEXT, 'utf8');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.CAPACITY_N ?? 10_000);
const WORKERS = Number(process.env.CAPACITY_WORKERS ?? 2);
const CONCURRENCY = Number(process.env.CAPACITY_CONCURRENCY ?? 8); // alerts (then approvals) in flight at once
const MAX_CACHED = process.env.CAPACITY_MAX_CACHED;
const STICKY_MS = process.env.CAPACITY_STICKY_MS;
/** Each worker's V8 old-space limit (MiB): V8 grows its heap lazily up to the limit (about 4 GiB by
 * default here), so this, not live data, bounds RSS; the SDK also sizes its default cache from it. */
const HEAP_MB = process.env.CAPACITY_WORKER_HEAP_MB ?? '768';
/** A run still going after CAPACITY_DEADLINE_MINUTES (default 60) stops and writes how far it got. */
const DEADLINE_MS = Number(process.env.CAPACITY_DEADLINE_MINUTES ?? 60) * 60_000;
const taskQueue = 'bench-capacity';
/** Goal: each worker's resident memory below this. */
const GOAL_RSS_MIB = 1024;
const MiB = 1024 ** 2;
const mib = (b: number): number => Math.round(b / MiB);

async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const before = machineNow();
  console.log('capacity: starting Temporal, bundling workflows…');
  const { temporal, connection, client, dir, bundlePath } = await startBenchTemporal(ROOT, 'capacity', WORKFLOWS_PATH);
  const target = await startDemoService(0);

  const playbook = PlaybookSchema.parse({
    name: 'capacity',
    match: { alertname: 'CapacityAlert' },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    // Thousands of targets at once: the cross-incident limits are not what is measured.
    limits: { maxActionsPerHourGlobal: 100_000, maxConcurrentGlobal: 10_000, maxTargetsPerWindow: { targets: 100_000, window: '1h' } },
    steps: [
      {
        name: 'restart',
        action: 'http',
        params: { method: 'POST', url: `${target.url}/remediate`, expectStatus: [200] },
        requiresApproval: true,
        approvers: ['alice'],
        approvalTimeout: '4h',
      },
    ],
  });
  // The workers run only playbooks they loaded themselves: they load this one from its file.
  await writeFile(join(dir, 'capacity.yaml'), JSON.stringify(playbook));
  const spawnWorker = (): ChildProcess =>
    spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', join(ROOT, 'src/worker.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        MEDIC_TEMPORAL_ADDRESS: temporal.address,
        MEDIC_TEMPORAL_TASK_QUEUE: taskQueue,
        MEDIC_WORKFLOW_BUNDLE: bundlePath,
        MEDIC_LOG_LEVEL: 'error',
        MEDIC_IDENTITY_KEY: IDENTITY_KEY_TEXT,
        MEDIC_PLAYBOOKS: join(dir, 'capacity.yaml'),
        ...(MAX_CACHED ? { MEDIC_TEMPORAL_MAX_CACHED_WORKFLOWS: MAX_CACHED } : {}),
        ...(STICKY_MS ? { MEDIC_TEMPORAL_STICKY_TIMEOUT_MS: STICKY_MS } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  const workers = Array.from({ length: WORKERS }, spawnWorker);
  const pids = workers.map((w) => w.pid!);
  const names = pids.map((_, i) => `worker${i + 1}`);
  const rss = peakRss(Object.fromEntries(names.map((n, i) => [n, pids[i]!])));
  const rssNow = async (): Promise<number[]> => Promise.all(pids.map((p) => rssOf(p).catch(() => 0)));
  /** How far the run got, for the results file of a run that failed or ran out of time. */
  let where = (): string => 'while starting the workers';
  let done = 0;
  const settings = {
    workerProcesses: WORKERS,
    alertsInFlight: CONCURRENCY,
    maxCachedWorkflows: MAX_CACHED ?? 'config default 250',
    stickyTimeoutMs: STICKY_MS ?? 'config default 5000',
    maxConcurrentLocalActivities: process.env.MEDIC_TEMPORAL_MAX_LOCAL_ACTIVITIES ?? 'config default 8',
    workerMaxOldSpaceMb: Number(HEAP_MB),
    temporal: `${temporal.engine === 'server' ? 'temporal-server on PostgreSQL' : 'dev server in memory'}, dynamic config ${Object.entries(LATENCY_DYNAMIC_CONFIG).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`,
  };
  const base = () => ({ date: new Date().toISOString(), machine: { cores: before.cores, cpu: before.cpu, loadBefore: before.load, loadAfter: machineNow().load }, settings, incidents: N, workerProcesses: WORKERS });
  const rssLine = async (): Promise<string> => (await rssNow()).map((b, i) => `${names[i]} ${mib(b)} MiB`).join(', ');
  try {
    // Ready = the server lists every worker as a poller.
    for (let i = 0; ; i++) {
      const r = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
      const polling = new Set((r.pollers ?? []).map((p) => p.identity));
      if (pids.every((pid) => polling.has(`${pid}@${hostname()}`))) break;
      if (workers.some((w) => w.exitCode !== null) || i > 900) throw new Error('a worker did not start');
      await sleep(100);
    }
    await sleep(2_000);
    const idle = await rssNow();

    const deps = { client, taskQueue, playbooks: () => [playbook], log: pino({ level: 'silent' }), temporalDeadlineMs: 10_000 };
    let retries = 0;
    /** Like Alertmanager (and Slack, for a click), a call an overloaded server failed — deadline
     * exceeded, even 'namespace not found' — is made again, for up to a minute. */
    const resending = async <T>(call: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await call();
        } catch (err) {
          if (attempt >= 60) throw err;
          retries += 1;
          await sleep(1_000);
        }
      }
    };
    const ids: string[] = [];
    const t0 = Date.now();
    const deadline = Date.now() + DEADLINE_MS;
    const checkDeadline = (): void => {
      if (Date.now() >= deadline) throw new Error(`deadline (${DEADLINE_MS / 60_000} min) passed`);
    };
    const secs = (t: number): string => `${((Date.now() - t) / 1000).toFixed(0)} s`;
    where = () => `while opening: ${ids.length}/${N} alerts delivered (${retries} calls made again) after ${secs(t0)}`;
    console.log(`capacity: opening ${N} incidents (${CONCURRENCY} alerts in flight) on ${WORKERS} worker processes (pids ${pids.join(', ')})…`);
    const sending = setInterval(() => void rssLine().then((r) => console.log(`capacity: ${ids.length}/${N} alerts delivered, ${retries} calls made again (${secs(t0)}; ${r})`)), 15_000);
    try {
      await pool(Array.from({ length: N }, (_, i) => i), async (i) => {
        checkDeadline();
        const r = await resending(() =>
          ingestAlerts(deps, [
            { status: 'firing', alertname: 'CapacityAlert', severity: 'warning', labels: { alertname: 'CapacityAlert', service: `svc-${i}` }, annotations: {}, startsAt: new Date().toISOString(), fingerprint: '', source: 'alertmanager', receivedAt: Date.now() },
          ]),
        );
        ids.push(r.incidents[0]!.workflowId);
      });
    } finally {
      clearInterval(sending);
    }
    const waitingQuery = `TaskQueue = '${taskQueue}' AND MedicStatus = 'awaiting_approval'`;
    for (let last = -1; ; ) {
      // An overloaded dev server may answer a call with an error (even 'namespace not found'): ask again.
      const count = await client.workflow.count(waitingQuery).then((c) => c.count, () => -1);
      if (count === N) break;
      if (count >= 0) where = () => `with ${count}/${N} incidents waiting for approval after ${secs(t0)}`;
      checkDeadline();
      if (count !== last) console.log(`capacity: ${count}/${N} waiting for approval… (${secs(t0)}, ${await rssLine()})`);
      last = count;
      await sleep(2_000);
    }
    const opened = (Date.now() - t0) / 1000;
    await sleep(5_000); // settle: let the workers' memory reflect N open incidents
    const waiting = await rssNow();
    console.log(`capacity: all ${N} waiting for approval after ${opened.toFixed(1)} s (${await rssLine()}); approving all…`);

    const t1 = Date.now();
    let approved = 0;
    const progress = setInterval(() => void rssLine().then((r) => console.log(`capacity: ${approved}/${N} approved, ${done}/${N} resolved (${secs(t1)}; ${r})`)), 15_000);
    let accepted = 0;
    where = () => `while draining: ${approved}/${N} approved, ${done}/${N} resolved after ${secs(t1)}`;
    try {
      const approving = pool(ids, async (id) => {
        // Signed as medic's app signs it: the worker accepts no identity without its proof.
        const { incidentId } = await resending(() => client.workflow.getHandle(id).query(statusQuery));
        const input = signIdentity(IDENTITY_KEY, 'decide', incidentId, { decision: 'approve' as const, user: 'alice' });
        await resending(() => client.workflow.getHandle(id).executeUpdate(decideUpdate, { args: [input], updateId: `approve:${id}` })); // made again: the same Update, deduplicated by its id;
        approved += 1;
      }).then(() => (accepted = (Date.now() - t1) / 1000));
      const resolving = Promise.all(ids.map(async (id) => {
        const r = (await resending(() => client.workflow.getHandle(id).result())) as { status: string };
        if (r.status !== 'resolved') throw new Error(`${id} ended ${r.status}`);
        done += 1;
      }));
      await Promise.race([
        Promise.all([approving, resolving]),
        (async () => {
          while (done < N || accepted === 0) {
            await sleep(2_000);
            checkDeadline();
          }
        })(),
      ]);
    } finally {
      clearInterval(progress);
    }
    const drained = (Date.now() - t1) / 1000;
    const applied = Object.values(target.state.applied);
    const twice = applied.filter((n) => n > 1).length;
    const lost = N - applied.length;
    const workersMiB = names.map((name, i) => ({ name, idleMiB: mib(idle[i]!), waitingMiB: mib(waiting[i]!), peakMiB: mib(rss.peak[name]!) }));
    const result: CapacityResult = {
      ...base(),
      openedSeconds: Number(opened.toFixed(1)),
      callsMadeAgain: retries,
      workers: workersMiB,
      approveSeconds: Number(accepted.toFixed(1)),
      drainSeconds: Number(drained.toFixed(1)),
      resolved: done,
      lost,
      appliedTwice: twice,
      goal: { rssMiB: GOAL_RSS_MIB, met: workersMiB.every((w) => w.peakMiB < GOAL_RSS_MIB) && lost === 0 && twice === 0 },
    };
    console.log('');
    console.log(await writeBenchResult(ROOT, 'capacity', result));
    console.log('capacity: wrote bench/results/capacity.json and its README block');
    // The results are written (with lost and applied twice): fail the run without overwriting them.
    if (lost !== 0 || twice > 0) {
      console.error('capacity: not every incident acted exactly once');
      process.exitCode = 1;
    }
  } catch (err) {
    const incomplete = `${(err as Error).message.split('\n')[0]}, ${where()}`;
    const peaks = names.map((name) => ({ name, peakMiB: mib(rss.peak[name]!) }));
    const partial: CapacityResult = { ...base(), incomplete, workers: peaks, resolved: done, lost: null, goal: { rssMiB: GOAL_RSS_MIB, met: false } };
    await writeBenchResult(ROOT, 'capacity', partial);
    console.error(`capacity: INCOMPLETE: ${incomplete} (load average ${partial.machine.loadAfter}); wrote bench/results/capacity.json and its README block`);
    throw err;
  } finally {
    await rss.stop();
    // SIGTERM drains; a worker that has not exited 10 s later (its server gone) is killed.
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode !== null ? undefined : Promise.race([new Promise((r) => w.once('exit', r)), sleep(10_000).then(() => w.kill('SIGKILL'))]))));
    await target.close();
    await connection.close();
    await temporal.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
