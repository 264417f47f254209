// npm run bench:approval — a Slack Approve click → the approved action's activity started,
// p50/p99 over BENCH_N clicks (default 100), against the floor measured in the same run on the
// same server: a bare Temporal Update round trip on a running workflow. Each variant
// (bench/lib/variants.ts; BENCH_VARIANTS picks, default: medic before and medic's adopted dev-server
// settings) gets a fresh server (BENCH_ENGINE). Writes bench/results/approval.json and its README
// block (the goal judged on the adopted settings). The click is a correctly
// signed block_actions request from the Slack stand-in to medic's Bolt endpoint; medic then
// queries the incident, runs the Update (validator + handler), and the workflow re-checks its
// gates with the governor before the action starts.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createActivities } from '../activities/index.js';
import { createSlackSink } from '../src/sinks/slack/sink.js';
import { ConfigSchema } from '../src/config.js';
import { slackInteractor } from '../dev/slack/interact.js';
import { startSlackStandIn } from '../dev/slack/server.js';
import { alternate, benchEngine, benchPlaybook, now, startInProcessTemporal, startTimedWorkers } from './lib/temporal.js';
import { printTable, statsOf } from './lib/breakdown.js';
import { engineOptions, runVariants, selectedVariants, type Variant } from './lib/variants.js';
import { writeBenchResult } from './lib/readme.js';
import type { Distribution } from './lib/results.js';
import { ingestAlerts } from '../src/intake/ingest.js';
import { buildServer } from '../src/server/app.js';
import { slackWebClient } from '../src/slack/client.js';
import { pingUpdate } from './approval-workflows.js';
import { runBench } from './lib/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GOAL_P99_MS = 150;
/** Shared by the server (signs who clicked) and the worker (checks it). */
const IDENTITY_KEY = randomBytes(32);
const N = Number(process.env.BENCH_N ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
const taskQueue = 'bench-approval';
const APPROVER = 'U0BENCH';
const SECRET = 'bench-signing-secret-0123456789';
const TOKEN = 'xoxb-bench';
const log = pino({ level: 'silent' });

interface Row { variant: string; path: 'floor' | 'click'; total: Distribution }

async function runVariant(v: Variant, code: string, dir: string): Promise<Row[]> {
  const { client, nativeConnection, stop } = await startInProcessTemporal(ROOT, engineOptions(v, dir));
  // Posting is not what is measured: generous limits so setting up 100 approvals is quick.
  const fast = { burst: 10_000, perSecond: 10_000 };
  const slack = await startSlackStandIn({ botToken: TOKEN, users: [{ id: APPROVER, name: 'bench' }], rateLimits: { postMessagePerChannel: fast, tier3: fast, tier4: fast } });

  const target = createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;

  const sink = createSlackSink({ web: slackWebClient({ botToken: TOKEN, apiUrl: slack.apiUrl }), channel: 'C0INCIDENT', postPace: fast, updatePace: fast });
  const activities = createActivities({ client, taskQueue, fetch, secret: () => undefined, sinks: [sink], identityKey: IDENTITY_KEY, playbooks: () => [playbook] });
  const workers = await startTimedWorkers({ nativeConnection, taskQueue, code, activities, watch: ['httpAction'], options: v.worker });

  const playbook = benchPlaybook('bench-approval', 'BenchApproval', `${targetUrl}/poke`, { risk: 'high', requiresApproval: true, approvers: [APPROVER] });
  const config = ConfigSchema.parse({
    temporal: { taskQueue },
    intake: { alertmanagerToken: 'bench-intake-token-0123456789' },
    http: { port: 0 },
    slack: { botToken: TOKEN, signingSecret: SECRET, channel: 'C0INCIDENT', apiUrl: slack.apiUrl },
  });
  const server = await buildServer({ config, client, log, playbooks: () => [playbook], identityKey: IDENTITY_KEY });
  const medicUrl = await server.listen({ host: '127.0.0.1', port: 0 });
  const interact = slackInteractor({ standIn: slack, eventsUrl: `${medicUrl}/slack/events`, signingSecret: SECRET });

  const floorHandle = await client.workflow.start('updateFloorWorkflow', { workflowId: `floor-${Date.now()}`, taskQueue, args: [] });

  async function oneClick(i: number): Promise<number> {
    const alert = { status: 'firing' as const, alertname: 'BenchApproval', severity: 'critical', labels: { alertname: 'BenchApproval', service: `svc-${i}` }, annotations: {}, startsAt: new Date().toISOString(), fingerprint: `f${i}`, source: 'alertmanager' as const, receivedAt: Date.now() };
    const r = await ingestAlerts({ client, taskQueue, playbooks: () => [playbook], log }, [alert]);
    const id = r.incidents[0]!.workflowId;
    let request;
    while (!(request = slack.messages.find((m) => m.thread_ts && JSON.stringify(m.blocks ?? []).includes('approve_step') && JSON.stringify(m.blocks).includes(id)))) {
      await new Promise((res) => setTimeout(res, 5));
    }
    const actionStarted = workers.waitStarted(id);
    const t0 = now();
    const res = await interact.clickButton(APPROVER, request, 'approve_step');
    if (res.status !== 200) throw new Error(`click answered ${res.status}`);
    await actionStarted;
    return workers.startedAt(id) - t0;
  }
  async function oneFloor(i: number): Promise<number> {
    const t0 = now();
    await floorHandle.executeUpdate(pingUpdate, { args: [i] });
    return now() - t0;
  }

  const [clicks, floor] = await alternate({ warmup: WARMUP, n: N, every: 25, a: oneClick, b: oneFloor });
  await floorHandle.executeUpdate(pingUpdate, { args: [-1] });
  await server.close();
  await workers.stop();
  target.close();
  await slack.close();
  await stop();
  return [
    { variant: v.name, path: 'floor', total: statsOf(floor) },
    { variant: v.name, path: 'click', total: statsOf(clicks) },
  ];
}

async function main(): Promise<void> {
  const variants = selectedVariants(process.env.BENCH_VARIANTS ?? 'before,adopted').filter((v) => !v.floor);
  const what = `${WARMUP} warm-up + ${N} Approve clicks and ${N} bare Updates each, alternating, one at a time`;
  const { rows, machine, settings } = await runVariants({ variants, workflowsPath: fileURLToPath(new URL('./approval-workflows.ts', import.meta.url)), what }, runVariant);
  console.log(`\nclick → approved action started vs a bare Update round trip, ms · ${machine.cores} cores (${machine.cpu}) · load before ${machine.loadBefore} · after ${machine.loadAfter}`);
  printTable(['variant', 'path', 'p50', 'p99', 'max', 'n'], rows.map((r) => [r.variant, r.path, r.total.p50Ms, r.total.p99Ms, r.total.maxMs, r.total.n]));
  const of = (variant: string, path: Row['path']): Distribution => rows.find((r) => r.variant === variant && r.path === path)!.total;
  const configurations = variants.map((v) => {
    const floor = of(v.name, 'floor');
    const click = of(v.name, 'click');
    return { configuration: `${v.name}: ${v.what}`, floor, click, ratioP99: Math.round((click.p99Ms / floor.p99Ms) * 100) / 100 };
  });
  // The goal is judged on the adopted settings (else the last variant run); the others are shown beside it.
  const judged = Math.max(0, variants.findIndex((v) => v.name === 'adopted')) || variants.length - 1;
  const main = configurations[judged]!;
  const result = {
    date: new Date().toISOString(),
    machine,
    settings: { engine: benchEngine(), n: N, warmup: WARMUP, order: 'clicks and bare Updates alternate, one at a time', ...settings },
    ...main,
    others: configurations.filter((_, i) => i !== judged),
    goal: { p99Ms: GOAL_P99_MS, met: main.click.p99Ms <= GOAL_P99_MS },
  };
  console.log(`goal: click → approved action started p99 ≤ ${GOAL_P99_MS} ms (${main.configuration}): ${main.click.p99Ms} ms, ${result.goal.met ? 'met' : 'NOT met'}`);
  console.log(`\n${await writeBenchResult(ROOT, 'approval', result)}`);
}

runBench(main);
