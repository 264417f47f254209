// npm run bench:approval — a Slack Approve click → the approved action's activity started,
// p50/p99 over BENCH_N clicks (default 100), against the floor measured in the same run on the
// same server: a bare Temporal Update round trip on a running workflow. The click is a correctly
// signed block_actions request from the Slack stand-in to medic's Bolt endpoint; medic then
// queries the incident, runs the Update (validator + handler), and the workflow re-checks its
// gates with the governor before the action starts.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities } from '../activities/index.js';
import { createSlackSink } from '../src/sinks/slack/sink.js';
import { ConfigSchema } from '../src/config.js';
import { slackInteractor } from '../dev/slack/interact.js';
import { startSlackStandIn } from '../dev/slack/server.js';
import { alternate, benchPlaybook, latencyRow, now, pct, startInProcessTemporal, startTimedWorkers } from './lib/temporal.js';
import { ingestAlerts } from '../src/intake/ingest.js';
import { buildServer } from '../src/server/app.js';
import { slackWebClient } from '../src/slack/client.js';
import { pingUpdate } from './approval-workflows.js';
import { runBench } from './lib/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Shared by the server (signs who clicked) and the worker (checks it). */
const IDENTITY_KEY = randomBytes(32);
const N = Number(process.env.BENCH_N ?? 100);
const WARMUP = 10;
const taskQueue = 'bench-approval';
const APPROVER = 'U0BENCH';
const SECRET = 'bench-signing-secret-0123456789';
const TOKEN = 'xoxb-bench';
const log = pino({ level: 'silent' });

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  console.log('bench: starting Temporal dev server (in memory) and the Slack stand-in…');
  const { client, nativeConnection, stop } = await startInProcessTemporal(ROOT);
  // Posting is not what is measured: generous limits so setting up 100 approvals is quick.
  const fast = { burst: 10_000, perSecond: 10_000 };
  const slack = await startSlackStandIn({ botToken: TOKEN, users: [{ id: APPROVER, name: 'bench' }], rateLimits: { postMessagePerChannel: fast, tier3: fast, tier4: fast } });

  const target = createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;

  const sink = createSlackSink({ web: slackWebClient({ botToken: TOKEN, apiUrl: slack.apiUrl }), channel: 'C0INCIDENT', postPace: fast, updatePace: fast });
  console.log('bench: bundling workflows…');
  const { code } = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./approval-workflows.ts', import.meta.url)) });
  const activities = createActivities({ client, taskQueue, fetch, secret: () => undefined, sinks: [sink], identityKey: IDENTITY_KEY, playbooks: () => [playbook] });
  const workers = await startTimedWorkers({ nativeConnection, taskQueue, code, activities, watch: ['httpAction'] });

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

  console.log(`bench: ${WARMUP} warm-up rounds, then ${N} Approve clicks and ${N} bare Updates, alternating, one at a time…`);
  const [clicks, floor] = await alternate({ warmup: WARMUP, n: N, every: 25, a: oneClick, b: oneFloor });
  const row = (name: string, xs: number[]): string => latencyRow(name, xs, 40);
  console.log('');
  console.log(row('floor (bare Update round trip)', floor));
  console.log(row('click → approved action started', clicks));
  console.log(`p99 ${pct(clicks, 99).toFixed(1)} ms (goal ≤ 300 ms): ${pct(clicks, 99) <= 300 ? 'met' : 'NOT met'}`);

  await floorHandle.executeUpdate(pingUpdate, { args: [-1] });
  await server.close();
  await workers.stop();
  target.close();
  await slack.close();
  await stop();
}

runBench(main);
