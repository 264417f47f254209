// Entry point: the medic worker (incident + governor workflows and all activities).
import { loadConfig } from './config.js';
import { createAuditSink } from '../activities/audit.js';
import { openAudit } from './audit/setup.js';
import { createStoreSink } from '../activities/store.js';
import { openIncidentStore } from './store/store.js';
import { setUpDigest } from './digest/setup.js';
import { createLogger } from './log.js';
import { slackSinkDeps } from './slack/client.js';
import { connectClient, connectWorker, installRuntimeLogger } from './temporal/connect.js';
import { createMedicWorker } from './temporal/worker.js';
import { startTracing } from './tracing.js';
import { kubernetesDeps, loadKubeConfig } from '../activities/kubernetes.js';
import { opaDeps } from '../activities/opa.js';
import { startHealthServer, workerReadiness } from './temporal/health.js';
import { identityKeyOf } from './identity/key.js';
import { loadRegistryPlaybooks } from './playbooks/registry.js';
import { MEDIC_VERSION } from './version.js';
import { lifecycleEventSinks } from './events/connect.js';
import { governorMarkers, storeActions } from '../activities/evidence/sources.js';
import { victoriaLogsSource } from '../activities/evidence/logs.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  log.info({ version: MEDIC_VERSION, node: process.version }, 'medic worker starting');
  const identityKey = identityKeyOf(config); // refuses to start without one in production
  installRuntimeLogger(log);
  // The only playbooks this worker's incidents run: the same files the server loads.
  const loaded = await loadRegistryPlaybooks(config);
  for (const p of loaded.problems) log.error(p);
  log.info({ playbooks: loaded.playbooks.map((p) => p.name) }, 'playbooks loaded');
  const tracing = startTracing(config.tracing, 'worker');
  const [client, connection] = await Promise.all([connectClient(config, tracing?.clientInterceptors), connectWorker(config)]);
  const slack = slackSinkDeps(config);
  const store = config.store ? await openIncidentStore(config.store, { onError: (err) => log.warn(`incident store connection: ${err.message}`) }) : undefined;
  const digest = await setUpDigest(config, client, store);
  // The worker writes the audit log's signed checkpoints (at start, every N entries, every interval, on shutdown).
  const audit = config.audit ? openAudit({ mode: config.mode, audit: config.audit }, { checkpoints: { ...(slack ? { slack: slack.web } : {}), onError: (m) => log.warn(m) } }) : undefined;
  const events = await lifecycleEventSinks(config.bus, log);
  const worker = await createMedicWorker({
    ...(tracing ? { tracing: tracing.worker } : {}),
    connection,
    client,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    secrets: config.secrets,
    identityKey,
    playbooks: () => loaded.playbooks,
    ...(config.prometheus ? { prometheusUrl: config.prometheus.url } : {}),
    ...(config.opa ? { opa: opaDeps(config.opa) } : {}),
    ...(config.alertmanager ? { alertmanagerUrl: config.alertmanager.url } : {}),
    ...(store ? { store } : {}),
    ...(config.aws?.endpoint ? { awsEndpoint: config.aws.endpoint } : {}),
    ...(config.kubernetes ? { kubernetes: { ...kubernetesDeps(loadKubeConfig(config.kubernetes), config.kubernetes.namespace), argocdNamespace: config.kubernetes.argocdNamespace } } : {}),
    ...(config.ansible ? { ansible: config.ansible } : {}),
    ...(config.drills ? { drillTargets: config.drills.targets } : {}),
    sinks: [
      ...(audit ? [createAuditSink(audit.db, { key: audit.key, checkpointer: audit.checkpointer })] : []),
      ...(store ? [createStoreSink(store)] : []),
      ...events.sinks,
    ],
    ...(config.pagerduty ? { pagerduty: { server: config.pagerduty.server } } : {}),
    ...(slack ? { slack } : {}),
    ...(digest ? { digest } : {}),
    evidence: {
      markers: governorMarkers(client, config.temporal.taskQueue),
      ...(store ? { medicActions: storeActions(store) } : {}),
      ...(config.logs ? { logs: victoriaLogsSource({ url: config.logs.url }) } : {}),
    },
    ...(config.temporal.workflowBundle ? { workflowBundle: { codePath: config.temporal.workflowBundle } } : {}),
    versioning: { mode: config.temporal.versioning, deploymentName: config.temporal.deploymentName },
    onPromotion: (p) =>
      log.info(
        { deployment: config.temporal.deploymentName, promotion: p },
        p === 'retired' ? 'this build was superseded: serving the incidents pinned to it, no new ones' : 'this build is the current version: new incidents run on it',
      ),
    cache: {
      maxCachedWorkflows: config.temporal.maxCachedWorkflows,
      stickyTimeoutMs: config.temporal.stickyTimeoutMs,
      maxConcurrentLocalActivities: config.temporal.maxConcurrentLocalActivities,
    },
  });
  const health =
    config.worker.healthPort === undefined ? undefined : await startHealthServer({ port: config.worker.healthPort, ready: workerReadiness(() => worker.states()) });
  if (health) log.info({ port: health.port }, 'worker health endpoints: /healthz, /readyz');
  log.info(
    {
      version: MEDIC_VERSION,
      buildId: worker.buildId,
      versioning: config.temporal.versioning === 'off' ? 'off' : `${config.temporal.versioning} (${config.temporal.deploymentName}.${worker.buildId})`,
      taskQueue: config.temporal.taskQueue,
      address: config.temporal.address,
    },
    'medic worker running',
  );
  // Ours, not the SDK runtime's (installRuntimeLogger): worker.shutdown() stops the governor worker last.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
  await worker.run(); // until SIGINT/SIGTERM
  await health?.close();
  await audit?.close(); // the shutdown checkpoint
  await events.close();
  await tracing?.shutdown(); // sends the spans still buffered
  // Open client connections would keep the process alive after a clean shutdown.
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
