// What the benches share at start: a Temporal (the in-memory dev server, or temporal-server on
// PostgreSQL with BENCH_ENGINE=server) and its clients; for the
// worker-process benches the workflow bundle written once into a temp dir; for the in-process
// latency benches timed workers and the percentile arithmetic.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import { governorTaskQueue } from '../../workflows/contracts.js';
import { PlaybookSchema, type Playbook } from '../../src/playbooks/schema.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';
import { startTemporalServer } from '../../dev/temporal-server.js';
import { LATENCY_DYNAMIC_CONFIG } from '../../dev/temporal-dynamic-config.js';

/** Which Temporal a bench runs on: BENCH_ENGINE=dev (default), the CLI's dev server in memory; or
 * BENCH_ENGINE=server, the production engine, temporal-server on PostgreSQL (dev/temporal-server.ts). */
export type BenchEngine = 'dev' | 'server';
export function benchEngine(): BenchEngine {
  const e = process.env.BENCH_ENGINE ?? 'dev';
  if (e !== 'dev' && e !== 'server') throw new Error(`BENCH_ENGINE must be dev or server (got ${e})`);
  return e;
}

/** `--dynamic-config-value KEY=VALUE` pairs (the dev server's flags, e.g. from BENCH_SERVER_ARGS)
 * as dynamic config values; any other flag has no meaning for temporal-server and is refused. */
export function dynamicConfigFromArgs(args: string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [flag, kv = ''] = [args[i], args[i + 1]];
    const eq = kv.indexOf('=');
    if (flag !== '--dynamic-config-value' || eq < 1) throw new Error(`BENCH_ENGINE=server takes only --dynamic-config-value KEY=VALUE flags (got ${flag} ${kv})`);
    const raw = kv.slice(eq + 1);
    let value: string | number | boolean = raw;
    try {
      value = JSON.parse(raw) as string | number | boolean;
    } catch {
      // a bare string
    }
    out[kv.slice(0, eq)] = value;
  }
  return out;
}

/** What a bench's Temporal runs with: `dynamicConfig` (default medic's, dev/temporal-dynamic-config.ts;
 * {} for the server's own defaults) plus `extraArgs`; on the dev server, `dbFile` for a SQLite file
 * (with `sqlitePragmas`, default SQLITE_PRAGMAS; temporal-server's PostgreSQL is durable anyway). */
export interface BenchEngineOptions {
  dbFile?: string;
  dynamicConfig?: Record<string, string | number | boolean>;
  sqlitePragmas?: Record<string, string>;
  extraArgs?: string[];
}

/** The bench's Temporal (benchEngine()) with `o`'s settings, the same on both engines; prints which one it started. */
export async function startBenchEngine(root: string, o: BenchEngineOptions = {}): Promise<{ address: string; engine: BenchEngine; stop(): Promise<void> }> {
  const engine = benchEngine();
  const extraArgs = o.extraArgs ?? [];
  const dynamicConfig = o.dynamicConfig ?? LATENCY_DYNAMIC_CONFIG;
  console.log(
    `bench: engine ${engine === 'server' ? 'temporal-server on PostgreSQL (BENCH_ENGINE=server)' : `Temporal CLI dev server, ${o.dbFile ? 'SQLite file' : 'in memory'} (BENCH_ENGINE=dev)`}; ` +
      `dynamic config ${JSON.stringify(dynamicConfig)}${extraArgs.length ? ` + ${extraArgs.join(' ')}` : ''}`,
  );
  if (engine === 'server') {
    const server = await startTemporalServer({ root, dynamicConfig: { ...dynamicConfig, ...dynamicConfigFromArgs(extraArgs) } });
    return { address: server.address, engine, stop: () => server.stop() };
  }
  const dev = await startTemporalDevServer({ root, ui: false, dbFile: o.dbFile, sqlitePragmas: o.sqlitePragmas, dynamicConfig, extraArgs });
  return { address: dev.address, engine, stop: () => dev.stop() };
}

export async function startBenchTemporal(root: string, name: string, workflowsPath: string) {
  const temporal = await startBenchEngine(root);
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

/** The bench's Temporal (startBenchEngine) with a client (with `interceptors`) and a native
 * connection, for benches whose workers run in this process; stop() closes them in order. */
export async function startInProcessTemporal(root: string, o: BenchEngineOptions & { interceptors?: WorkflowClientInterceptor[] } = {}) {
  const temporal = await startBenchEngine(root, o);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, interceptors: { workflow: o.interceptors ?? [] } });
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
 * own task queue and slots (see src/temporal/worker.ts); with `actionQueue`, a third worker that
 * runs only activities, on that queue. `options` are the SDK worker options under test.
 */
export async function startTimedWorkers(o: { nativeConnection: NativeConnection; taskQueue: string; code: string; activities: object; watch: string[]; options?: Partial<WorkerOptions>; actionQueue?: string }) {
  const started = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const timed: ActivityInterceptorsFactory = () => ({
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
  });
  const common = { connection: o.nativeConnection, activities: o.activities, interceptors: { activity: [timed] }, ...o.options };
  const worker = await Worker.create({ ...common, taskQueue: o.taskQueue, workflowBundle: { code: o.code } });
  const actions = o.actionQueue ? await Worker.create({ ...common, taskQueue: o.actionQueue }) : undefined;
  const governor = await Worker.create({ connection: o.nativeConnection, taskQueue: governorTaskQueue(o.taskQueue), workflowBundle: { code: o.code } });
  const incidentRun = Promise.all([worker.run(), actions?.run()]);
  const bothRun = Promise.all([incidentRun, governor.run()]);
  return {
    /** When the watched activity of this workflow started (after waitStarted). */
    startedAt: (workflowId: string): number => started.get(workflowId)!,
    waitStarted: (workflowId: string): Promise<void> =>
      started.has(workflowId) ? Promise.resolve() : new Promise((r) => waiters.set(workflowId, r)),
    async stop(): Promise<void> {
      worker.shutdown();
      actions?.shutdown();
      // The governor worker last: a draining incident may still be calling it (src/temporal/worker.ts).
      await incidentRun.catch(() => undefined);
      governor.shutdown();
      await bothRun;
    },
  };
}

/** Runs `a` and `b` alternately, one at a time, `warmup` + `n` rounds; returns the timings of the last n of each. */
export async function alternate(o: { warmup: number; n: number; every: number; a: (i: number) => Promise<number>; b: (i: number) => Promise<number> }): Promise<[number[], number[]]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < o.warmup + o.n; i++) {
    const a = await o.a(i);
    const b = await o.b(i);
    if (i >= o.warmup) {
      as.push(a);
      bs.push(b);
    }
    if ((i + 1) % o.every === 0) console.log(`bench: ${i + 1}/${o.warmup + o.n}`);
  }
  return [as, bs];
}

/** The benches' playbook: one `poke` step (POST pokeUrl) for alerts named `alertname`, limits out of the way. */
export const benchPlaybook = (name: string, alertname: string, pokeUrl: string, step: Record<string, unknown> = {}): Playbook =>
  PlaybookSchema.parse({
    name,
    match: { alertname },
    groupBy: ['alertname', 'service'],
    target: '{{labels.service}}',
    limits: BENCH_LIMITS,
    steps: [{ name: 'poke', action: 'http', params: { method: 'POST', url: pokeUrl }, timeout: '5s', ...step }],
  });
