// The production engine on this machine: the multi-service Temporal server (`temporal-server`, the
// same version the CLI's dev server embeds; scripts/provision-temporal-server.sh) on PostgreSQL
// (postgres12 persistence and visibility), its schema set up by `temporal-sql-tool` from the
// versioned schema directories the server module ships, all four services (frontend, history,
// matching, worker) in one process on loopback ports, the default namespace and medic's search
// attributes registered through the operator API, and medic's dynamic config
// (dev/temporal-dynamic-config.ts). Used by test/integration/temporal-server-postgres.test.ts and
// by the benches with BENCH_ENGINE=server.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { msToTs } from '@temporalio/common/lib/time.js';
import { stringify } from 'yaml';
import { SearchAttributes } from '../workflows/contracts.js';
import { waitForTemporal } from '../src/temporal/connect.js';
import { dynamicConfigYaml, LATENCY_DYNAMIC_CONFIG } from './temporal-dynamic-config.js';
import { postgresBinDir, startPostgres, type StartedPostgres } from './postgres.js';
import { freePort } from './ports.js';

const run = promisify(execFile);
const NAMESPACE = 'default';
/** Shards are fixed for the life of a database; 4 is the server's own development default. */
const HISTORY_SHARDS = 4;
const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
/** The databases the server's two stores live in (inside the given PostgreSQL). */
export const TEMPORAL_DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;

/** What scripts/provision-temporal-server.sh puts into .cache: the two binaries and the schema. */
export function temporalServerParts(root: string): { server: string; sqlTool: string; schema: string } {
  const bin = join(root, '.cache', 'bin');
  return {
    server: join(bin, 'temporal-server'),
    sqlTool: join(bin, 'temporal-sql-tool'),
    schema: join(bin, 'temporal-server-schema', 'postgresql', 'v12'),
  };
}

export interface TemporalServer {
  /** host:port of the frontend */
  address: string;
  namespace: string;
  postgres: StartedPostgres;
  process: ChildProcess;
  /** Ends the server (SIGKILL: a crash; SIGTERM: a clean stop) and starts it again on the same
   * ports and database; resolves when the frontend answers again. */
  restart(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  stop(): Promise<void>;
}

export interface TemporalServerOptions {
  root: string;
  /** A running PostgreSQL (its URL's user must be allowed to create databases); default: a
   * throwaway one from dev/postgres.ts, stopped with the server. */
  postgres?: StartedPostgres;
  dynamicConfig?: Record<string, string | number | boolean>;
  /** The server's log level (its log goes to <dir>/temporal-server.log). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

type Ports = Record<(typeof SERVICES)[number], { grpcPort: number; membershipPort: number }> & { http: number };

/** The server stores membership ports in a SQL smallint (cluster_membership.rpc_port): every
 * port must be below 32768, so not from the kernel's ephemeral range (32768–60999 on Linux). */
async function allocatePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const candidate = 20_000 + Math.floor(Math.random() * 12_000);
      if (!taken.has(candidate) && (await freePort(candidate)) === candidate) return taken.add(candidate), candidate;
    }
    throw new Error('no free port between 20000 and 32000 on 127.0.0.1 for temporal-server');
  };
  const ports = { http: await next() } as Ports;
  for (const s of SERVICES) ports[s] = { grpcPort: await next(), membershipPort: await next() };
  return ports;
}

/** The server's static config: postgres12 for both stores, every service on 127.0.0.1. */
function serverConfig(pg: URL, ports: Ports, dynamicConfigFile: string, logLevel: string): string {
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${pg.hostname}:${pg.port}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(pg.username),
      password: decodeURIComponent(pg.password),
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (s: (typeof SERVICES)[number]) => ({ rpc: { ...ports[s], bindOnLocalHost: true, ...(s === 'frontend' ? { httpPort: ports.http } : {}) } });
  return stringify({
    log: { stdout: true, level: logLevel },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: { 'postgres-default': sql(TEMPORAL_DATABASES.default, 20), 'postgres-visibility': sql(TEMPORAL_DATABASES.visibility, 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(SERVICES.map((s) => [s, rpc(s)])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend.grpcPort}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  });
}

/** Creates both databases and brings their schema to the version the server ships: create-database
 * + setup-schema (version 0.0) once, then update-schema from the versioned directories (a no-op
 * when already current). */
async function setupSchema(sqlTool: string, schemaDir: string, pg: URL, pgPassword: string): Promise<void> {
  const env = { ...process.env, SQL_PASSWORD: pgPassword };
  const base = ['--plugin', 'postgres12', '--ep', pg.hostname, '--port', pg.port, '--user', decodeURIComponent(pg.username)];
  const tool = async (db: string, args: string[]): Promise<void> => {
    try {
      await run(sqlTool, [...base, '--db', db, ...args], { env });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`temporal-sql-tool ${args[0]} (${db}) failed: ${(e.stderr || e.stdout || e.message).trim().split('\n').slice(-5).join('\n')}`, { cause: err });
    }
  };
  const { stdout } = await run(join(postgresBinDir(), 'psql'), ['-h', pg.hostname, '-p', pg.port, '-U', decodeURIComponent(pg.username), '-d', 'postgres', '-Atqc', 'SELECT datname FROM pg_database'], {
    env: { ...process.env, PGPASSWORD: pgPassword, PGCONNECT_TIMEOUT: '10' },
  });
  const existing = new Set(stdout.split('\n').map((l) => l.trim()));
  for (const [store, db] of [['temporal', TEMPORAL_DATABASES.default], ['visibility', TEMPORAL_DATABASES.visibility]] as const) {
    if (!existing.has(db)) {
      await tool(db, ['create-database']);
      await tool(db, ['setup-schema', '-v', '0.0']);
    }
    await tool(db, ['update-schema', '-d', join(schemaDir, store, 'versioned')]);
  }
}

/** Retries `call` until it succeeds or 30 s pass: the frontend serves a namespace, and queries on
 * a new search attribute, only once its caches have them (refreshed every ~10 s). */
async function whenServed<T>(what: string, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} not served 30 s after registering it: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The default namespace and medic's search attributes, each only when missing (a restarted or
 * reused database already has them). */
