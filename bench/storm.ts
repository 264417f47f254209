// npm run bench:storm — 10,000 alerts in 60 s across 50 incidents through the real HTTP intake
// into a real Temporal dev server. Prints alerts/s accepted, p99 intake latency, incidents
// created (must be 50), alerts lost (must be 0) and medic's peak RSS.
// npm run bench:storm -- --via nats|kafka — the same 10,000 alerts through the webhook and through
// the bus intake (bench/lib/storm-bus.ts), both as fast as they go (STORM_SECONDS=0 unless set),
// each into its own 50 incidents, and a table of their throughput side by side.
// npm run bench:storm -- --curve — the knee: offered rates unpaced as a curve, one alert per POST and
// Alertmanager-style batched POSTs (bench/lib/storm-curve.ts); one table, bench/results/storm.json.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { ConfigSchema } from '../src/config.js';
import { alertmanagerPayload } from '../dev/health-watcher.js';
import { PlaybookSchema } from '../src/playbooks/schema.js';
import { buildServer } from '../src/server/app.js';
import { createMedicWorker } from '../src/temporal/worker.js';
import { statusQuery } from '../workflows/contracts.js';
import { busStorm, type BusStormResult, type Via } from './lib/storm-bus.js';
import { startBenchEngine } from './lib/temporal.js';
import { LATENCY_DYNAMIC_CONFIG } from '../dev/temporal-dynamic-config.js';
import { INTAKE_P99_LIMIT_MS, knee, stormCurve, type CurvePoint, type CurveSettings } from './lib/storm-curve.js';
import { machineNow } from './lib/process.js';
import { writeBenchResult } from './lib/readme.js';
import type { StormResult } from './lib/results.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ALERTS = Number(process.env.STORM_ALERTS ?? 10_000);
const INCIDENTS = Number(process.env.STORM_INCIDENTS ?? 50);
const viaArg = process.argv.indexOf('--via');
const VIA = viaArg >= 0 ? (process.argv[viaArg + 1] as Via) : undefined;
if (VIA !== undefined && VIA !== 'nats' && VIA !== 'kafka') throw new Error(`--via must be nats or kafka (got ${String(VIA)})`);
const SECONDS = Number(process.env.STORM_SECONDS ?? (VIA ? 0 : 60));
const CURVE = process.argv.includes('--curve');
const envList = (name: string, fallback: number[]): number[] => (process.env[name] ? process.env[name].split(',').map(Number) : fallback);
/** The curve's settings (STORM_RATES, STORM_POINT_SECONDS, STORM_BATCH, STORM_BATCH_INCIDENTS, STORM_FINGERPRINTS, STORM_MAX_IN_FLIGHT). */
const CURVE_SETTINGS: CurveSettings = {
  rates: envList('STORM_RATES', [100, 300, 1_000, 3_000]),
  seconds: Number(process.env.STORM_POINT_SECONDS ?? 15),
  batch: Number(process.env.STORM_BATCH ?? 100),
  incidentsPerPost: Number(process.env.STORM_BATCH_INCIDENTS ?? 10),
  incidents: INCIDENTS,
  fingerprints: Number(process.env.STORM_FINGERPRINTS ?? 10),
  maxInFlight: Number(process.env.STORM_MAX_IN_FLIGHT ?? 256),
};
const CONCURRENCY = 16;
const TOKEN = 'storm-intake-token-0123456789';
const taskQueue = 'storm';

