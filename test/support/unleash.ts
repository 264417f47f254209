// Unleash (the real feature-flag server, provisioned into .cache/unleash by scripts/provision.sh)
// on a throwaway PostgreSQL (dev/postgres.ts), for the `flag` action tests. Token auth is on:
// an admin token (what medic uses) and backend tokens per environment (what applications use) are
// created at start through INIT_*_API_TOKENS. A missing part fails the test; it never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort } from '../../dev/ports.js';
import { startPostgres } from '../../dev/postgres.js';
import { ROOT } from './paths.js';

export const unleashHome = (): string => process.env.MEDIC_UNLEASH_HOME ?? join(ROOT, '.cache/unleash');
const serverScript = (): string => join(unleashHome(), 'node_modules/unleash-server/dist/server.js');

export const ENVIRONMENTS = ['development', 'production'] as const;
export type UnleashEnvironment = (typeof ENVIRONMENTS)[number];

export interface UnleashEvent {
  type: string;
  environment?: string;
  featureName?: string;
  createdBy?: string;
}

export interface Unleash {
  url: string;
  /** Admin API token (`*:*.<secret>`): what medic is given. */
  adminToken: string;
  /** Backend (client) API tokens, one per environment: what applications evaluate flags with. */
  backendTokens: Record<UnleashEnvironment, string>;
  /** From spawning the server to /health answering GOOD (database migrations included). */
  startupMs: number;
  /** An admin API call with the admin token; throws unless the status is 2xx. */
  admin(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
  /** A release flag in the project (default `default`), off in every environment. */
  createFeature(name: string, project?: string): Promise<void>;
  /** Whether the flag is enabled in the environment, as the admin API reports it. */
  enabledIn(feature: string, environment: string, project?: string): Promise<boolean>;
  /** The flag's event log, newest first. */
  events(feature: string): Promise<UnleashEvent[]>;
  stop(): Promise<void>;
}

export async function startUnleash(timeoutMs = 120_000): Promise<Unleash> {
  const script = serverScript();
  if (!existsSync(script)) {
    throw new Error(`missing ${script}: run "bash scripts/provision.sh" (it installs unleash-server into .cache/unleash; npm test does it for you)`);
  }
  const pg = await startPostgres();
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const secret = (): string => randomBytes(16).toString('hex');
    const adminToken = `*:*.${secret()}`;
    const backendTokens = Object.fromEntries(ENVIRONMENTS.map((e) => [e, `*:${e}.${secret()}`])) as Record<UnleashEnvironment, string>;
    const started = Date.now();
    child = spawn(process.execPath, [script], {
      cwd: unleashHome(),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TZ: 'UTC',
        NODE_ENV: 'production',
        DATABASE_URL: pg.url,
        DATABASE_SSL: 'false',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        UNLEASH_URL: url,
        LOG_LEVEL: 'error',
        // No traffic leaves the machine: no version check, no telemetry.
        CHECK_VERSION: 'false',
        SEND_TELEMETRY: 'false',
        SCARF_ANALYTICS: 'false',
        AUTH_TYPE: 'open-source',
        INIT_ADMIN_API_TOKENS: adminToken,
        INIT_BACKEND_API_TOKENS: Object.values(backendTokens).join(','),
      },
    });
    const proc = child;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
    const onExit = (): void => void proc.kill('SIGKILL');
    process.once('exit', onExit);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`unleash-server exited (${proc.exitCode ?? proc.signalCode}) before it was healthy:\n${stderr}`);
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok && ((await res.json()) as { health?: string }).health === 'GOOD') break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`unleash-server not healthy on ${url} within ${timeoutMs}ms:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const startupMs = Date.now() - started;

    const admin = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: adminToken, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`Unleash ${method} ${path} answered ${res.status}: ${text}`);
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    };
    return {
      url,
      adminToken,
      backendTokens,
      startupMs,
      admin,
      async createFeature(name, project = 'default') {
        await admin('POST', `/api/admin/projects/${project}/features`, { name, type: 'release' });
      },
      async enabledIn(feature, environment, project = 'default') {
        const env = (await admin('GET', `/api/admin/projects/${project}/features/${feature}/environments/${environment}`)) as { enabled: boolean };
        return env.enabled;
      },
      async events(feature) {
        const res = (await admin('GET', `/api/admin/events/${encodeURIComponent(feature)}`)) as { events: UnleashEvent[] };
        return res.events;
      },
      async stop() {
        process.off('exit', onExit);
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise<void>((r) => proc.once('exit', () => r()));
          proc.kill('SIGTERM');
          const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(kill);
        }
        await pg.stop();
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    await pg.stop();
    throw err;
  }
}

/** The slice of unleash-client (Unleash's Node server SDK) an application uses to evaluate flags. */
export interface FlagClient {
  isEnabled(name: string, context?: Record<string, string>, fallbackValue?: boolean): boolean;
  destroy(): void;
}

interface UnleashClientModule {
  Unleash: new (config: Record<string, unknown>) => FlagClient & {
    start(): Promise<void>;
    isSynchronized(): boolean;
    on(event: 'error' | 'warn', cb: (e: unknown) => void): void;
  };
  InMemStorageProvider: new () => unknown;
}

/** An application's view of the flags: unleash-client (Unleash's Node server SDK, the version
 * unleash-server itself ships, from the same provisioned prefix) with a backend token,
 * refreshing every `refreshMs`; resolves once it has fetched the flags. */
export async function startFlagClient(unleash: Unleash, environment: UnleashEnvironment, refreshMs = 250, timeoutMs = 30_000): Promise<FlagClient> {
  const require = createRequire(join(unleashHome(), 'node_modules/unleash-server/package.json'));
  const sdk = require('unleash-client') as UnleashClientModule;
  const client = new sdk.Unleash({
    url: `${unleash.url}/api/`,
    appName: 'checkout',
    environment,
    customHeaders: { Authorization: unleash.backendTokens[environment] },
    refreshInterval: refreshMs,
    disableMetrics: true,
    disableAutoStart: true,
    storageProvider: new sdk.InMemStorageProvider(),
    skipInstanceCountWarning: true,
  });
  let lastError = '';
  // An EventEmitter without an 'error' listener would throw.
  client.on('error', (e) => void (lastError = e instanceof Error ? e.message : String(e)));
  client.on('warn', () => undefined);
  await client.start();
  const deadline = Date.now() + timeoutMs;
  while (!client.isSynchronized()) {
    if (Date.now() > deadline) {
      client.destroy();
      throw new Error(`unleash-client did not fetch the flags from ${unleash.url} within ${timeoutMs}ms${lastError ? `: ${lastError}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return client;
}

/** Polls the application's evaluation until it equals `expected` (the SDK refreshes on its own). */
export async function waitForEvaluation(client: FlagClient, feature: string, expected: boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (client.isEnabled(feature) !== expected) {
    if (Date.now() > deadline) return client.isEnabled(feature);
    await new Promise((r) => setTimeout(r, 100));
  }
  return expected;
}

