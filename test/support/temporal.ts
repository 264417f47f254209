// One real Temporal environment per test file: the CLI dev server for integration tests, the
// Java time-skipping test server for long timers. Both come from scripts/provision.sh.
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { SearchAttributes } from '../../workflows/contracts.js';
import { createMedicWorker, type MedicWorker, type WorkerOptions } from '../../src/temporal/worker.js';
import type { IncidentSink } from '../../src/sinks/sink.js';
import { BUNDLE_PATH, temporalCliPath, testServerPath } from './paths.js';
import { TEST_IDENTITY_KEY } from './identity.js';
import { testServerJavaOpts } from './test-server-cds.js';
import { knownPlaybooks } from './fixtures.js';
import { dynamicConfigArgs } from '../../dev/temporal-dynamic-config.js';

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // a file before this one in the same (non-isolated) fork made the runtime: its logs are louder
  }
}

/**
 * The SDK gives an ephemeral server 5 s to answer, which a JVM on a loaded 2-core machine can
 * miss (most at the start of a run, when every fork starts one while the unit files load the
 * SDKs); such a start is retried for up to a minute and a half (a server that never starts still
 * fails the file).
 */
const START_BUDGET_MS = 90_000;
async function started(start: () => Promise<TestWorkflowEnvironment>): Promise<TestWorkflowEnvironment> {
  const deadline = Date.now() + START_BUDGET_MS;
  for (;;) {
    try {
      return await start();
    } catch (err) {
      if (Date.now() > deadline || !/did not start within/.test(String(err))) throw err;
    }
  }
}


export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return started(() => TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: Object.values(SearchAttributes),
      // medic's dispatch settings (dev/temporal-dynamic-config.ts): the tests run with the latency
      // medic is benchmarked and shipped with (start → first activity ~7 ms instead of ~87 ms).
      extraArgs: dynamicConfigArgs(),
    },
  }));
}

/** An environment on a server this file started itself (e.g. dev/temporal-server.ts, the
 * production engine); teardown() closes the connections and leaves the server running. */
export async function existingServerEnv(address: string, namespace = 'default'): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
}

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  // read by the server's launcher script, which the SDK starts with this process's environment
  process.env.MEDIC_TEST_SERVER_JAVA_OPTS ??= testServerJavaOpts();
  const env = await started(() => TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  }));
  // The Java test server has no --search-attribute flag (createTimeSkipping ignores
  // `searchAttributes`) and rejects undefined ones: "search attribute MedicService is not
  // defined". Its operator service registers them, as createLocal() does for the dev server.
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        Object.values(SearchAttributes).map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]),
      ),
    });
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

export async function workflowBundle(): Promise<{ code: string }> {
  return { code: await readFile(BUNDLE_PATH, 'utf8') };
}

export const uniqueQueue = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`;

export async function medicWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  secrets: Record<string, string> = {},
  sinks: IncidentSink[] = [],
  extra: Partial<Pick<WorkerOptions, 'awsEndpoint' | 'pagerduty' | 'kubernetes' | 'ansible' | 'playbooks' | 'slack' | 'opa' | 'alertmanagerUrl' | 'store' | 'prometheusUrl' | 'evidence'>> = {},
): Promise<MedicWorker> {
  return createMedicWorker({
    playbooks: knownPlaybooks,
    ...extra,
    sinks,
    connection: env.nativeConnection,
    client: env.client,
    taskQueue,
    workflowBundle: await workflowBundle(),
    secrets,
    identityKey: TEST_IDENTITY_KEY, // the test servers sign with the same key
  });
}

/** A worker whose run() has begun; stop() shuts it down and waits for the run to end. */
export interface RunningWorker {
  worker: MedicWorker;
  stop(): Promise<void>;
}
/** medic's worker on the test environment (the bundle built once, this process's playbooks), with
 * `o` on top, already running. */
export async function runTestWorker(env: TestWorkflowEnvironment, taskQueue: string, o: Partial<WorkerOptions> = {}): Promise<RunningWorker> {
  return runWorker(
    await createMedicWorker({
      playbooks: knownPlaybooks, // the playbooks this test built (src/playbooks/registry.ts)
      connection: env.nativeConnection,
      client: env.client,
      taskQueue,
      workflowBundle: await workflowBundle(),
      ...o,
    }),
  );
}

export function runWorker(worker: MedicWorker): RunningWorker {
  const run = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await run;
    },
  };
}
