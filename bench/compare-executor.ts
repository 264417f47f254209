// npm run bench:compare-executor — medic side by side with prometheus-am-executor (the peer: an
// Alertmanager webhook that runs a command per alert, no durability). One real Alertmanager
// delivers the same alerts to both (routed by the label `via`); the target is the demo service's
// /remediate for both: am-executor runs a shell script that curls it, medic runs a playbook with
// the `http` action. Medic is production-shaped: the intake in this process, the worker a separate
// process (test/support/worker-child.ts, what src/worker.ts builds).
//   1. Latency: alerts one at a time, alternating one of each, alert posted to Alertmanager →
//      action request received at the target; p50/p99 for both and the ratio.
//   2. Durability: the target holds each action; once it has the request, the executor process /
//      medic's worker is killed with SIGKILL and restarted (a spare already loaded for medic, a
//      supervisor's restart for am-executor); then: actions lost, received twice, applied twice.
// Writes bench/results/compare-executor.json and the README table generated from it.
// BENCH_N (default 200) alerts per system, BENCH_KILLS (default 10) kills per system.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { startDemoService } from '../dev/demo-service.js';
import { freePort } from '../dev/ports.js';
import { startAlertmanager } from '../dev/prometheus-stack.js';
import { ConfigSchema } from '../src/config.js';
import { PlaybookSchema, type Playbook } from '../src/playbooks/schema.js';
import { buildServer } from '../src/server/app.js';
import { WORKFLOWS_PATH } from '../src/temporal/worker.js';
import { playbookDir, startWorkerProcess, type WorkerProcess } from '../test/support/worker-process.js';
import { comparison, summarize, tallyKills } from './lib/compare-executor.js';
import { writeBenchResult } from './lib/readme.js';
import { BENCH_LIMITS, startBenchTemporal } from './lib/temporal.js';
import { LATENCY_DYNAMIC_CONFIG } from '../dev/temporal-dynamic-config.js';
import { loadAverage, machine, runBench } from './lib/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.BENCH_N ?? 200);
const KILLS = Number(process.env.BENCH_KILLS ?? 10);
const WARMUP = 10;
const HOLD_MS = 1_500; // kill phase: how long the target holds each action (the kill lands inside)
const ARRIVAL_TIMEOUT_MS = 30_000;
const QUIET_MS = 20_000; // kill phase ends after this long without a new arrival (retries done)
const TOKEN = 'bench-intake-token-0123456789';
const taskQueue = 'compare';
const AM_EXECUTOR = join(ROOT, '.cache/bin/am-executor');

type System = 'medic' | 'executor';
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Action requests received at the targets, by alert id (the `alert` query parameter). */
function arrivalLog() {
  const arrivals = new Map<string, { at: number; key: string }[]>();
  const waiters = new Map<string, () => void>();
  let last = now();
  return {
    last: () => last,
    of: (id: string) => arrivals.get(id) ?? [],
    record(req: { method: string; url: string; headers: Record<string, unknown> }, at: number): void {
      const url = new URL(req.url, 'http://target');
      const id = url.searchParams.get('alert');
      if (url.pathname !== '/remediate' || !id || req.headers['x-dry-run'] === 'true') return;
      arrivals.set(id, [...(arrivals.get(id) ?? []), { at, key: String(req.headers['idempotency-key'] ?? '') }]);
      last = at;
      waiters.get(id)?.();
    },
    /** The first arrival's time for `id`, or undefined after the timeout. */
    async first(id: string, timeoutMs = ARRIVAL_TIMEOUT_MS): Promise<number | undefined> {
      if (!arrivals.has(id)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          waiters.set(id, () => (clearTimeout(timer), resolve()));
        });
        waiters.delete(id);
      }
      return arrivals.get(id)?.[0]?.at;
    },
  };
}

