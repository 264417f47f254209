// Entry point: medic's HTTP server (alert intake + operator API).
import { ConfigError, loadConfig } from '../config.js';
import { startDetectors } from '../detect/runner.js';
import { ingestAlerts } from '../intake/ingest.js';
import { createLogger } from '../log.js';
import { envPolicyFrom, formatProblem, loadPlaybooks } from '../playbooks/load.js';
import { loadRunbooks } from '../runbooks/load.js';
import { loadDrills } from '../drills/load.js';
import { connectClient } from '../temporal/connect.js';
import { startTracing } from '../tracing.js';
import { buildServer } from './app.js';
import { openAudit } from '../audit/setup.js';
import { buildMetricsServer, listenMetrics } from './metrics.js';
import { medicRegistry } from '../store/metrics.js';
import { openIncidentStore } from '../store/store.js';
import { identityKeyOf } from '../identity/key.js';
import { MEDIC_VERSION } from '../version.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  log.info({ version: MEDIC_VERSION, node: process.version }, 'medic server starting');
  const identityKey = identityKeyOf(config); // refuses to start without one in production
  const envPolicy = envPolicyFrom(process.env, config.playbookEnv);
  const { playbooks, problems } = await loadPlaybooks(config.playbooks, envPolicy);
  // A broken playbook is reported and skipped; the others keep working.
  for (const p of problems) log.error({ file: p.file }, `playbook skipped: ${formatProblem(p)}`);
  log.info({ playbooks: playbooks.map((p) => p.name) }, 'playbooks loaded');
  const { runbooks, problems: runbookProblems } = await loadRunbooks(config.runbooks, envPolicy);
  for (const p of runbookProblems) log.error(`runbook skipped: ${p}`);
  const { drills, problems: drillProblems } = config.drills ? await loadDrills(config.drills.paths) : { drills: [], problems: [] };
  for (const p of drillProblems) log.error(`drill skipped: ${p}`);
  // Before the server listens, so its HTTP requests are traced (src/tracing.ts).
  const tracing = startTracing(config.tracing, 'server');
  if (tracing) log.info({ endpoint: config.tracing?.otlpEndpoint }, 'tracing to OTLP');
  const client = await connectClient(config, tracing?.clientInterceptors);
  const audit = config.audit ? openAudit({ mode: config.mode, audit: config.audit }).log : undefined; // keyed: kill-switch entries carry MACs
  const store = config.store ? await openIncidentStore(config.store, { onError: (err) => log.warn(`incident store connection: ${err.message}`) }) : undefined;
  const metrics = medicRegistry(store);
  const app = await buildServer({ config, client, log, identityKey, playbooks: () => playbooks, runbooks: () => runbooks, metrics, ...(audit ? { audit } : {}), ...(store ? { store } : {}), ...(config.drills ? { drills: () => drills } : {}) });
  await app.listen({ host: config.http.host, port: config.http.port });
  log.info({ port: config.http.port }, 'medic server listening');
  // /metrics on its own listener unless configured onto the public one (behind metrics.token).
  const metricsServer = config.metrics.listener === 'separate' ? buildMetricsServer({ config, registry: metrics, log }) : undefined;
  if (metricsServer) log.info({ url: await listenMetrics(metricsServer, config) }, 'metrics listener');
  if (config.detectors.length > 0) {
    if (!config.prometheus) throw new ConfigError(['detectors: need prometheus.url (MEDIC_PROMETHEUS_URL)']);
    const ingest = { client, taskQueue: config.temporal.taskQueue, playbooks: () => playbooks, log };
    startDetectors({
      detectors: config.detectors,
      prometheusUrl: config.prometheus.url,
      deliver: (alerts) => ingestAlerts(ingest, alerts),
      onError: (detector, err) => log.warn({ detector }, `detector evaluation failed: ${err.message}`),
    });
    log.info({ detectors: config.detectors.map((d) => d.name) }, 'detectors running');
  }
  const stop = (): void =>
    void Promise.all([app.close(), metricsServer?.close()])
      .then(() => tracing?.shutdown()) // sends the spans still buffered
      .then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
