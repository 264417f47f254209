// medic worker child processes for crash tests, killed with SIGKILL like a crashed host. Either
// the production entry point (src/worker.ts, polls at once) or test/support/worker-child.ts
// (built the same way, polls when told: a warm spare). Ready = the server lists the process as a
// poller of the incident task queue.
import { fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Playbook } from '../../src/playbooks/schema.js';
import { BUNDLE_PATH, ROOT } from './paths.js';
import { TEST_IDENTITY_KEY_TEXT } from './identity.js';

export interface WorkerProcess {
  child: ChildProcess;
  identity: string;
  /** Resolves when the worker is built (connected, bundle loaded); a held worker then waits for run(). */
  loaded: Promise<void>;
  /** Held workers: start polling. */
  run(): void;
  /** Resolves when the worker polls the task queue (the server lists its identity). */
  ready(timeoutMs?: number): Promise<void>;
  /** kill -9, and wait for the process to be gone. */
  kill(): Promise<void>;
}

/** A directory holding `playbooks` as files, for MEDIC_PLAYBOOKS of a worker process: it runs only
 * playbooks it loaded itself (src/playbooks/registry.ts). Removed when the test process exits. */
export function playbookDir(playbooks: Playbook[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'medic-playbooks-'));
  for (const pb of playbooks) writeFileSync(join(dir, `${pb.name}.yaml`), JSON.stringify(pb));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let bundleCopy: string | undefined;
/** This test process's own copy of the workflow bundle: a vitest run started meanwhile in the same
 * tree re-bundles BUNDLE_PATH, and workers loading other code would fail to replay (nondeterminism). */
export function privateBundle(): string {
  if (!bundleCopy) {
    bundleCopy = join(tmpdir(), `medic-workflow-bundle-${process.pid}.js`);
    copyFileSync(BUNDLE_PATH, bundleCopy);
    const path = bundleCopy;
    process.once('exit', () => rmSync(path, { force: true }));
  }
  return bundleCopy;
}

async function isPolling(client: Client, taskQueue: string, identity: string): Promise<boolean> {
  const r = await client.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (r.pollers ?? []).some((p) => p.identity === identity);
}

export function startWorkerProcess(o: {
  client: Client;
  address: string;
  taskQueue: string;
  /** Build it now, poll after run() (test/support/worker-child.ts). Default: src/worker.ts. */
  held?: boolean;
  /** The workflow bundle to load (benches bundle their own); default: a private copy of the tests'. */
  bundlePath?: string;
  env?: Record<string, string>;
}): WorkerProcess {
  let stderr = '';
  const entry = o.held ? join(ROOT, 'test/support/worker-child.ts') : join(ROOT, 'src/worker.ts');
  const child = fork(entry, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      MEDIC_TEMPORAL_ADDRESS: o.address,
      MEDIC_TEMPORAL_TASK_QUEUE: o.taskQueue,
      MEDIC_WORKFLOW_BUNDLE: o.bundlePath ?? privateBundle(),
      MEDIC_LOG_LEVEL: 'warn',
      MEDIC_IDENTITY_KEY: TEST_IDENTITY_KEY_TEXT,
      ...o.env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const identity = `${child.pid}@${hostname()}`; // the SDK's default worker identity
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4_000)));
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  const exitedEarly = (): Error => new Error(`worker exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`);
  const loaded = o.held
    ? new Promise<void>((resolve, reject) => {
        child.on('message', (m) => m === 'loaded' && resolve());
        void gone.then(() => reject(exitedEarly()));
      })
    : Promise.resolve();
  loaded.catch(() => undefined); // observed by ready()
  return {
    child,
    identity,
    loaded,
    run: () => void child.send('run'),
    async ready(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      await loaded;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw exitedEarly();
        if (await isPolling(o.client, o.taskQueue, identity).catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`worker ${identity} not polling after ${timeoutMs} ms: ${stderr.trim()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await gone;
    },
  };
}
