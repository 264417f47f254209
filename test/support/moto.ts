// moto in server mode: the real AWS SSM API for the SSM action tests (provisioned into
// .cache/moto-venv by scripts/provision.sh). A missing moto fails the test; it never skips.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { freePort } from '../../src/dev/ports.js';
import { ROOT } from './paths.js';

export const motoServerPath = (): string => process.env.MEDIC_MOTO_SERVER ?? join(ROOT, '.cache/bin/moto_server');

export interface Moto {
  url: string;
  /** An SDK client pointed at moto (dummy credentials; moto accepts any). */
  ssm: SSMClient;
  /** Forgets every command and resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** The standard AWS chain reads these; moto accepts any credentials. */
export function useMotoCredentials(): void {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

export async function startMoto(timeoutMs = 30_000): Promise<Moto> {
  const bin = motoServerPath();
  if (!existsSync(bin)) throw new Error(`missing ${bin}: run "bash scripts/provision.sh" (npm test does it for you)`);
  useMotoCredentials();
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}:\n${stderr}`);
    try {
      if ((await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`moto_server did not answer on ${url} within ${timeoutMs}ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const ssm = new SSMClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  return {
    url,
    ssm,
    async reset() {
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
    async stop() {
      ssm.destroy();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
