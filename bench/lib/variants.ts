// The server and worker settings the latency benches compare, each run against its own floor on
// a fresh server (runVariants). BENCH_VARIANTS=name,name picks some (default: every one marked
// `byDefault`, kept to a run of a few minutes).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkerOptions } from '@temporalio/worker';
import { SQLITE_PRAGMAS } from '../../dev/temporal-dev-server.js';
import { LATENCY_DYNAMIC_CONFIG } from '../../dev/temporal-dynamic-config.js';
import { loadAverage, machine } from './process.js';
import type { Machine } from './results.js';
import type { BenchEngineOptions } from './temporal.js';

export interface Variant {
  name: string;
  what: string;
  /** Dev-server persistence: in memory, or a SQLite file (durable across restarts). */
  db: 'memory' | 'file';
  dynamicConfig: Record<string, string | number | boolean>;
  /** SQLite pragmas of a file-backed server; absent: medic's (dev/temporal-dev-server.ts SQLITE_PRAGMAS, WAL). */
  sqlitePragmas?: Record<string, string>;
  /** SDK worker options under test (all workers of the run). */
  worker?: Partial<WorkerOptions>;
  /** How the floor workflow runs its no-op: an activity on its own queue (default), on a separate
   * queue, or a local activity. Such variants are floor-only: medic runs actions as activities on
   * the incident's task queue. */
  floor?: 'separate-queue' | 'local';
  byDefault: boolean;
}

const POLL = { 'history.transferProcessorMaxPollRPS': LATENCY_DYNAMIC_CONFIG['history.transferProcessorMaxPollRPS'] };
const EAGER = { 'system.enableActivityEagerExecution': true };
const ADOPTED = { db: 'file', dynamicConfig: { ...LATENCY_DYNAMIC_CONFIG } } as const;
/** SQLite's own defaults: rollback journal, an fsync at every commit. */
const JOURNAL = {};

export const VARIANTS: Variant[] = [
  { name: 'before', what: 'in memory, server defaults (medic before)', db: 'memory', dynamicConfig: {}, byDefault: true },
  { name: 'file', what: 'SQLite file (its defaults), server defaults', db: 'file', sqlitePragmas: JOURNAL, dynamicConfig: {}, byDefault: false },
  { name: 'file+poll', what: 'SQLite file (its defaults), transfer poll 1000/s', db: 'file', sqlitePragmas: JOURNAL, dynamicConfig: POLL, byDefault: false },
  { name: 'file+eager', what: 'SQLite file (its defaults), eager activities', db: 'file', sqlitePragmas: JOURNAL, dynamicConfig: EAGER, byDefault: false },
  { name: 'file+both', what: 'SQLite file (its defaults), poll 1000/s + eager', db: 'file', sqlitePragmas: JOURNAL, dynamicConfig: { ...LATENCY_DYNAMIC_CONFIG }, byDefault: true },
  { name: 'adopted', what: 'SQLite file in WAL mode, poll 1000/s + eager (medic default)', ...ADOPTED, byDefault: true },
  { name: 'memory+both', what: 'in memory, poll 1000/s + eager', db: 'memory', dynamicConfig: { ...LATENCY_DYNAMIC_CONFIG }, byDefault: true },
  {
    name: 'autoscale-pollers',
    what: 'adopted + poller autoscaling (1..20, initial 5)',
    ...ADOPTED,
    worker: { workflowTaskPollerBehavior: { type: 'autoscaling', minimum: 1, maximum: 20, initial: 5 }, activityTaskPollerBehavior: { type: 'autoscaling', minimum: 1, maximum: 20, initial: 5 } },
    byDefault: false,
  },
  { name: 'many-pollers', what: 'adopted + 20 workflow/20 activity pollers', ...ADOPTED, worker: { maxConcurrentWorkflowTaskPolls: 20, maxConcurrentActivityTaskPolls: 20 }, byDefault: false },
  // Off by default: with no cache, medic's local activities (the governor check) make SDK core log
  // "outgoing commands … if the activation was only an eviction. This is an SDK bug" (TS SDK 1.24).
  { name: 'no-sticky', what: 'adopted + no sticky cache (maxCachedWorkflows 0)', ...ADOPTED, worker: { maxCachedWorkflows: 0 }, byDefault: false },
  { name: 'sticky-1s', what: 'adopted + sticky schedule-to-start 1s', ...ADOPTED, worker: { stickyQueueScheduleToStartTimeout: '1s' }, byDefault: false },
  { name: 'action-queue', what: 'adopted, floor no-op on a separate task queue', ...ADOPTED, floor: 'separate-queue', byDefault: true },
  { name: 'local-activity', what: 'adopted, floor no-op as a local activity', ...ADOPTED, floor: 'local', byDefault: true },
];

