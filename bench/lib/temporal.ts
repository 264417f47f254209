// What the benches share at start: an in-memory Temporal dev server and its clients; for the
// worker-process benches the workflow bundle written once into a temp dir; for the in-process
// latency benches timed workers and the percentile arithmetic.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { governorTaskQueue } from '../../workflows/contracts.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';

export async function startBenchTemporal(root: string, name: string, workflowsPath: string) {
  const temporal = await startTemporalDevServer({ root, ui: false });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const dir = await mkdtemp(join(tmpdir(), `medic-${name}-`));
  const bundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, (await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') })).code);
  return { temporal, connection, client, dir, bundlePath };
}

/** Now, in ms since the epoch, with sub-millisecond resolution (what the latency benches time with). */
export const now = (): number => performance.timeOrigin + performance.now();

/** The p-th percentile of xs (nearest rank). */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Limits far out of the way: the latency benches measure the path, not the governor's refusals. */
export const BENCH_LIMITS = { maxActionsPerHourGlobal: 100_000, maxActionsPerHourPerTarget: 100, maxConcurrentGlobal: 1000, maxTargetsPerWindow: { targets: 100_000, window: '1h' } };

/** An in-memory dev server with a client and a native connection, for benches whose workers run
 * in this process; stop() closes them in order. */
export async function startInProcessTemporal(root: string, extraArgs: string[] = []) {
  const temporal = await startTemporalDevServer({ root, ui: false, extraArgs });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  return {
    temporal,
    connection,
    client,
    nativeConnection,
    async stop(): Promise<void> {
      await nativeConnection.close();
      await connection.close();
      await temporal.stop();
    },
  };
}

/**
 * The incident worker, recording when the first activity of a `watch`ed type starts for each
 * workflow (an activity interceptor, so the time is the worker's), and the governor worker on its
 * own task queue and slots (see src/temporal/worker.ts).
 */
export async function startTimedWorkers(o: { nativeConnection: NativeConnection; taskQueue: string; code: string; activities: object; watch: string[] }) {
  const started = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const worker = await Worker.create({
    connection: o.nativeConnection,
    taskQueue: o.taskQueue,
    activities: o.activities,
    workflowBundle: { code: o.code },
    interceptors: {
      activity: [
        () => ({
          inbound: {
            execute: (input, next) => {
              const info = Context.current().info;
              const id = info.workflowExecution?.workflowId ?? '';
              if (o.watch.includes(info.activityType) && !started.has(id)) {
                started.set(id, now());
                waiters.get(id)?.();
              }
              return next(input);
            },
          },
        }),
      ],
    },
  });
  const governor = await Worker.create({ connection: o.nativeConnection, taskQueue: governorTaskQueue(o.taskQueue), workflowBundle: { code: o.code } });
  const incidentRun = worker.run();
  const bothRun = Promise.all([incidentRun, governor.run()]);
  return {
    /** When the watched activity of this workflow started (after waitStarted). */
    startedAt: (workflowId: string): number => started.get(workflowId)!,
    waitStarted: (workflowId: string): Promise<void> =>
      started.has(workflowId) ? Promise.resolve() : new Promise((r) => waiters.set(workflowId, r)),
    async stop(): Promise<void> {
      worker.shutdown();
      // The governor worker last: a draining incident may still be calling it (src/temporal/worker.ts).
      await incidentRun.catch(() => undefined);
      governor.shutdown();
      await bothRun;
    },
  };
}
