// npm run bench:capacity — CAPACITY_N (default 2,000) open incidents waiting for approval on ONE
// medic worker process (src/worker.ts, the production entry point, as a child process), then every
// one approved. Prints the worker's RSS (idle, with all incidents waiting, peak while approving),
// the sticky-cache settings used, and the time to approve all. Goal: worker RSS < 1 GiB.
// CAPACITY_MAX_CACHED sets MEDIC_TEMPORAL_MAX_CACHED_WORKFLOWS for the worker (default: config's);
// CAPACITY_CONCURRENCY the alerts and approvals in flight at once (default 8); CAPACITY_WORKER_HEAP_MB
// the worker's --max-old-space-size (default 768).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { startDemoService } from '../dev/demo-service.js';
import { ingestAlerts } from '../src/intake/ingest.js';
import { PlaybookSchema } from '../src/playbooks/schema.js';
import { WORKFLOWS_PATH } from '../src/temporal/worker.js';
import { startBenchTemporal } from './lib/temporal.js';
import { peakRss, rssOf, runBench, sleep } from './lib/process.js';
import { decideUpdate, statusQuery } from '../workflows/contracts.js';
import { signIdentity } from '../src/identity/sign.js';

/** Shared with the worker process (MEDIC_IDENTITY_KEY): approvals are signed with it. */
const IDENTITY_KEY_TEXT = randomBytes(24).toString('hex');
const IDENTITY_KEY = Buffer.from(IDENTITY_KEY_TEXT, 'utf8');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.CAPACITY_N ?? 2_000);
const CONCURRENCY = Number(process.env.CAPACITY_CONCURRENCY ?? 8); // alerts (then approvals) in flight at once
const MAX_CACHED = process.env.CAPACITY_MAX_CACHED;
const STICKY_MS = process.env.CAPACITY_STICKY_MS;
/** The worker's V8 old-space limit (MiB): V8 grows its heap lazily up to the limit (about 4 GiB by
 * default here), so this, not live data, bounds RSS; the SDK also sizes its default cache from it. */
const HEAP_MB = process.env.CAPACITY_WORKER_HEAP_MB ?? '768';
const taskQueue = 'bench-capacity';
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  console.log('capacity: starting a Temporal dev server (in memory), bundling workflows…');
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
  // The worker runs only playbooks it loaded itself: it loads this one from its own file.
  await writeFile(join(dir, 'capacity.yaml'), JSON.stringify(playbook));
  const worker = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', join(ROOT, 'src/worker.ts')], {
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
  const pid = worker.pid!;
  const rss = peakRss({ worker: pid });
  try {
    // Ready = the server lists the worker as a poller.
    for (let i = 0; ; i++) {
      const r = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
      if ((r.pollers ?? []).some((p) => p.identity === `${pid}@${hostname()}`)) break;
      if (worker.exitCode !== null || i > 600) throw new Error('the worker did not start');
      await sleep(100);
    }
    await sleep(2_000);
    const idle = await rssOf(pid);

    const deps = { client, taskQueue, playbooks: () => [playbook], log: pino({ level: 'silent' }) };
    const ids: string[] = [];
    const t0 = Date.now();
    console.log(`capacity: opening ${N} incidents…`);
    await pool(Array.from({ length: N }, (_, i) => i), async (i) => {
      const r = await ingestAlerts(deps, [
        { status: 'firing', alertname: 'CapacityAlert', severity: 'warning', labels: { alertname: 'CapacityAlert', service: `svc-${i}` }, annotations: {}, startsAt: new Date().toISOString(), fingerprint: '', source: 'alertmanager', receivedAt: Date.now() },
      ]);
      ids.push(r.incidents[0]!.workflowId);
    });
    const waitingQuery = `TaskQueue = '${taskQueue}' AND MedicStatus = 'awaiting_approval'`;
    for (let last = -1; ; ) {
      const { count } = await client.workflow.count(waitingQuery);
      if (count === N) break;
      if (count !== last) console.log(`capacity: ${count}/${N} waiting for approval… (${((Date.now() - t0) / 1000).toFixed(0)} s, worker RSS ${((await rssOf(pid)) / MiB).toFixed(0)} MiB)`);
      last = count;
      await sleep(2_000);
    }
    const opened = (Date.now() - t0) / 1000;
    await sleep(5_000); // settle: let the worker's memory reflect N open incidents
    const waiting = await rssOf(pid);

    console.log(`capacity: approving all ${N}…`);
    const t1 = Date.now();
    await pool(ids, async (id) => {
      // Signed as medic's app signs it: the worker accepts no identity without its proof.
      const { incidentId } = await client.workflow.getHandle(id).query(statusQuery);
      const input = signIdentity(IDENTITY_KEY, 'decide', incidentId, { decision: 'approve' as const, user: 'alice' });
      await client.workflow.getHandle(id).executeUpdate(decideUpdate, { args: [input] });
    });
    const accepted = (Date.now() - t1) / 1000;
    let done = 0;
    const progress = setInterval(() => {
      void rssOf(pid).then((rss) => console.log(`capacity: ${done}/${N} approved and resolved (${((Date.now() - t1) / 1000).toFixed(0)} s, worker RSS ${(rss / MiB).toFixed(0)} MiB)`), () => undefined);
    }, 15_000);
    await pool(ids, async (id) => {
      const r = (await client.workflow.getHandle(id).result()) as { status: string };
      if (r.status !== 'resolved') throw new Error(`${id} ended ${r.status}`);
      done += 1;
    });
    clearInterval(progress);
    const approvedAll = (Date.now() - t1) / 1000;
    const applied = Object.values(target.state.applied);
    const twice = applied.filter((n) => n > 1).length;

    const heapMiB = Number(HEAP_MB) || getHeapStatistics().heap_size_limit / MiB;
    const sdkDefault = Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
    const fmt = (b: number): string => `${(b / MiB).toFixed(0)} MiB`;
    console.log('');
    console.log(`incidents waiting for approval   ${N} on one worker process (opened in ${opened.toFixed(1)} s)`);
    console.log(`sticky cache                     maxCachedWorkflows ${MAX_CACHED ?? 'config default 250'} per Temporal worker (incidents, governor; the SDK's own default would be ${sdkDefault} for this ${heapMiB.toFixed(0)} MiB heap); stickyQueueScheduleToStartTimeout ${STICKY_MS ?? 'config default 5000'} ms; maxConcurrentLocalActivityExecutions ${process.env.MEDIC_TEMPORAL_MAX_LOCAL_ACTIVITIES ?? 'config default 8'}; worker --max-old-space-size=${HEAP_MB}; reuseV8Context (SDK default)`);
    console.log(`worker RSS                       idle ${fmt(idle)}; ${N} waiting ${fmt(waiting)}; peak ${fmt(rss.peak.worker)}`);
    console.log(`approve all                      ${N} Updates accepted in ${accepted.toFixed(1)} s; all ${N} acted and resolved ${approvedAll.toFixed(1)} s after the first approval (${(N / approvedAll).toFixed(0)} incidents/s)`);
    console.log(`actions applied                  ${applied.length} (twice: ${twice})`);
    console.log(`goal: worker RSS < 1 GiB          ${rss.peak.worker < GiB ? 'met' : 'NOT met'} (peak ${(rss.peak.worker / GiB).toFixed(2)} GiB)`);
    if (applied.length !== N || twice > 0) throw new Error('not every incident acted exactly once');
  } finally {
    await rss.stop();
    worker.kill('SIGTERM');
    await target.close();
    await connection.close();
    await temporal.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

runBench(main);