/** The variants named in BENCH_VARIANTS (comma-separated; "all" for every one), else the defaults. */
export function selectedVariants(env = process.env.BENCH_VARIANTS): Variant[] {
  if (!env) return VARIANTS.filter((v) => v.byDefault);
  if (env === 'all') return VARIANTS;
  return env.split(',').map((name) => {
    const v = VARIANTS.find((x) => x.name === name.trim());
    if (!v) throw new Error(`BENCH_VARIANTS: unknown variant "${name}" (known: ${VARIANTS.map((x) => x.name).join(', ')}, all)`);
    return v;
  });
}

/** A variant's settings, in one line for the results file's settings. */
export function describeVariant(v: Variant): string {
  const pragmas = v.db === 'file' ? (v.sqlitePragmas ?? SQLITE_PRAGMAS) : undefined;
  return [
    v.db === 'file' ? `SQLite file${pragmas && Object.keys(pragmas).length ? ` (${Object.entries(pragmas).map(([k, x]) => `${k}=${x}`).join(', ')})` : " (SQLite's defaults)"}` : 'in memory',
    `dynamic config ${Object.keys(v.dynamicConfig).length ? JSON.stringify(v.dynamicConfig) : "(the server's defaults)"}`,
    ...(v.worker ? [`worker ${JSON.stringify(v.worker)}`] : []),
    ...(v.floor ? [`floor no-op ${v.floor}`] : []),
  ].join('; ');
}

/** The server a variant runs on (bench/lib/temporal.ts startBenchEngine); a file in `dir`. BENCH_SERVER_ARGS adds dev-server flags. */
export const engineOptions = (v: Variant, dir: string): BenchEngineOptions => ({
  dbFile: v.db === 'file' ? join(dir, `${v.name}.db`) : undefined,
  dynamicConfig: v.dynamicConfig,
  sqlitePragmas: v.sqlitePragmas,
  extraArgs: (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean),
});

/**
 * The variant loop the latency benches share: the workflow bundle built once, then `run` for each
 * variant in turn (each starts its own server, files in a temp dir removed at the end). Returns the
 * rows, the machine with its load before and after, and the settings line of every variant.
 */
export async function runVariants<R>(o: { variants: Variant[]; workflowsPath: string; what: string }, run: (v: Variant, code: string, dir: string) => Promise<R[]>): Promise<{ rows: R[]; machine: Machine; settings: Record<string, string> }> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const loadBefore = loadAverage();
  console.log(`bench: load before ${loadBefore}; variants ${o.variants.map((v) => v.name).join(', ')}; ${o.what}; bundling workflows…`);
  const { code } = await bundleWorkflowCode({ workflowsPath: o.workflowsPath, logger: new DefaultLogger('ERROR') });
  const dir = await mkdtemp(join(tmpdir(), 'medic-variants-'));
  const rows: R[] = [];
  try {
    for (const v of o.variants) {
      console.log(`bench: ${v.name} — ${v.what} (load ${loadAverage()})`);
      rows.push(...(await run(v, code, dir)));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { rows, machine: machine(loadBefore), settings: Object.fromEntries(o.variants.map((v) => [`variant ${v.name}`, describeVariant(v)])) };
}
