// Starts the provisioned Temporal CLI dev server as a child process, persisting to a SQLite file,
// with medic's search attributes registered. Used by the embedded demo and the benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../workflows/contracts.js';
import { waitForTemporal } from '../src/temporal/connect.js';
import { freePort } from './ports.js';

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
  /** Extra `start-dev` flags, e.g. --dynamic-config-value KEY=VALUE. */
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
  if (o.dbFile) args.push('--db-filename', o.dbFile);
  for (const name of SEARCH_ATTRIBUTE_REGISTRATIONS) args.push('--search-attribute', `${name}=Keyword`);
  args.push(...(o.extraArgs ?? []));
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
