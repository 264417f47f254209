// npm run bench:latency — alert received → first action activity started, broken down per stage
// (bench/lib/breakdown.ts), against the floor measured in the same run on the same server with the
// same settings: a bare workflow running one no-op activity. Each variant (bench/lib/variants.ts;
// BENCH_VARIANTS picks) gets a fresh server (BENCH_ENGINE, bench/lib/temporal.ts); alerts and floor
// workflows alternate, one at a time. Writes bench/results/latency.json and its README block.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createActivities } from '../activities/index.js';
import { ConfigSchema } from '../src/config.js';
import { alertmanagerPayload } from '../dev/health-watcher.js';
import { alternate, benchEngine, benchPlaybook, now, startInProcessTemporal, startTimedWorkers } from './lib/temporal.js';
import { breakdown, printTable, rpcMarks, stageStats, statsOf, type Breakdown, type Stage } from './lib/breakdown.js';
import { engineOptions, runVariants, selectedVariants, type Variant } from './lib/variants.js';
import { writeBenchResult } from './lib/readme.js';
import type { Distribution } from './lib/results.js';
import { buildServer } from '../src/server/app.js';
import { runBench } from './lib/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.BENCH_N ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const GOAL_P99_MS = 60;
const TOKEN = 'bench-intake-token-0123456789';
const taskQueue = 'bench';
const actionQueue = 'bench-actions';

interface Run { id: string; sent: number; started: number }
interface Row { variant: string; path: 'floor' | 'medic'; total: Distribution; stages: Partial<Record<Stage, Distribution>> }

