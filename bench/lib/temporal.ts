// What the benches share at start: a Temporal (the in-memory dev server, or temporal-server on
// PostgreSQL with BENCH_ENGINE=server) and its clients; for the
// worker-process benches the workflow bundle written once into a temp dir; for the in-process
// latency benches timed workers and the percentile arithmetic.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { governorTaskQueue } from '../../workflows/contracts.js';
import { PlaybookSchema, type Playbook } from '../../src/playbooks/schema.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';
import { startTemporalServer } from '../../dev/temporal-server.js';
import { dynamicConfigArgs, LATENCY_DYNAMIC_CONFIG } from '../../dev/temporal-dynamic-config.js';

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

/**
 * The bench's Temporal (benchEngine()), with medic's dynamic config (dev/temporal-dynamic-config.ts)
 * and `extraArgs` on top, so both engines run the same settings; prints which one it started.
 */
export async function startBenchEngine(root: string, extraArgs: string[] = []): Promise<{ address: string; engine: BenchEngine; stop(): Promise<void> }> {
  const engine = benchEngine();
  console.log(
    `bench: engine ${engine === 'server' ? 'temporal-server on PostgreSQL (BENCH_ENGINE=server)' : 'Temporal CLI dev server, in memory (BENCH_ENGINE=dev)'}; ` +
      `dynamic config ${JSON.stringify(LATENCY_DYNAMIC_CONFIG)}${extraArgs.length ? ` + ${extraArgs.join(' ')}` : ''}`,
  );
  if (engine === 'server') {
    const settings = { ...LATENCY_DYNAMIC_CONFIG, ...dynamicConfigFromArgs(extraArgs) };
    const server = await startTemporalServer({ root, dynamicConfig: settings });
    return { address: server.address, engine, stop: () => server.stop() };
  }
  const dev = await startTemporalDevServer({ root, ui: false, extraArgs: [...dynamicConfigArgs(LATENCY_DYNAMIC_CONFIG), ...extraArgs] });
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

/** An in-memory dev server with a client and a native connection, for benches whose workers run
 * in this process; stop() closes them in order. */
export async function startInProcessTemporal(root: string, extraArgs: string[] = []) {
  const temporal = await startBenchEngine(root, extraArgs);
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

/** One result line: p50, p99 and max of `xs` (ms), the name padded to `width`. */
export const latencyRow = (name: string, xs: number[], width: number): string =>
  `${name.padEnd(width)} p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms   p99 ${pct(xs, 99).toFixed(1).padStart(6)} ms   max ${Math.max(...xs).toFixed(1).padStart(6)} ms`;

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