/** prometheus-am-executor as a supervised process: started, SIGKILLed, restarted. */
function amExecutor(configPath: string, url: string) {
  let child: ChildProcess | undefined;
  return {
    async start(): Promise<void> {
      child = spawn(AM_EXECUTOR, ['-f', configPath], { stdio: ['ignore', 'ignore', 'ignore'] });
      for (let i = 0; ; i++) {
        if (child.exitCode !== null) throw new Error(`am-executor exited with code ${child.exitCode}`);
        if (await fetch(`${url}/_health`).then((r) => r.ok, () => false)) return;
        if (i > 300) throw new Error('am-executor did not answer /_health within 30 s');
        await sleep(100);
      }
    },
    async kill(): Promise<void> {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

async function main(): Promise<void> {
  if (!existsSync(AM_EXECUTOR)) throw new Error(`${AM_EXECUTOR} missing: run "bash scripts/provision-am-executor.sh"`);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const loadBefore = loadAverage();
  console.log(`compare: load before ${loadBefore}; starting Temporal, bundling workflows…`);
  const { temporal, connection, client, dir, bundlePath } = await startBenchTemporal(ROOT, 'compare-executor', WORKFLOWS_PATH);
  const arrivals = arrivalLog();
  const fast = await startDemoService(0, { onRequest: arrivals.record });
  const slow = await startDemoService(0, { onRequest: arrivals.record, remediateDelayMs: HOLD_MS });

  // medic: one playbook per phase, the action the same POST am-executor's script makes.
  const playbook = (name: string, alertname: string, target: string): Playbook =>
    PlaybookSchema.parse({
      name,
      match: { alertname },
      groupBy: ['alertname', 'alert_id'],
      target: '{{labels.alert_id}}',
      limits: BENCH_LIMITS,
      steps: [{ name: 'remediate', action: 'http', params: { method: 'POST', url: `${target}/remediate?alert={{labels.alert_id}}` }, timeout: '5s' }],
    });
  const playbooks = [playbook('compare-latency', 'CompareLatency', fast.url), playbook('compare-kill', 'CompareKill', slow.url)];
  const workerEnv = { MEDIC_PLAYBOOKS: playbookDir(playbooks), MEDIC_LOG_LEVEL: 'error' };
  const newWorker = (): WorkerProcess => startWorkerProcess({ client, address: temporal.address, taskQueue, held: true, bundlePath, env: workerEnv });
  let worker = newWorker();
  worker.run();
  await worker.ready();
  const config = ConfigSchema.parse({
    temporal: { taskQueue },
    intake: { alertmanagerToken: TOKEN, limits: { maxOpenIncidentsPerPlaybook: 10_000 } },
    http: { port: 0 },
  });
  const server = await buildServer({ config, client, log: pino({ level: 'silent' }), playbooks: () => playbooks });
  const medicUrl = await server.listen({ host: '127.0.0.1', port: 0 });

  // am-executor: the same POST from a shell script; the alert's fingerprint as Idempotency-Key
  // (stable across Alertmanager's redeliveries, as medic's key is across activity retries).
  const script = join(dir, 'remediate.sh');
  await writeFile(script, '#!/bin/sh\nexec curl -sS -f -o /dev/null -X POST -H "Idempotency-Key: amx-$AMX_ALERT_1_FINGERPRINT" "$1/remediate?alert=$AMX_LABEL_alert_id"\n', { mode: 0o755 });
  const executorPort = await freePort();
  const executorConfig = join(dir, 'executor.yml');
  const command = (alertname: string, target: string): string =>
    `  - cmd: /bin/sh\n    args: [${JSON.stringify(script)}, ${JSON.stringify(target)}]\n    match_labels: { alertname: ${alertname} }\n`;
  await writeFile(executorConfig, `listen_address: "127.0.0.1:${executorPort}"\ncommands:\n${command('CompareLatency', fast.url)}${command('CompareKill', slow.url)}`);
  const executor = amExecutor(executorConfig, `http://127.0.0.1:${executorPort}`);
  await executor.start();

  // One Alertmanager, one route per receiver by `via`; each alert is its own group, flushed at once.
  const amVersion = /version (\S+)/.exec(execFileSync('prometheus-alertmanager', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString())?.[1] ?? '?';
  await mkdir(join(dir, 'alertmanager'), { recursive: true });
  const alertmanager = await startAlertmanager(join(dir, 'alertmanager'), await freePort(), {
    route: {
      receiver: 'medic',
      group_by: ['alertname', 'alert_id'],
      group_wait: '0s',
      group_interval: '10s',
      repeat_interval: '12h',
      routes: [
        { receiver: 'medic', matchers: ['via="medic"'] },
        { receiver: 'executor', matchers: ['via="executor"'] },
      ],
    },
    receivers: [
      { name: 'medic', webhook_configs: [{ url: `${medicUrl}/webhooks/alertmanager`, send_resolved: false, http_config: { authorization: { type: 'Bearer', credentials: TOKEN } } }] },
      { name: 'executor', webhook_configs: [{ url: `http://127.0.0.1:${executorPort}/`, send_resolved: false }] },
    ],
  });
  const fire = async (alertname: string, id: string, via: System): Promise<number> => {
    const t0 = now();
    const res = await fetch(`${alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname, alert_id: id, via }, annotations: { summary: 'compare-executor bench' }, startsAt: new Date().toISOString() }]),
    });
    if (!res.ok) throw new Error(`Alertmanager refused the alert: ${res.status} ${await res.text()}`);
    return t0;
  };

  let spare: WorkerProcess | undefined;
  try {
    // 1. Latency, alternating one of each.
    const times: Record<System, number[]> = { medic: [], executor: [] };
    const lost: Record<System, number> = { medic: 0, executor: 0 };
    console.log(`compare: ${WARMUP} warm-up pairs, then ${N} alerts per system, alternating, one at a time…`);
    for (let i = 0; i < WARMUP + N; i++) {
      for (const via of (i % 2 === 0 ? ['medic', 'executor'] : ['executor', 'medic']) as System[]) {
        const id = `lat-${via}-${i}`;
        const t0 = await fire('CompareLatency', id, via);
        const at = await arrivals.first(id);
        if (i < WARMUP) continue;
        if (at === undefined) lost[via] += 1;
        else times[via].push(at - t0);
      }
      if ((i + 1) % 50 === 0) console.log(`compare: ${i + 1}/${WARMUP + N}`);
    }

    // 2. SIGKILL mid-action, alternating: the target holds the action, the process dies, restarts.
    console.log(`compare: ${KILLS} SIGKILLs mid-action per system…`);
    spare = newWorker();
    const killed: Record<System, string[]> = { medic: [], executor: [] };
    for (let k = 0; k < KILLS; k++) {
      for (const via of ['medic', 'executor'] as System[]) {
        const id = `kill-${via}-${k}`;
        await fire('CompareKill', id, via);
        killed[via].push(id);
        if ((await arrivals.first(id)) === undefined) continue; // never started: counted lost below
        if (via === 'executor') {
          await executor.kill();
          await executor.start();
        } else {
          await worker.kill();
          const next = spare;
          next.run();
          await next.ready();
          worker = next;
          spare = newWorker();
        }
      }
      console.log(`compare: kill ${k + 1}/${KILLS} done for both`);
    }
    while (now() - arrivals.last() < QUIET_MS) await sleep(1_000);

    const keysOf = (ids: string[]): string[][] => ids.map((id) => arrivals.of(id).map((a) => a.key));
    const latency = { executor: summarize(times.executor, lost.executor), medic: summarize(times.medic, lost.medic) };
    const table = await writeBenchResult(ROOT, 'compare-executor', {
      date: new Date().toISOString(),
      machine: machine(loadBefore),
      settings: {
        alertsPerSystem: N,
        warmup: WARMUP,
        delivery: `real Alertmanager ${amVersion} (one route per receiver, group_wait 0s), timed from the POST to its API to the request at the target`,
        killsPerSystem: KILLS,
        remediateDelayMs: HOLD_MS,
        engine: `${temporal.engine === 'server' ? 'temporal-server on PostgreSQL' : 'the Temporal CLI dev server in memory'}, dynamic config ${Object.entries(LATENCY_DYNAMIC_CONFIG).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`,
      },
      latency,
      kill: { executor: tallyKills(keysOf(killed.executor)), medic: tallyKills(keysOf(killed.medic)) },
      ...comparison(latency),
    });
    console.log(`\n${table}\n`);
    console.log('compare: wrote bench/results/compare-executor.json and the README table. Absolute figures depend on the load shown.');
  } finally {
    await spare?.kill();
    await alertmanager.stop();
    await executor.kill();
    await server.close();
    await worker.kill();
    await Promise.all([fast.close(), slow.close()]);
    await connection.close();
    await temporal.stop();
  }
}

runBench(main);