async function runVariant(v: Variant, code: string, dir: string): Promise<Row[]> {
  const { interceptor, marks } = rpcMarks();
  const { client, nativeConnection, stop } = await startInProcessTemporal(ROOT, { ...engineOptions(v, dir), interceptors: [interceptor] });
  const sink = createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const playbook = benchPlaybook('bench', 'BenchAlert', `http://127.0.0.1:${(sink.address() as { port: number }).port}/poke`);
  const activities = {
    ...createActivities({ client, taskQueue, fetch, secret: () => undefined, playbooks: () => [playbook] }),
    noop: async () => undefined,
  };
  const workers = await startTimedWorkers({ nativeConnection, taskQueue, code, activities, watch: ['httpAction', 'noop'], options: v.worker, actionQueue: v.floor === 'separate-queue' ? actionQueue : undefined });
  // One incident per alert, each its own group of one playbook: the open-incident cap is raised out of the way.
  const config = ConfigSchema.parse({ temporal: { taskQueue }, intake: { alertmanagerToken: TOKEN, limits: { maxOpenIncidentsPerPlaybook: 10_000 } }, http: { port: 0 } });
  const server = await buildServer({ config, client, log: pino({ level: 'silent' }), playbooks: () => [playbook] });
  const medicUrl = await server.listen({ host: '127.0.0.1', port: 0 });

  const medicRuns: Run[] = [];
  const floorRuns: Run[] = [];
  const timed = (runs: Run[], run: (i: number) => Promise<string>) => async (i: number): Promise<number> => {
    const sent = now();
    const id = await run(i);
    await workers.waitStarted(id);
    if (i >= WARMUP) runs.push({ id, sent, started: workers.startedAt(id) });
    return workers.startedAt(id) - sent;
  };
  const oneAlert = async (i: number): Promise<string> => {
    const body = JSON.stringify(alertmanagerPayload('firing', { alertname: 'BenchAlert', service: `svc-${i}` }, new Date().toISOString()));
    const res = await fetch(`${medicUrl}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
    const { incidents } = (await res.json()) as { incidents: { workflowId: string }[] };
    return incidents[0]!.workflowId;
  };
  const oneFloor = async (i: number): Promise<string> => {
    const workflowId = `floor-${v.name}-${i}`;
    const args = v.floor === 'local' ? ['local'] : v.floor === 'separate-queue' ? ['activity', actionQueue] : [];
    await client.workflow.start('floorWorkflow', { workflowId, taskQueue, args });
    return workflowId;
  };
  const medicToo = v.floor === undefined; // floor-only variants change what medic cannot (its queue, its steps)
  await alternate({ warmup: WARMUP, n: N, every: 50, a: medicToo ? timed(medicRuns, oneAlert) : async () => 0, b: timed(floorRuns, oneFloor) });

  const stagesOf = async (runs: Run[], action: string): Promise<Breakdown[]> =>
    Promise.all(runs.map(async (r) => breakdown({ ...r, rpc: marks.get(r.id), action, history: await client.workflow.getHandle(r.id).fetchHistory() })));
  const row = (path: Row['path'], bs: Breakdown[]): Row => ({ variant: v.name, path, total: statsOf(bs.map((b) => b.total!)), stages: stageStats(bs) });
  // The histories are read once every action has ended (an activity's started event is written at its end).
  await new Promise((r) => setTimeout(r, 1000));
  const rows = [row('floor', await stagesOf(floorRuns, v.floor === 'local' ? 'local' : 'noop'))];
  if (medicToo) rows.push(row('medic', await stagesOf(medicRuns, 'httpAction')));

  await server.close();
  await workers.stop();
  sink.close();
  await stop();
  return rows;
}

const SHOWN: [Stage, string][] = [
  ['intake', 'intake'],
  ['startRpc', 'start RPC'],
  ['wftScheduleToStart', 'WFT s→s'],
  ['wftProcessing', 'WFT proc'],
  ['otherActivities', 'other acts'],
  ['activityScheduleToStart', 'act s→s'],
  ['activityStart', 'act start'],
  ['unattributed', 'rest'],
];

/** The variants whose stages the README shows: medic before and adopted, and the adopted floor. */
const BREAKDOWN: [string, Row['path']][] = [
  ['before', 'medic'],
  ['adopted', 'floor'],
  ['adopted', 'medic'],
];

async function main(): Promise<void> {
  const variants = selectedVariants();
  const { rows, machine, settings } = await runVariants({ variants, workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)), what: `${WARMUP} warm-up + ${N} measured rounds each` }, runVariant);
  const cell = (s: Distribution | undefined): string => (s ? `${s.p50Ms}/${s.p99Ms}` : '—');
  console.log(`\nalert → action started, ms p50/p99 per stage · ${machine.cores} cores (${machine.cpu}) · load before ${machine.loadBefore} · after ${machine.loadAfter}`);
  printTable(
    ['variant', 'path', 'total p50', 'p99', 'max', ...SHOWN.map(([, h]) => h)],
    rows.map((r) => [r.variant, r.path, r.total.p50Ms, r.total.p99Ms, r.total.maxMs, ...SHOWN.map(([s]) => cell(r.stages[s]))]),
  );
  const of = (variant: string, path: Row['path']): Row | undefined => rows.find((r) => r.variant === variant && r.path === path);
  const judged = of('adopted', 'medic') ?? rows.filter((r) => r.path === 'medic').at(-1);
  const result = {
    date: new Date().toISOString(),
    machine,
    settings: { engine: benchEngine(), n: N, warmup: WARMUP, order: 'alerts and floor workflows alternate, one at a time', ...settings },
    rows: variants.map((v) => {
      const floor = of(v.name, 'floor')!.total;
      const medic = of(v.name, 'medic')?.total;
      return { configuration: `${v.name}: ${v.what}`, durable: v.db === 'file' || benchEngine() === 'server', floor, ...(medic ? { medic, ratioP99: Math.round((medic.p99Ms / floor.p99Ms) * 100) / 100 } : {}) };
    }),
    breakdown: BREAKDOWN.flatMap(([variant, path]) => {
      const stages = of(variant, path)?.stages ?? {};
      // Not the remainder ("rest"): it is negative where the stages overlap (the first workflow task is scheduled inside the start RPC).
      return SHOWN.filter(([s]) => s !== 'unattributed').flatMap(([s, label]) => (stages[s] ? [{ phase: `${variant} ${path}: ${label}`, p50Ms: stages[s].p50Ms, p99Ms: stages[s].p99Ms }] : []));
    }),
    goal: { p99Ms: GOAL_P99_MS, configuration: judged?.variant ?? 'adopted', met: judged !== undefined && judged.total.p99Ms <= GOAL_P99_MS },
  };
  console.log(`goal: medic alert → action started p99 ≤ ${GOAL_P99_MS} ms on a durable server (${result.goal.configuration}): ${judged ? `${judged.total.p99Ms} ms, ` : ''}${result.goal.met ? 'met' : 'NOT met'}`);
  console.log(`\n${await writeBenchResult(ROOT, 'latency', result)}`);
}

runBench(main);
