// A medic worker process for crash tests: built like src/worker.ts (config from the environment,
// createMedicWorker with every activity and the pre-built bundle), but it polls only when the
// parent says `run` over IPC. The test keeps the next worker loaded while it drives the current
// one to a kill point, so a kill -9 is followed by a takeover in well under a second instead of a
// cold start (seconds of module loading on a busy 2-core machine).
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { connectClient, connectWorker, installRuntimeLogger } from '../../src/temporal/connect.js';
import { createMedicWorker } from '../../src/temporal/worker.js';
import { identityKeyOf } from '../../src/identity/key.js';
import { loadRegistryPlaybooks } from '../../src/playbooks/registry.js';
import { slackSinkDeps } from '../../src/slack/client.js';
import { kubernetesDeps, loadKubeConfig } from '../../activities/kubernetes.js';

async function main(): Promise<void> {
  const config = loadConfig();
  installRuntimeLogger(createLogger(config.logLevel), 'WARN');
  const [client, connection] = await Promise.all([connectClient(config), connectWorker(config)]);
  const loaded = await loadRegistryPlaybooks(config);
  const slack = slackSinkDeps(config); // MEDIC_SLACK_*: incident threads, as src/worker.ts does
  const worker = await createMedicWorker({
    connection,
    client,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    secrets: config.secrets,
    identityKey: identityKeyOf(config),
    playbooks: () => loaded.playbooks,
    ...(config.aws?.endpoint ? { awsEndpoint: config.aws.endpoint } : {}),
    ...(config.kubernetes ? { kubernetes: kubernetesDeps(loadKubeConfig(config.kubernetes), config.kubernetes.namespace) } : {}),
    ...(config.ansible ? { ansible: config.ansible } : {}),
    ...(config.pagerduty ? { pagerduty: { server: config.pagerduty.server } } : {}),
    ...(slack ? { slack } : {}),
    ...(config.temporal.workflowBundle ? { workflowBundle: { codePath: config.temporal.workflowBundle } } : {}),
    cache: {
      maxCachedWorkflows: config.temporal.maxCachedWorkflows,
      stickyTimeoutMs: config.temporal.stickyTimeoutMs,
      maxConcurrentLocalActivities: config.temporal.maxConcurrentLocalActivities,
    },
  });
  const go = new Promise<void>((resolve) => process.on('message', (m) => m === 'run' && resolve()));
  process.send?.('loaded');
  await go;
  await worker.run();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
