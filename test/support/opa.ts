// Open Policy Agent for the policy gate's tests (the binary from scripts/provision-opa.sh): an OPA
// server (`opa run --server`) on a free port, Wasm bundles built with `opa build -t wasm`, and
// `opa test`. A missing binary fails the test; it never skips.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../dev/ports.js';
import { opaPath, ROOT } from './paths.js';

const run = promisify(execFile);

function opaBin(): string {
  const bin = opaPath();
  if (!existsSync(bin)) throw new Error(`missing ${bin}: run "bash scripts/provision.sh" (npm test does it for you)`);
  return bin;
}

/** Runs the opa CLI; rejects with its output when it exits non-zero. */
export async function opa(args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(opaBin(), args, { maxBuffer: 8 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`opa ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** `opa build -t wasm -e <entrypoint>… --ignore '*_test.rego' -o <out> <paths>…`: the bundle the
 * in-process backend loads (without the policies' unit tests, which would be entrypoints too). */
export async function buildWasmBundle(paths: string[], entrypoints: string[], out: string): Promise<string> {
  await opa(['build', '-t', 'wasm', ...entrypoints.flatMap((e) => ['-e', e]), '--ignore', '*_test.rego', '-o', out, ...paths]);
  return out;
}

export interface OpaServer {
  url: string;
  /** Replaces (or adds) a policy module through the Policy API (PUT /v1/policies/<id>). */
  putPolicy(id: string, rego: string): Promise<Response>;
  stop(): Promise<void>;
}

/** `opa run --server` with these policy/data paths, answering on 127.0.0.1 once healthy. */
export async function startOpaServer(paths: string[], timeoutMs = 30_000): Promise<OpaServer> {
  const bin = opaBin();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(bin, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', ...paths], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`opa run --server exited with ${child.exitCode}:\n${stderr}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`opa did not answer on ${url} within ${timeoutMs}ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    putPolicy: (id, rego) => fetch(`${url}/v1/policies/${encodeURIComponent(id)}`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: rego }),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The shipped policies (policies/) both ways: an OPA server, and a Wasm bundle of `entrypoints`
 * in a temp dir of its own (`dir`, for a test's other files; removed by stop). */
export interface OpaBackends {
  server: OpaServer;
  bundle: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startOpaBackends(entrypoints: string[]): Promise<OpaBackends> {
  const policies = join(ROOT, 'policies');
  const dir = await mkdtemp(join(tmpdir(), 'medic-opa-'));
  const [server, bundle] = await Promise.allSettled([startOpaServer([policies]), buildWasmBundle([policies], entrypoints, join(dir, 'bundle.tar.gz'))]);
  const stop = async (): Promise<void> => {
    if (server.status === 'fulfilled') await server.value.stop();
    await rm(dir, { recursive: true, force: true });
  };
  if (server.status === 'rejected' || bundle.status === 'rejected') {
    await stop();
    throw server.status === 'rejected' ? server.reason : (bundle as PromiseRejectedResult).reason;
  }
  return { server: server.value, bundle: bundle.value, dir, stop };
}