async function main(): Promise<void> {
  // Core's own log lines go through the same logger (its WARNs of slow workflow tasks flood a loaded run).
  Runtime.install({ logger: new DefaultLogger((process.env.STORM_LOG as 'WARN') ?? 'ERROR'), telemetryOptions: { logging: { forward: {} } } });
  const before = machineNow();
  console.log('storm: starting Temporal…');
  const temporal = await startBenchEngine(ROOT);
  const engine = `${temporal.engine === 'server' ? 'temporal-server on PostgreSQL' : 'dev server in memory'}, dynamic config ${Object.entries(LATENCY_DYNAMIC_CONFIG).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`;
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createMedicWorker({ connection: nativeConnection, client, taskQueue, playbooks: () => [playbook, busPlaybook] });
  const workerRun = worker.run();
  // The incidents hold at an approval nobody gives, so all 50 stay open through the storm.
  const playbook = PlaybookSchema.parse({
    name: 'storm',
    match: { alertname: 'StormAlert' },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    steps: [{ name: 'guarded', action: 'http', params: { method: 'POST', url: 'http://127.0.0.1:9/none' }, requiresApproval: true, approvers: ['nobody'] }],
  });
  const busPlaybook = PlaybookSchema.parse({ ...playbook, name: 'storm-bus', match: { alertname: 'StormBusAlert' } });
  // The storm measures intake throughput: one sender at ~170 requests/s into INCIDENTS incidents,
  // so the per-source rate limit and the open-incident cap are raised out of its way.
  // The curve gives each of its points incidents of its own.
  const maxOpenIncidentsPerPlaybook = CURVE ? INCIDENTS * CURVE_SETTINGS.rates.length * 2 : INCIDENTS;
  const limits = { requestsPerSecond: 10_000, burst: 10_000, maxOpenIncidentsPerPlaybook };
  const config = ConfigSchema.parse({ temporal: { taskQueue }, intake: { alertmanagerToken: TOKEN, limits }, http: { port: 0 } });
  const server = await buildServer({ config, client, log: pino({ level: 'silent' }), playbooks: () => [playbook] });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  const stop = async (): Promise<void> => {
    await server.close();
    worker.shutdown();
    await workerRun;
    await nativeConnection.close();
    await connection.close();
    await temporal.stop();
  };
  if (CURVE) {
    // The results file (and its README block) is rewritten after every point, marked partial, so a
    // run cut short still leaves its points.
    const onPoint = (points: CurvePoint[]): Promise<void> => writeBenchResult(ROOT, 'storm', curveResult(points, before, engine)).then(() => undefined);
    const points = await stormCurve({ client, url, token: TOKEN, playbook, alertname: 'StormAlert', settings: CURVE_SETTINGS, onPoint });
    await stop();
    return report(points, before, engine);
  }

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const start = performance.now();
  const spacingMs = (SECONDS * 1000) / ALERTS;
  console.log(`storm: sending ${ALERTS} alerts over ${SECONDS}s across ${INCIDENTS} incidents (${CONCURRENCY} senders)…`);

  async function sender(): Promise<void> {
    for (;;) {
      const i = next++;
      if (i >= ALERTS) return;
      const due = start + i * spacingMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const labels = { alertname: 'StormAlert', service: `svc-${i % INCIDENTS}`, instance: `host-${i}` };
      const body = JSON.stringify(alertmanagerPayload('firing', labels, new Date().toISOString()));
      // Like Alertmanager: retry on 429/5xx with the server's Retry-After.
      for (let attempt = 0; ; attempt++) {
        const t0 = performance.now();
        const res = await fetch(`${url}/webhooks/alertmanager`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body,
        });
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 202) break;
        const retryAfter = Number(res.headers.get('retry-after') ?? 1);
        await new Promise((r) => setTimeout(r, Math.min(retryAfter, 2) * 1000));
        if (attempt > 20) throw new Error(`alert ${i} refused ${attempt} times (last ${res.status})`);
      }
      if ((i + 1) % 2000 === 0) console.log(`storm: ${i + 1}/${ALERTS} accepted`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  const elapsed = (performance.now() - start) / 1000;

  // Account for every alert in its incident (give the last signals a moment to be applied).
  // Queries wait for the worker, which may still be digesting the storm: retry them.
  const alertsOf = async (workflowId: string): Promise<number> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await client.workflow.getHandle(workflowId).query(statusQuery)).alertsReceived;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
  };
  /** Incidents of a playbook and the alerts they hold, once every alert is applied (or 60 s). */
  const account = async (pb: string): Promise<{ incidents: number; received: number }> => {
    let received = 0;
    let incidents = 0;
    for (let attempt = 0; attempt < 60; attempt++) {
      received = 0;
      incidents = 0;
      for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND WorkflowType = 'incidentWorkflow'` })) {
        if (!wf.workflowId.startsWith(`incident:${pb}:`)) continue;
        incidents += 1;
        received += await alertsOf(wf.workflowId);
      }
      if (received === ALERTS && incidents === INCIDENTS) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    return { incidents, received };
  };
  const drainStart = performance.now();
  const { incidents, received } = await account('storm');
  const drainSeconds = (performance.now() - drainStart) / 1000;
  clearInterval(sampler);
  const sorted = [...latencies].sort((a, b) => a - b);
  const p = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  console.log('');
  console.log(`alerts accepted       ${ALERTS} in ${elapsed.toFixed(1)} s → ${(ALERTS / elapsed).toFixed(0)} alerts/s`);
  console.log(`intake latency        p50 ${p(0.5).toFixed(1)} ms   p99 ${p(0.99).toFixed(1)} ms   (responses: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')})`);
  console.log(`incidents created     ${incidents} (must be ${INCIDENTS})`);
  console.log(`alerts lost           ${ALERTS - received} (must be 0; ${received} accounted for in their incidents)`);
 console.log(`all applied in workflows ${drainSeconds.toFixed(1)} s after the last alert was accepted`);
  console.log(`medic peak RSS        ${(peakRss / 1024 / 1024).toFixed(0)} MiB (server + worker in one process)`);

  let bus: (BusStormResult & { incidents: number; received: number }) | undefined;
  if (VIA) {
    // A generic-webhook body per message (not test/support's helper: that module loads vitest).
    const bodies = Array.from({ length: ALERTS }, (_, i) => JSON.stringify({ alerts: [{ name: 'StormBusAlert', severity: 'warning', labels: { service: `svc-${i % INCIDENTS}`, instance: `host-${i}` } }] }));
    const r = await busStorm(VIA, { client, taskQueue, playbook: busPlaybook, bodies, incidents: INCIDENTS });
    bus = { ...r, ...(await account('storm-bus')) };
    const rate = (n: number, sec: number): string => `${(n / sec).toFixed(0)}/s`;
    console.log('');
    console.log(`| path | alerts | delivered to incidents | alerts/s | incidents | lost |`);
    console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
    console.log(`| webhook (${CONCURRENCY} senders${SECONDS > 0 ? `, paced over ${SECONDS} s` : ''}) | ${ALERTS} | ${elapsed.toFixed(1)} s | ${rate(ALERTS, elapsed)} | ${incidents} | ${ALERTS - received} |`);
    console.log(`| ${VIA} (published in ${bus.publishSeconds.toFixed(1)} s, then consumed) | ${ALERTS} | ${bus.consumeSeconds.toFixed(1)} s | ${rate(ALERTS, bus.consumeSeconds)} | ${bus.incidents} | ${ALERTS - bus.received} |`);
  }

  await stop();
  if (incidents !== INCIDENTS || received !== ALERTS) process.exit(1);
  if (bus && (bus.incidents !== INCIDENTS || bus.received !== ALERTS)) process.exit(1);
}

/** The curve's results file: partial (no knee) until every point is in. */
function curveResult(points: CurvePoint[], before: ReturnType<typeof machineNow>, engine: string, complete = false): StormResult {
  const settings = {
    ...CURVE_SETTINGS,
    rates: CURVE_SETTINGS.rates.join(', '),
    temporal: engine,
    medic: 'HTTP intake and worker in one process; the load generator in its own process (open loop, no retries)',
  };
  return {
    date: new Date().toISOString(),
    complete,
    machine: { cores: before.cores, cpu: before.cpu, loadBefore: before.load, loadAfter: machineNow().load },
    settings,
    intakeP99LimitMs: INTAKE_P99_LIMIT_MS,
    points,
    ...(complete ? { knees: { single: knee(points, 'single') ?? null, batched: knee(points, 'batched') ?? null } } : {}),
  };
}

/** The curve's one table: bench/results/storm.json and its README block. */
async function report(points: CurvePoint[], before: ReturnType<typeof machineNow>, engine: string): Promise<void> {
  const block = await writeBenchResult(ROOT, 'storm', curveResult(points, before, engine, true));
  console.log('');
  console.log(block);
  console.log('storm: wrote bench/results/storm.json and its README block');
  if (points.some((p) => p.lost > 0)) process.exit(1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
