// Starts a throwaway PostgreSQL 15 (Debian's `postgresql` package) for tests and the demo:
// initdb into a temporary (or given) directory, postgres listening on a free port on 127.0.0.1
// only, its socket inside the data directory, a generated password (scram), durability traded for
// speed (fsync off). initdb and postgres refuse to run as root, so as root both run as the
// `postgres` system user the package creates (spawn's uid/gid: no intermediate process, so
// stop() signals postgres itself).
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

export interface StartedPostgres {
  /** postgres://medic:<password>@127.0.0.1:<port>/medic */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Data directory; kept (and reused when already initialised) when given, else a temp dir removed by stop().
   * As root its parents must be traversable by the postgres user (mkdtemp makes 0700 dirs: chmod 0755). */
  dataDir?: string;
}

/** Where Debian puts PostgreSQL 15; MEDIC_PG_BIN overrides (another major version or build). */
export function postgresBinDir(): string {
  return process.env.MEDIC_PG_BIN ?? '/usr/lib/postgresql/15/bin';
}

export function postgresInstalled(): boolean {
  const bin = postgresBinDir();
  return ['initdb', 'postgres', 'pg_isready'].every((b) => existsSync(join(bin, b)));
}

const PASSWORD_FILE = 'medic-dev-password';
const USER = 'medic';
const run = promisify(execFile);

interface RunAs {
  uid?: number;
  gid?: number;
}

/** As root: the `postgres` system user (created by the Debian package). */
function runAs(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0 || !Number.isInteger(gid)) {
    throw new Error('running as root, but there is no "postgres" user to run PostgreSQL as (initdb refuses root): install Debian\'s postgresql package');
  }
  return { uid, gid };
}

async function initialise(bin: string, dataDir: string, as: RunAs): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  const pwdir = await mkdtemp(join(tmpdir(), 'medic-pgpw-'));
  const pwfile = join(pwdir, 'pw');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (as.uid !== undefined) await Promise.all([chown(pwdir, as.uid, as.gid!), chown(pwfile, as.uid, as.gid!)]);
  try {
    await run(join(bin, 'initdb'), ['-D', dataDir, '-U', USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      ...as,
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`initdb failed in ${dataDir}: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  } finally {
    await rm(pwdir, { recursive: true, force: true });
  }
  await writeFile(join(dataDir, PASSWORD_FILE), password, { mode: 0o600 });
  if (as.uid !== undefined) await chown(join(dataDir, PASSWORD_FILE), as.uid, as.gid!);
  return password;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    // SIGINT = fast shutdown; SIGQUIT = immediate; SIGKILL as the last resort.
    const quit = setTimeout(() => child.kill('SIGQUIT'), 10_000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(quit);
      clearTimeout(kill);
      done();
    });
    child.kill('SIGINT');
  });
}

async function waitReady(bin: string, port: number, child: ChildProcess, logFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
      throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}) before accepting connections:\n${log}`);
    }
    try {
      await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-t', '2']);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(`postgres not accepting connections on 127.0.0.1:${port} within ${timeoutMs} ms (log: ${logFile})`);
}

/** Creates the `medic` database once (initdb makes only `postgres`). */
async function ensureDatabase(bin: string, port: number, password: string): Promise<void> {
  const env = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' };
  const psql = (sql: string): Promise<{ stdout: string }> =>
    run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', USER, '-d', 'postgres', '-Atqc', sql], { env });
  const { stdout } = await psql(`SELECT 1 FROM pg_database WHERE datname = '${USER}'`);
  if (stdout.trim() !== '1') await psql(`CREATE DATABASE ${USER}`);
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<StartedPostgres> {
  const bin = postgresBinDir();
  if (!postgresInstalled()) {
    throw new Error(`PostgreSQL binaries not found in ${bin} (initdb, postgres, pg_isready): run "bash scripts/provision.sh" (Debian postgresql) or set MEDIC_PG_BIN`);
  }
  const as = runAs();
  const temp = opts.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'medic-pg-')) : undefined;
  const dataDir = resolve(opts.dataDir ?? join(temp!, 'data'));
  if (as.uid !== undefined) {
    if (temp) await chown(temp, as.uid, as.gid!);
    await mkdir(dirname(dataDir), { recursive: true }); // parents stay 0755: postgres must traverse them
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chown(dataDir, as.uid, as.gid!);
    const reach = spawnSync('test', ['-w', dataDir], as);
    if (reach.status !== 0) throw new Error(`the postgres user cannot write ${dataDir} (a parent directory is closed to it): choose a data dir under ${tmpdir()}`);
  }
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  const password = fresh ? await initialise(bin, dataDir, as) : (await readFile(join(dataDir, PASSWORD_FILE), 'utf8').catch(() => {
    throw new Error(`${dataDir} holds a PostgreSQL cluster not made by startPostgres (no ${PASSWORD_FILE})`);
  })).trim();

  // A Unix socket path must fit in 107 bytes; past that, TCP only.
  const socketDir = join(dataDir, '.s.PGSQL.65535').length < 100 ? dataDir : '';
  const logFile = join(dataDir, 'medic-postgres.log');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const log = openSync(logFile, 'a', 0o600);
    const child = spawn(
      join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`,
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=50', '-c', 'shared_buffers=32MB'],
      { ...as, cwd: '/', stdio: ['ignore', log, log], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } },
    );
    closeSync(log);
    // An aborted test run must not leave postgres behind.
    const onExit = (): void => void child.kill('SIGQUIT');
    process.once('exit', onExit);
    const stop = async (): Promise<void> => {
      process.off('exit', onExit);
      await stopProcess(child);
      if (temp) await rm(temp, { recursive: true, force: true });
    };
    try {
      await waitReady(bin, port, child, logFile);
      await ensureDatabase(bin, port, password);
      return { url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${USER}`, port, stop };
    } catch (err) {
      lastError = err;
      process.off('exit', onExit);
      await stopProcess(child);
      // A port taken between freePort() and bind: try another; anything else is final.
      if (!/could not (bind|create listen)/i.test(String((err as Error).message))) break;
    }
  }
  if (temp) await rm(temp, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
