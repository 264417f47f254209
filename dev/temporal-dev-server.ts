// Starts the provisioned Temporal CLI dev server as a child process, persisting to a SQLite file,
// with medic's search attributes registered, medic's dispatch settings (dev/temporal-dynamic-config.ts)
// and, for a file, SQLITE_PRAGMAS. Used by the embedded demo and the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../workflows/contracts.js';
import { waitForTemporal } from '../src/temporal/connect.js';
import { freePort } from './ports.js';
import { dynamicConfigArgs, LATENCY_DYNAMIC_CONFIG } from './temporal-dynamic-config.js';

/** The Temporal CLI `npm start` chose (scripts/provision-demo.sh writes <cache>/demo.env);
 * MEDIC_TEMPORAL_CLI wins, and without demo.env (tests run the demo directly) the provisioned one. */
export function demoTemporalCliPath(root: string): string {
  if (process.env.MEDIC_TEMPORAL_CLI) return process.env.MEDIC_TEMPORAL_CLI;
  const env = join(process.env.MEDIC_CACHE_DIR ?? join(root, '.cache'), 'demo.env');
  const line = existsSync(env) ? readFileSync(env, 'utf8').split('\n').find((l) => l.startsWith('MEDIC_TEMPORAL_CLI=')) : undefined;
  return line ? line.slice('MEDIC_TEMPORAL_CLI='.length).trim() : temporalCliPath(root);
}

export function temporalCliPath(root: string): string {
  if (process.env.MEDIC_TEMPORAL_CLI) return process.env.MEDIC_TEMPORAL_CLI;
  const env = join(root, '.cache', 'provision.env');
  if (existsSync(env)) {
    const line = readFileSync(env, 'utf8').split('\n').find((l) => l.startsWith('MEDIC_TEMPORAL_CLI='));
    if (line) return line.slice('MEDIC_TEMPORAL_CLI='.length).trim();
  }
  return join(root, '.cache', 'bin', 'temporal');
}

/**
 * SQLite settings for a file-backed dev server (the demo): write-ahead log, fsync at checkpoints
 * rather than at every commit. A commit survives a crash of the server process (not a power cut
 * of the machine). Measured by `npm run bench:latency` (variants file+both vs adopted): with
 * SQLite's defaults every start and every task dispatch waited on an fsync, several times the
 * in-memory server's latency on a busy disk; with these, the file costs about what memory does.
 */
export const SQLITE_PRAGMAS: Readonly<Record<string, string>> = { journal_mode: 'wal', synchronous: 'normal' };

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(o: {
  root: string;
  /** The Temporal CLI to run; default temporalCliPath(root). */
  cli?: string;
  dbFile?: string;
  port?: number;
  uiPort?: number;
  ui?: boolean;
  /** Dynamic config; default medic's LATENCY_DYNAMIC_CONFIG ({} for the server's own defaults). */
  dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
  /** SQLite pragmas for dbFile; default SQLITE_PRAGMAS ({} for SQLite's own defaults). */
  sqlitePragmas?: Readonly<Record<string, string>>;
  /** Extra `start-dev` flags. */
  extraArgs?: string[];
  /** In its own process group, so a terminal's Ctrl-C reaches only the caller, which stops the
   * server last (after its workers); the caller must then handle SIGINT (the demo does). */
  ownProcessGroup?: boolean;
}): Promise<DevServer> {
  const cli = o.cli ?? temporalCliPath(o.root);
  if (!existsSync(cli)) throw new Error(`Temporal CLI not found at ${cli}: run "bash scripts/provision.sh"`);
  const port = await freePort(o.port ?? 7233);
  const uiPort = await freePort(o.uiPort ?? 8233);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  args.push(...(o.ui === false ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (o.dbFile) args.push('--db-filename', o.dbFile, ...Object.entries(o.sqlitePragmas ?? SQLITE_PRAGMAS).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]));
  for (const name of SEARCH_ATTRIBUTE_REGISTRATIONS) args.push('--search-attribute', `${name}=Keyword`);
  args.push(...dynamicConfigArgs({ ...(o.dynamicConfig ?? LATENCY_DYNAMIC_CONFIG) }), ...(o.extraArgs ?? []));
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: o.ownProcessGroup === true });
  if (o.ownProcessGroup) {
    const killOnExit = (): void => void child.kill('SIGKILL'); // the group no longer dies with us
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`temporal dev server exited (${code}): ${stderr.trim()}`))),
  );
  exited.catch(() => undefined); // after start-up, an exit is handled by stop()
  const address = `127.0.0.1:${port}`;
  await Promise.race([waitForTemporal(address), exited]);
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
