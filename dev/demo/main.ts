// `npm start`: the embedded demo. Brings up a Temporal dev server (SQLite under .medic/), the
// medic worker and HTTP server, the demo service and detection (Prometheus + Alertmanager, or a
// built-in health watcher), then follows incidents live in the terminal. Needs no Slack or PagerDuty account.
//   --once   run the demo-outage drill by itself, wait for the incident to end, and exit
//            (0 when it resolved): a smoke test of the whole path.
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { destination } from 'pino';
import { ConfigSchema, intakeTokenOf } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { formatProblem, loadPlaybooks } from '../../src/playbooks/load.js';
import { loadRunbooks } from '../../src/runbooks/load.js';
import { runbookPlaybook } from '../../src/runbooks/schema.js';
import { loadDrills } from '../../src/drills/load.js';
import { buildServer } from '../../src/server/app.js';
import { installRuntimeLogger, temporalLogger } from '../../src/temporal/connect.js';
import { createMedicWorker } from '../../src/temporal/worker.js';
import { identityKeyOf } from '../../src/identity/key.js';
import { startDemoService } from '../demo-service.js';
import { freePort } from '../ports.js';
import { demoTemporalCliPath, startTemporalDevServer } from '../temporal-dev-server.js';
import { startPagerDutyStandIn } from '../pagerduty/stand-in.js';
import { startDemoSlack } from '../slack/demo.js';
import { slackSinkDeps } from '../../src/slack/client.js';
import { demoKeyFile, openAudit } from '../../src/audit/setup.js';
import { createAuditSink } from '../../activities/audit.js';
import { createStoreSink } from '../../activities/store.js';
import { medicRegistry } from '../../src/store/metrics.js';
import { tokenSha256 } from '../../src/server/auth.js';
import { buildMetricsServer, listenMetrics } from '../../src/server/metrics.js';
import { openIncidentStore } from '../../src/store/store.js';
import { startDetection } from './detection.js';
import { writeOwnAlertmanagerFiles } from './own-alertmanager.js';
import { followWorkflow, type Follower } from './follow.js';
import type { IncidentStatus } from '../../workflows/contracts.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const token = (): string => randomBytes(24).toString('base64url');

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { once: { type: 'boolean', default: false }, dir: { type: 'string' } } });
  const dir = values.dir ?? join(ROOT, '.medic');
  await mkdir(dir, { recursive: true });
  const say = (line: string): void => console.log(line);
  // Component logs go to a file; the terminal shows the incident timeline.
  const log = createLogger(process.env.MEDIC_LOG_LEVEL ?? 'info', destination(join(dir, 'medic.log')));
  installRuntimeLogger(log, 'WARN');
  // Process warnings (e.g. a library's note about the Node version) go to the log, not between
  // the timeline's lines: Node's own printer is the 'warning' listener it installed at start.
  process.removeAllListeners('warning');
  process.on('warning', (w) => log.warn({ warning: w.name }, w.message));
  // npm start (scripts/start-demo.sh) passes its start time, so provisioning counts too.
  const startedAt = Number(process.env.MEDIC_DEMO_STARTED_AT_MS) || performance.timeOrigin;

  // Ctrl-C: once running, a clean shutdown (the dev server, in its own process group, last);
  // while starting, or a second Ctrl-C, exits at once (the 'exit' hook stops the dev server).
  let stopRequested: (() => void) | undefined;
  const onSignal = (): void => {
    const stop = stopRequested;
    stopRequested = undefined;
    if (stop) stop();
    else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  say('medic demo: starting Temporal dev server…');
  const temporal = await startTemporalDevServer({ root: ROOT, cli: demoTemporalCliPath(ROOT), dbFile: join(dir, 'temporal.db'), ownProcessGroup: true });
  const demoToken = token();
  const demo = await startDemoService(await freePort(8099), { token: demoToken });
  process.env.MEDIC_PB_DEMO_SERVICE_URL = demo.url;
  // PagerDuty Events API stand-in (HTTPS, own CA): escalations page it instead of a real account.
  const pagerduty = await startPagerDutyStandIn({ port: await freePort(8098) });
  // Slack Web API stand-in: incident threads and Approve/Deny without a Slack workspace.
  const slack = await startDemoSlack(await freePort(8097));

  const operatorToken = token();
  const operator = { user: 'demo-operator', tokenSha256: tokenSha256(operatorToken), scopes: ['admin'] };
  const config = ConfigSchema.parse({
    mode: 'demo',
    http: { host: '127.0.0.1', port: await freePort(8080) },
    metrics: { host: '127.0.0.1', port: await freePort(9464) },
    temporal: { address: temporal.address, uiUrl: temporal.uiUrl },
    intake: { alertmanagerToken: token() },
    operators: [operator],
    playbooks: [join(ROOT, 'playbooks')],
    secrets: { DEMO_TOKEN: demoToken, PD_ROUTING_KEY: randomBytes(16).toString('hex') },
    slack: slack.config,
    // No key configured: demo mode generates one beside the log (.medic/audit.key).
    audit: { path: join(dir, 'audit.db'), checkpoints: { file: join(dir, 'audit-checkpoints.jsonl') } },
    store: { path: join(dir, 'store.db') },
    // The demo service is the one target drills may break (drills/*.yaml).
    drills: { paths: [join(ROOT, 'drills')], targets: { demo: { kind: 'demo-service', url: demo.url, tokenSecret: 'DEMO_TOKEN', drillable: true } } },
  });
  const audit = openAudit({ mode: config.mode, audit: config.audit! }, { checkpoints: { onError: say } });
  const store = await openIncidentStore(config.store!);
  const { playbooks, problems } = await loadPlaybooks(config.playbooks);
  const { runbooks } = await loadRunbooks([join(ROOT, 'runbooks')]);
  const { drills, problems: drillProblems } = await loadDrills(config.drills!.paths);
  for (const p of drillProblems) say(`drill skipped: ${p}`);
  for (const p of problems) say(`playbook skipped: ${formatProblem(p)}`);

  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const worker = await createMedicWorker({ connection: nativeConnection, client, taskQueue: config.temporal.taskQueue, secrets: config.secrets, identityKey: identityKeyOf(config), playbooks: () => [...playbooks, ...runbooks.map(runbookPlaybook)], sinks: [createAuditSink(audit.db, { key: audit.key, checkpointer: audit.checkpointer }), createStoreSink(store)], pagerduty: { server: pagerduty.server, agent: new Agent({ ca: pagerduty.certs.ca }) }, slack: slackSinkDeps(config)!, drillTargets: config.drills!.targets, bundleLogger: temporalLogger(log) });
  const workerRun = worker.run();

  const followers = new Map<string, Follower>();
  const ended: IncidentStatus[] = [];
  const onEnd = (status: IncidentStatus): void => {
    if (status.status === 'resolved' && !ended.some((e) => e.status === 'resolved')) {
      const took = status.endedAt !== undefined ? ` (opened → healed in ${Math.round((status.endedAt - status.startedAt) / 1000)} s)` : '';
      say(`  first incident healed ${Math.round((Date.now() - startedAt) / 1000)} s after start${took}`);
    }
    ended.push(status);
  };
  const registry = medicRegistry(store);
  const server = await buildServer({
    config,
    client,
    log,
    identityKey: identityKeyOf(config), // the same per-process key as the worker's (demo mode)
    playbooks: () => playbooks,
    runbooks: () => runbooks,
    audit: audit.log,
    metrics: registry,
    store,
    drills: () => drills,
    // one follower per workflow id: it also picks up later incidents (new runs) under that id
    onIncident: (workflowId) => {
      if (!followers.has(workflowId)) followers.set(workflowId, followWorkflow(client, workflowId, config.temporal.uiUrl, say, { onEnd }));
    },
  });
  const medicUrl = await server.listen({ host: config.http.host, port: config.http.port });
  const metricsServer = buildMetricsServer({ config, registry, log });
  const metricsUrl = await listenMetrics(metricsServer, config);
  slack.standIn.connect({ eventsUrl: `${medicUrl}/slack/events`, signingSecret: slack.config.signingSecret });
  await writeFile(join(dir, 'cli.json'), JSON.stringify({ url: medicUrl, token: operatorToken, audit: config.audit!.path, auditKeyFile: demoKeyFile(config.audit!.path), auditCheckpoints: config.audit!.checkpoints.file }), { mode: 0o600 });
  const own = await writeOwnAlertmanagerFiles(dir, medicUrl, intakeTokenOf(config));
  const detection = await startDetection({ demoUrl: demo.url, medicUrl, token: intakeTokenOf(config), dir, say });

  say(`
medic demo is running
  medic          ${medicUrl}   (operator token in ${join(dir, 'cli.json')}; /metrics on ${metricsUrl})
  Temporal UI    ${temporal.uiUrl}
  demo service   ${demo.url}/healthz
  PagerDuty      ${pagerduty.url}/_stand-in   (stand-in; its CA: ${pagerduty.certs.caPath})
  Slack          ${slack.standIn.url}/   (local Slack: #incidents threads, buttons, /medic; pick a user)
  detection      ${detection.description}
  playbooks      ${playbooks.map((p) => p.name).join(', ')}
  logs           ${join(dir, 'medic.log')}   (everything but the incident timelines)
  your alerts    Alertmanager webhook ${own.webhookUrl}
                 with Authorization: Bearer <the token in ${own.tokenFile}>;
                 a receiver for your alertmanager.yml: ${own.receiverFile}

Break the demo service from another terminal:
  npx medic drill demo-outage      (medic heals it)
  npx medic drill demo-stubborn    (healing fails: medic escalates)
  npx medic status                 (kill switch + open incidents)
In the local Slack page, as "you": /medic run restart-demo — then switch to "sam" to approve it.
Ctrl-C stops everything.
`);

  let exitCode = 0;
  const shutdown = async (): Promise<void> => {
    await detection.stop();
    await Promise.all([...followers.values()].map((f) => f.stop()));
    await server.close();
    await metricsServer.close();
    worker.shutdown();
    await workerRun;
    await demo.close();
    await pagerduty.close();
    await slack.standIn.close();
    await audit.close();
    await store.close();
    await nativeConnection.close();
    await connection.close();
    await temporal.stop();
  };

  if (values.once) {
    say('--once: running drill demo-outage');
    demo.state.fault = 'outage';
    const deadline = Date.now() + 120_000;
    while (ended.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    exitCode = ended[0]?.status === 'resolved' ? 0 : 1;
    say(`--once: incident ${ended[0]?.status ?? 'never ended'}`);
    await shutdown();
    return exitCode;
  }
  await new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  say('\nstopping…');
  await shutdown();
  return exitCode;
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(`medic demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
