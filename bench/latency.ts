// npm run bench:latency — alert received → first action activity started, against the floor
// measured in the same run on the same server: a trivial workflow running one no-op activity.
// Both are timed from the moment the request leaves the client to the moment the activity
// starts on the worker (recorded by an activity interceptor), alternating one of each.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities } from '../activities/index.js';
import { ConfigSchema } from '../src/config.js';
import { alertmanagerPayload } from '../dev/health-watcher.js';
import { alternate, benchPlaybook, latencyRow, now, pct, startInProcessTemporal, startTimedWorkers } from './lib/temporal.js';
import { buildServer } from '../src/server/app.js';
import { runBench } from './lib/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.BENCH_N ?? 200);
const WARMUP = 20;
const TOKEN = 'bench-intake-token-0123456789';
const taskQueue = 'bench';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  console.log('bench: starting Temporal…');
  // BENCH_ENGINE=server: temporal-server on PostgreSQL instead of the dev server (bench/lib/temporal.ts).
  // BENCH_SERVER_ARGS: extra dev-server flags (server: only --dynamic-config-value), e.g. one task-queue partition:
  //   --dynamic-config-value matching.numTaskqueueReadPartitions=1 --dynamic-config-value matching.numTaskqueueWritePartitions=1
  const extraArgs = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
  const { client, nativeConnection, stop } = await startInProcessTemporal(ROOT, extraArgs);

  // The action target: answers at once.
  const sink = createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;

  const activities = {
    ...createActivities({ client, taskQueue, fetch, secret: () => undefined, playbooks: () => [playbook] }),
    noop: async () => undefined,
  };
  console.log('bench: bundling workflows…');
  const { code } = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)) });
  const workers = await startTimedWorkers({ nativeConnection, taskQueue, code, activities, watch: ['httpAction', 'noop'] });

  const playbook = benchPlaybook('bench', 'BenchAlert', `${sinkUrl}/poke`);
  // One incident per alert, each its own group of one playbook: the open-incident cap is raised out of the way.
  const limits = { maxOpenIncidentsPerPlaybook: 10_000 };
  const config = ConfigSchema.parse({ temporal: { taskQueue }, intake: { alertmanagerToken: TOKEN, limits }, http: { port: 0 } });
  const server = await buildServer({ config, client, log: pino({ level: 'silent' }), playbooks: () => [playbook] });
  const medicUrl = await server.listen({ host: '127.0.0.1', port: 0 });

  async function oneAlert(i: number): Promise<number> {
    const body = JSON.stringify(alertmanagerPayload('firing', { alertname: 'BenchAlert', service: `svc-${i}` }, new Date().toISOString()));
    const t0 = now();
    const res = await fetch(`${medicUrl}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body,
    });
    const { incidents } = (await res.json()) as { incidents: { workflowId: string }[] };
    const id = incidents[0]!.workflowId;
    await workers.waitStarted(id);
    return workers.startedAt(id) - t0;
  }

  async function oneFloor(i: number): Promise<number> {
    const workflowId = `floor-${i}`;
    const t0 = now();
    await client.workflow.start('floorWorkflow', { workflowId, taskQueue, args: [] });
    await workers.waitStarted(workflowId);
    return workers.startedAt(workflowId) - t0;
  }

  console.log(`bench: ${WARMUP} warm-up rounds, then ${N} alerts and ${N} floor workflows, alternating, one at a time…`);
  const [medic, floor] = await alternate({ warmup: WARMUP, n: N, every: 50, a: oneAlert, b: oneFloor });
  const row = (name: string, xs: number[]): string => latencyRow(name, xs, 34);
  console.log('');
  console.log(row('floor (start → no-op activity)', floor));
  console.log(row('medic (alert → action started)', medic));
  console.log(`ratio p50 ${(pct(medic, 50) / pct(floor, 50)).toFixed(2)}x   ratio p99 ${(pct(medic, 99) / pct(floor, 99)).toFixed(2)}x   (goal: p99 ≤ 1.5x floor)`);

  await server.close();
  await workers.stop();
  sink.close();
  await stop();
}

runBench(main);