async function registerNamespace(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const known = await connection.workflowService.describeNamespace({ namespace: NAMESPACE }).then(() => true, () => false);
    if (!known) {
      await connection.workflowService.registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs('1 day') });
    }
    const { customAttributes } = await whenServed(`namespace ${NAMESPACE}`, () => connection.operatorService.listSearchAttributes({ namespace: NAMESPACE }));
    const missing = Object.values(SearchAttributes).filter((k) => !(k.name in (customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace: NAMESPACE,
        searchAttributes: Object.fromEntries(missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
      });
    }
    await whenServed('medic\'s search attributes', () =>
      connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query: Object.values(SearchAttributes).map((k) => `${k.name} = 'none'`).join(' AND ') }),
    );
  } finally {
    await connection.close();
  }
}

export async function startTemporalServer(o: TemporalServerOptions): Promise<TemporalServer> {
  const parts = temporalServerParts(o.root);
  for (const p of [parts.server, parts.sqlTool, join(parts.schema, 'temporal', 'versioned')]) {
    if (!existsSync(p)) throw new Error(`missing ${p}: run "bash scripts/provision-temporal-server.sh" (scripts/provision.sh does it)`);
  }
  const postgres = o.postgres ?? (await startPostgres());
  const ownPostgres = o.postgres === undefined;
  const dir = await mkdtemp(join(tmpdir(), 'medic-temporal-server-'));
  let child: ChildProcess | undefined;
  const cleanUp = async (): Promise<void> => {
    await stopChild('SIGTERM');
    if (ownPostgres) await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const logFile = join(dir, 'temporal-server.log');
  const onExit = (): void => void child?.kill('SIGKILL'); // an aborted run leaves no server behind
  process.once('exit', onExit);

  async function stopChild(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await done;
    }
  }

  async function launch(address: string): Promise<void> {
    const log = openSync(logFile, 'a', 0o600);
    child = spawn(parts.server, ['--root', dir, '--config', 'config', '--env', 'medic', '--allow-no-auth', 'start'], { stdio: ['ignore', log, log], cwd: dir });
    closeSync(log);
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code, signal) => {
        const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-6).map((l) => l.slice(0, 400)).join('\n') : '';
        reject(new Error(`temporal-server exited (${code ?? signal}) before its frontend answered (log ${logFile}):\n${tail}`));
      }),
    );
    exited.catch(() => undefined); // after start-up, an exit is handled by restart()/stop()
    await Promise.race([waitForTemporal(address, 90_000), exited]);
  }

  try {
    const pg = new URL(postgres.url);
    await setupSchema(parts.sqlTool, parts.schema, pg, decodeURIComponent(pg.password));
    const ports = await allocatePorts();
    const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
    await writeFile(dynamicConfigFile, dynamicConfigYaml(o.dynamicConfig ?? LATENCY_DYNAMIC_CONFIG));
    await mkdir(join(dir, 'config'));
    // The config holds the database password: readable by this user only.
    await writeFile(join(dir, 'config', 'medic.yaml'), serverConfig(pg, ports, dynamicConfigFile, o.logLevel ?? 'warn'), { mode: 0o600 });
    const address = `127.0.0.1:${ports.frontend.grpcPort}`;
    await launch(address);
    await registerNamespace(address);
    return {
      address,
      namespace: NAMESPACE,
      postgres,
      get process() {
        return child!;
      },
      async restart(signal = 'SIGKILL') {
        await stopChild(signal);
        await launch(address);
      },
      async stop() {
        process.off('exit', onExit);
        await cleanUp();
      },
    };
  } catch (err) {
    process.off('exit', onExit);
    await cleanUp();
    throw err;
  }
}
